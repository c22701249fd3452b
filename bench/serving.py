"""Latency (p50/p95) and throughput of the exported LGGAN++ SavedModel at Cityscapes size on this CPU.

    python bench/serving.py --json [--batches 1,8] [--calls 5] [--dtypes float32,bfloat16] [--baseline]

Builds an untrained full-size LGGAN++ from a config (Cityscapes: 35 classes + instance edges, 256x512, ngf 64,
spade_hidden 128, SAU everywhere), exports it with exports.export_saved_model.export_generator once in float32 and
once with `--compute_dtype bfloat16` semantics (mixed_bfloat16, same weights), loads each with tf.saved_model.load
and times `serving_default` (int32 label map -> uint8 image, the TF Serving path minus the network). One warm-up
call per batch size, then `--calls` timed calls. Prints one JSON line per (dtype, batch), then the bf16 vs float32
output difference (uint8 levels) and the goal check (float32 batch 1 < 5 s, bf16 < 3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOALS_S = {"float32": 5.0, "bfloat16": 3.0}


def build_generator(policy: str, weights: str | None):
    import keras
    import tensorflow as tf

    from lggan_tf.train_config import TrainConfig
    from lggan_tf.train_setup import build_models, resolve_run

    keras.mixed_precision.set_global_policy(policy)
    config = TrainConfig(dataset="cityscapes", model="lggan", upsampler="sau", ngf=64, spade_hidden=128,
                         height=256, width=512, mixed_precision="float32")
    plan = resolve_run(config, count=False)
    generator, _ = build_models(config, plan)
    checkpoint = tf.train.Checkpoint(generator=generator)
    if weights:
        checkpoint.read(weights).expect_partial().assert_existing_objects_matched()
    keras.mixed_precision.set_global_policy("float32")
    return generator, plan, checkpoint


def label_maps(batch: int, label_nc: int = 35, h: int = 256, w: int = 512):
    import numpy as np

    rng = np.random.default_rng(0)
    cells = np.stack([rng.permutation(np.resize(np.arange(label_nc), 16 * 32)).reshape(16, 32) for _ in range(batch)])
    return np.kron(cells, np.ones((h // 16, w // 32), np.int64)).astype(np.int32)


def time_signature(fn, labels, calls: int) -> tuple[dict, object]:
    import numpy as np

    start = time.perf_counter()
    out = fn(label_map=labels)["image"].numpy()
    first = time.perf_counter() - start
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(label_map=labels)["image"].numpy()
        times.append(time.perf_counter() - start)
    times = np.array(times)
    return {"first_call_s": round(first, 3), "p50_s": round(float(np.percentile(times, 50)), 3),
            "p95_s": round(float(np.percentile(times, 95)), 3),
            "images_per_s": round(len(labels) / float(np.median(times)), 3), "calls": calls}, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="JSON lines only")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--baseline", action="store_true", help="also time the generator as a plain tf.function")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from exports.export_saved_model import export_generator

    batches = [int(b) for b in args.batches.split(",")]
    dtypes = args.dtypes.split(",")
    work = tempfile.mkdtemp(prefix="bench-serving-")
    generator, plan, checkpoint = build_generator("float32", None)
    weights = checkpoint.write(os.path.join(work, "weights"))
    outputs, rows = {}, []
    for dtype in dtypes:
        if dtype != "float32":
            generator, plan, _ = build_generator("mixed_bfloat16", weights)
        start = time.perf_counter()
        path = export_generator(generator, plan.spec, plan.height, plan.width, os.path.join(work, dtype), step=1)
        export_s = time.perf_counter() - start
        serving = tf.saved_model.load(path).signatures["serving_default"]
        if args.baseline:  # the same generator as a plain tf.function (no export), batch 1
            from datasets.transforms import semantic_from_labels
            from exports.serving import to_uint8

            direct = tf.function(lambda label_map: {"image": to_uint8(generator(
                semantic_from_labels(label_map, None, plan.spec), training=False)["image"])})
            row, _ = time_signature(direct, tf.constant(label_maps(1)), args.calls)
            print(json.dumps({"bench": "tf.function_baseline", "compute_dtype": dtype, "batch": 1, **row}), flush=True)
        for batch in batches:
            row, out = time_signature(serving, label_maps(batch), args.calls)
            row = {"bench": "serving_default", "model": "lggan++ cityscapes 256x512 ngf64", "compute_dtype": dtype,
                   "batch": batch, **row, "export_s": round(export_s, 1)}
            outputs[(dtype, batch)] = out
            rows.append(row)
            print(json.dumps(row), flush=True)
    if "float32" in dtypes and "bfloat16" in dtypes:
        for batch in batches:
            diff = np.abs(outputs[("bfloat16", batch)].astype(np.int16) - outputs[("float32", batch)].astype(np.int16))
            print(json.dumps({"bench": "bf16_vs_float32", "batch": batch, "max_abs_diff_uint8": int(diff.max()),
                              "mean_abs_diff_uint8": round(float(diff.mean()), 4),
                              "fraction_pixels_differing": round(float((diff > 0).mean()), 4)}), flush=True)
    for row in rows:
        if row["batch"] == 1 and row["compute_dtype"] in GOALS_S:
            goal = GOALS_S[row["compute_dtype"]]
            print(json.dumps({"bench": "goal", "compute_dtype": row["compute_dtype"], "p50_s": row["p50_s"],
                              "goal_s": goal, "met": row["p50_s"] < goal}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
