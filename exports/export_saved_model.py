"""Export a trained run as a versioned SavedModel for TF Serving.

    python -m exports.export_saved_model --model_dir runs/synthetic-lggan-sau --export_dir exported/lggan

writes exported/lggan/<version>/ (version = the checkpoint step, else the next free integer: the layout
`tensorflow_model_server --model_base_path` watches) with the signatures of exports/serving.py (label map -> image
for synthesis runs; input view + target semantic map + target class ids -> target view for cross-view runs),
assets/classes.json (class names, palette, sizes) and assets.extra/tf_serving_warmup_requests. The version is
written to <export_dir>/.tmp-<version> and renamed when complete, so an interrupted export leaves no version
directory behind (TF Serving ignores non-integer folder names).
"""

from __future__ import annotations

import json
import os
import shutil
import sys

from lggan_tf.run_dir import replace_dir

CLASSES_ASSET = os.path.join("assets", "classes.json")
WARMUP_ASSET = os.path.join("assets.extra", "tf_serving_warmup_requests")


class ExportError(ValueError):
    """The export cannot be written; the message names the argument and what to do."""


def existing_versions(export_dir: str) -> list[int]:
    if not os.path.isdir(export_dir):
        return []
    return sorted(int(n) for n in os.listdir(export_dir) if n.isdigit() and os.path.isdir(os.path.join(export_dir, n)))


def choose_version(export_dir: str, step: int | None, version: int = 0, overwrite: bool = False) -> int:
    """`version` if given, else the checkpoint step (when > 0), else the next free integer (>= 1)."""
    chosen = version or step or (max(existing_versions(export_dir), default=0) + 1)
    if chosen in existing_versions(export_dir) and not overwrite:
        raise ExportError(f"--export_dir={export_dir!r} already has version {chosen} (checkpoint step {step}); pass "
                          "--overwrite to replace it, or --version to write another number")
    return int(chosen)


def write_assets(path: str, contract) -> None:
    os.makedirs(os.path.join(path, "assets"), exist_ok=True)
    with open(os.path.join(path, CLASSES_ASSET), "w") as f:
        json.dump(contract.to_json_dict(), f, indent=1)


def write_warmup_requests(path: str, contract, model_name: str) -> None:
    """assets.extra/tf_serving_warmup_requests: one PredictionLog for serving_default on all-zero / void inputs
    (encoded with core TF only: exports/warmup.py)."""
    from exports.serving import ENDPOINT_SETS
    from exports.warmup import encode_predict_log, write_warmup_file

    inputs = ENDPOINT_SETS[contract.task].warmup_inputs(contract)
    write_warmup_file(path, [encode_predict_log(model_name, "serving_default", inputs)], WARMUP_ASSET)


def export_run(model_dir: str, export_dir: str, checkpoint: str | None = None, compute_dtype: str = "float32",
               batch_size: int | None = None, version: int = 0, overwrite: bool = False,
               model_name: str = "lggan") -> str:
    """Export the run's generator; returns the version directory written."""
    import keras

    from lggan_tf.checkpoints import checkpoint_step
    from lggan_tf.inference import latest_checkpoint, load_run

    if compute_dtype not in ("float32", "bfloat16"):
        raise ExportError(f"--compute_dtype={compute_dtype!r}: expected 'float32' or 'bfloat16'")
    if batch_size is not None and batch_size < 1:
        raise ExportError(f"--batch_size={batch_size}: expected a positive integer or 'dynamic'")
    found = checkpoint or latest_checkpoint(model_dir)
    if found:  # fail before building the model when the version exists
        choose_version(export_dir, checkpoint_step(found), version, overwrite)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if compute_dtype == "bfloat16" else "float32")
    try:
        run = load_run(model_dir, checkpoint)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    mean_codes = None
    if run.config.model == "sean":
        from lggan_tf.mean_style_codes import MEAN_CODES_FILE, load_mean_codes

        path = os.path.join(model_dir, MEAN_CODES_FILE)
        if os.path.isfile(path):
            mean_codes = load_mean_codes(path, run.generator.semantic_nc, run.generator.style_dim)
    return export_generator(run.generator, run.plan.spec, run.plan.height, run.plan.width, export_dir,
                            step=run.step, batch_size=batch_size, version=version, overwrite=overwrite,
                            model_name=model_name, mean_codes=mean_codes)


def export_generator(generator, spec, height: int, width: int, export_dir: str, step: int | None = None,
                     batch_size: int | None = None, version: int = 0, overwrite: bool = False,
                     model_name: str = "lggan", mean_codes=None) -> str:
    """Write `export_dir/<version>/` for a built generator (atomically: .tmp-<version>, then rename); the
    signatures are those of the spec's task (exports/serving.py). SEAN:
    `mean_codes` [S, D] for the label-only signatures (<model_dir>/mean_style_codes.npz when exporting a run)."""
    import dataclasses

    from exports.serving import ServingContract, build_archive

    version = choose_version(export_dir, step, version, overwrite)
    contract = ServingContract.from_spec(spec, height, width, batch_size, task=spec.task)
    if getattr(generator, "takes_style_image", False):
        contract = dataclasses.replace(contract, style_dim=generator.style_dim,
                                       mean_style_codes=mean_codes is not None)
    final = os.path.join(export_dir, str(version))
    tmp = os.path.join(export_dir, f".tmp-{version}")
    os.makedirs(export_dir, exist_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)  # left by an export that was killed
    try:
        build_archive(generator, contract, mean_codes).write_out(tmp, verbose=False)
        write_assets(tmp, contract)
        write_warmup_requests(tmp, contract, model_name)
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def latest_version_dir(export_dir: str) -> str:
    """The highest-numbered version directory under export_dir (or export_dir itself when it is a SavedModel)."""
    if os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        return export_dir
    versions = existing_versions(export_dir)
    if not versions:
        raise ExportError(f"--export_dir={export_dir!r} has no numbered version directory with a SavedModel; "
                          "run python -m exports.export_saved_model first")
    return os.path.join(export_dir, str(versions[-1]))


def read_contract(version_dir: str) -> dict:
    """assets/classes.json of an export (class names, palette, sizes, channel layout)."""
    path = os.path.join(version_dir, CLASSES_ASSET)
    if not os.path.exists(path):
        raise ExportError(f"{path} not found: {version_dir!r} is not an export of exports.export_saved_model")
    with open(path) as f:
        return json.load(f)


def _parse_batch_size(value: str) -> int | None:
    if value == "dynamic":
        return None
    if not value.isdigit() or int(value) < 1:
        raise ExportError(f"--batch_size={value!r}: expected a positive integer or 'dynamic'")
    return int(value)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m exports.export_saved_model", description=__doc__.split("\n")[0])
    parser.add_argument("--model_dir", required=True, help="run directory written by train.py")
    parser.add_argument("--checkpoint", default=None, help="checkpoint prefix (default: the run's latest)")
    parser.add_argument("--export_dir", required=True, help="model base path; the version goes in a subfolder")
    parser.add_argument("--compute_dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--batch_size", default="dynamic", help="fixed batch size, or 'dynamic' (default)")
    parser.add_argument("--version", type=int, default=0, help="version number (default: the checkpoint step)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing version")
    parser.add_argument("--model_name", default="lggan", help="model name used in the warm-up request")
    args = parser.parse_args(argv)
    from lggan_tf.inference import RunLoadError

    try:
        path = export_run(args.model_dir, args.export_dir, args.checkpoint, args.compute_dtype,
                          _parse_batch_size(args.batch_size), args.version, args.overwrite, args.model_name)
    except (ExportError, RunLoadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"export": path, "version": int(os.path.basename(path))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
