"""Load a trained generator from a run directory (for evaluation, export and serving).

    run = load_run("runs/synthetic-lggan-sau")            # latest checkpoint
    out = run.generator(semantic, training=False)         # dict: image, image_global, ...

The model is rebuilt from the run's `config.json` (the same `resolve_run` / `build_models` the trainer uses) and
only the generator is restored from the checkpoint (the discriminator and optimizers are skipped).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from lggan_tf.checkpoints import checkpoint_step
from lggan_tf.run_dir import RunDir
from lggan_tf.train_config import TrainConfig


class RunLoadError(ValueError):
    """The run directory or checkpoint cannot be loaded; the message says what is missing."""


@dataclasses.dataclass(frozen=True)
class LoadedRun:
    """config: TrainConfig; plan: trainer RunPlan (spec, height, width, semantic_nc, palette);
    generator: the restored Keras layer; checkpoint: the restored prefix; step: its global step."""

    config: TrainConfig
    plan: object
    generator: object
    checkpoint: str
    step: int


def generate_batch(generator, batch, training=False) -> dict:
    """Generator outputs for a dataset batch: SEAN takes the batch's image as its style image (reconstruction, as
    the official SEAN test.py); the other generators take the label map only."""
    if getattr(generator, "takes_style_image", False):
        return generator(batch["semantic"], batch["image"], training=training)
    return generator(batch["semantic"], training=training)


def latest_checkpoint(model_dir: str) -> str | None:
    return tf.train.latest_checkpoint(RunDir(model_dir).checkpoints)


def load_run(model_dir: str, checkpoint: str | None = None, config_overrides: dict | None = None) -> LoadedRun:
    """Rebuild the generator of `model_dir` and restore `checkpoint` (default: the latest in model_dir)."""
    from lggan_tf.train_setup import build_models, resolve_run

    record = RunDir(model_dir).read_config()
    if record is None:
        raise RunLoadError(f"--model_dir={model_dir!r} has no config.json; pass the run directory written by "
                           "train.py")
    config = TrainConfig.from_dict(record.get("config", record))
    if config_overrides:
        config = config.replace(**config_overrides)
    checkpoint = checkpoint or latest_checkpoint(model_dir)
    if checkpoint is None:
        raise RunLoadError(f"no checkpoint in {RunDir(model_dir).checkpoints}; train first or pass --checkpoint")
    if not tf.io.gfile.exists(checkpoint + ".index"):
        raise RunLoadError(f"checkpoint {checkpoint!r} not found (expected {checkpoint}.index)")
    plan = resolve_run(config, count=False)
    generator, _ = build_models(config, plan)
    status = tf.train.Checkpoint(generator=generator).read(checkpoint).expect_partial()
    try:
        status.assert_existing_objects_matched()
    except AssertionError as err:
        raise RunLoadError(f"checkpoint {checkpoint!r} does not match the generator built from "
                           f"{model_dir}/config.json ({str(err)[:300]}); was config.json edited?") from err
    return LoadedRun(config, plan, generator, checkpoint, checkpoint_step(checkpoint))


__all__ = ["LoadedRun", "RunLoadError", "generate_batch", "latest_checkpoint", "load_run"]
