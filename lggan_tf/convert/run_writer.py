"""Convert official PyTorch checkpoints into a normal lggan-tf run directory (config.json, flags.txt, checkpoint).

    config = converted_config("lggan", base_config("cityscapes", "lggan", "flags"))   # official_config
    summary = convert_checkpoints("lggan", config, "runs/official-lggan-cityscapes",
                                  generator="latest_net_G.pth", discriminator="latest_net_D.pth")

The models are built from the config by the same `resolve_run` / `build_models` / `build_optimizers` that train.py
uses, the official weights are assigned (lggan_tf.convert.mapping_*), and the checkpoint holds everything a training
run's does (G, D, both Adam optimisers, step 0, epoch 0), so evaluate.py, the export, the demo and train.py
(fine-tuning: resume from step 0) read it unchanged. The run is written into a sibling temp folder and renamed into
place: a failed conversion leaves nothing at model_dir.
"""

from __future__ import annotations

import dataclasses
import os
import shutil

import keras
import tensorflow as tf

from lggan_tf.convert.mapping_common import CheckpointMismatch, StateConsumer
from lggan_tf.convert.mapping_cross_view import map_cross_view_generator, map_patch_discriminator
from lggan_tf.convert.mapping_sis import (map_gaugan_generator, map_lggan_generator, map_multiscale_discriminator,
                                          map_vae_encoder)
from lggan_tf.convert.official_config import OFFICIAL_OVERRIDES, ConversionError, model_name
from lggan_tf.convert.suggest import suggestion
from lggan_tf.train_config import TrainConfig


@dataclasses.dataclass
class ConvertedModels:
    """The built, converted models and one summary per converted file."""

    config: TrainConfig
    plan: object
    generator: object
    discriminator: object
    summaries: list


def _describe_target(config: TrainConfig, role: str) -> str:
    return (f"the {role} of --model={model_name(config)} --dataset={config.dataset} (ngf {config.ngf}, "
            f"ndf {config.ndf}" + (f", SPADE hidden {config.spade_hidden}" if config.task == "synthesis" else "") + ")")


def _consume(state, source, role, config, mapper, target) -> dict:
    consumer = StateConsumer(state, source)
    mapper(consumer, target)
    consumer.check(_describe_target(config, role), suggestion(state, role))
    consumer.apply()
    return {"role": role, **consumer.summary()}


def convert_state_dicts(config: TrainConfig, generator, discriminator=None, discriminator2=None, encoder=None,
                        sources=None) -> ConvertedModels:
    """Build the models of `config` (float32) and assign the official state_dicts ({key: np.ndarray}).

    generator: latest_net_G; discriminator: latest_net_D (SIS: the multiscale D) or cross-view latest_net_D1 (D_i);
    discriminator2: cross-view latest_net_D2 (D_s); encoder: SPADE latest_net_E (VAE). A D that is not given
    keeps its fresh initialisation (as train.py would build it). Raises CheckpointMismatch naming the keys.
    """
    from lggan_tf.train_setup import build_models, resolve_run

    sources = dict(sources or {})
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("float32")
    try:
        plan = resolve_run(config, count=False)
        g, d = build_models(config, plan)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    cross_view = config.task == "cross_view"
    summaries = []
    if encoder is not None:
        if not getattr(g, "use_vae", False):
            raise ConversionError("--pytorch_encoder is the GauGAN VAE encoder (latest_net_E.pth); it needs "
                                  "--model=gaugan")
        summaries.append(_consume(encoder, sources.get("encoder", "encoder"), "VAE encoder", config,
                                  map_vae_encoder, g.encoder))
    g_mapper = map_cross_view_generator if cross_view else (
        map_lggan_generator if config.model == "lggan" else map_gaugan_generator)
    summaries.insert(0, _consume(generator, sources.get("generator", "generator"), "generator", config, g_mapper, g))
    if discriminator2 is not None and not cross_view:
        raise ConversionError("--pytorch_discriminator2 is the cross-view D_s (latest_net_D2.pth); it needs "
                              "--model=lggan_cv")
    for state, role, key in ((discriminator, "discriminator", "discriminator"),
                             (discriminator2, "discriminator D_s", "discriminator2")):
        if state is None:
            continue
        if cross_view:
            target = d.d_image if key == "discriminator" else d.d_semantic
            summaries.append(_consume(state, sources.get(key, key), role, config, map_patch_discriminator, target))
        else:
            summaries.append(_consume(state, sources.get(key, key), role, config, map_multiscale_discriminator, d))
    return ConvertedModels(config, plan, g, d, summaries)


def flags_text(config: TrainConfig) -> str:
    """flags.txt replaying `config` with train.py (one --flag per TrainConfig field)."""
    lines = ["# Converted from official PyTorch checkpoints (python -m lggan_tf.convert); replay or fine-tune with",
             "# python train.py --flagfile=<model_dir>/flags.txt --data_dir=<dataset> [--train_steps=N]"]
    for key, value in config.to_dict().items():
        if key == "ttur":
            key, value = "no_ttur", not value
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append(f"--{key}={value}")
    return "\n".join(lines) + "\n"


def write_run(models: ConvertedModels, model_dir: str, overwrite: bool = False, extra: dict | None = None) -> str:
    """Write config.json, flags.txt and checkpoints/ckpt-0 (G, D, fresh optimisers, step 0) aside, then rename
    the folder to `model_dir`. Returns the checkpoint prefix inside model_dir."""
    from lggan_tf.checkpoints import AtomicCheckpointManager
    from lggan_tf.run_dir import RunDir, replace_dir
    from lggan_tf.train_setup import build_optimizers

    model_dir = os.path.normpath(model_dir)
    if os.path.exists(model_dir) and not overwrite and (not os.path.isdir(model_dir) or os.listdir(model_dir)):
        raise ConversionError(f"--model_dir={model_dir!r} already exists; choose a new directory or pass "
                              "--overwrite")
    parent = os.path.dirname(os.path.abspath(model_dir))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as err:
        raise ConversionError(f"--model_dir={model_dir!r}: cannot create {parent} ({err})") from err
    tmp = os.path.join(parent, f".{os.path.basename(model_dir)}.converting-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    config = models.config.replace(model_dir=model_dir)
    try:
        run_dir = RunDir(tmp)
        run_dir.create()
        g_opt, d_opt = build_optimizers(config, "float32", models.generator, models.discriminator)
        checkpoint = tf.train.Checkpoint(
            generator=models.generator, discriminator=models.discriminator, g_optimizer=g_opt, d_optimizer=d_opt,
            step=tf.Variable(0, dtype=tf.int64, name="step"), epoch=tf.Variable(0, dtype=tf.int64, name="epoch"),
            data_position=tf.Variable(0, dtype=tf.int64, name="data_position"))
        prefix = AtomicCheckpointManager(checkpoint, run_dir.checkpoints, max_to_keep=config.keep_checkpoints).save(0)
        record = {"config": config.to_dict(),
                  "resolved": {**models.plan.describe(), "precision": "float32", "tensorflow": tf.__version__,
                               "keras": keras.__version__},
                  "converted_from": {"official_overrides": OFFICIAL_OVERRIDES[model_name(config)],
                                     "files": models.summaries, **(extra or {})}}
        run_dir.write_config(record)
        run_dir.write_flags(flags_text(config))
        replace_dir(tmp, model_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return os.path.join(model_dir, "checkpoints", os.path.basename(prefix))


def summary_line(summaries, model_dir: str) -> str:
    """'converted N files into DIR: generator 364 keys -> 312 variables, 35 dead keys skipped (fc, ...); ...'."""
    parts = []
    for s in summaries:
        dead = s["dead_keys"]
        kinds = sorted({k.rsplit(".", 1)[-1] if k.endswith("num_batches_tracked") else k.rsplit(".", 1)[0]
                        for k in dead})
        parts.append(f"{s['role']} {s['file']}: {s['keys']} keys -> {s['assigned_variables']} variables, "
                     f"{len(dead)} dead keys skipped ({', '.join(kinds) or 'none'})")
    return f"converted into {model_dir}: " + "; ".join(parts)


def convert_checkpoints(model: str, config: TrainConfig, model_dir: str, generator: str, discriminator=None,
                        discriminator2=None, encoder=None, overwrite: bool = False) -> dict:
    """Read the .pth files (torch-free reader), convert, write the run. Returns {'checkpoint', 'summaries',
    'message'}. Raises ConversionError / CheckpointMismatch / pth_reader.CheckpointError (all ValueError)."""
    from lggan_tf.convert.pth_reader import load_state_dict

    if model != model_name(config):
        raise ConversionError(f"--model={model} but the config is for --model={model_name(config)}")
    paths = {"generator": generator, "discriminator": discriminator, "discriminator2": discriminator2,
             "encoder": encoder}
    states = {role: (load_state_dict(path) if path else None) for role, path in paths.items()}
    models = convert_state_dicts(config, states["generator"], states["discriminator"], states["discriminator2"],
                                 states["encoder"], sources={r: p for r, p in paths.items() if p})
    checkpoint = write_run(models, model_dir, overwrite)
    return {"checkpoint": checkpoint, "summaries": models.summaries,
            "message": summary_line(models.summaries, model_dir)}


__all__ = ["CheckpointMismatch", "ConversionError", "ConvertedModels", "convert_checkpoints", "convert_state_dicts",
           "flags_text", "summary_line", "write_run"]
