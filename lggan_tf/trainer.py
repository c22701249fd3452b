"""Training driver for semantic image synthesis and cross-view translation: `train(TrainConfig)` (train.py is a thin
flag wrapper).

Setup: precision policy and seeds, the strategy (lggan_tf.strategy), G and D built inside its scope with two Adam
optimisers built there too (tf_keras_notes.md §4), the run directory, and a restore from the latest checkpoint.
Loop: per epoch a fresh, seeded input pipeline per worker (`distribute_datasets_from_function`), skipping the batches
a resumed run already consumed; per step the G step then the D step (lggan_tf.train_steps), a NaN/Inf check, and
the log / summary / checkpoint intervals. Cross-view (`task='cross_view'`) runs one combined step per batch in the
official order (G forward, D_i + D_s update, G update; lggan_tf.train_steps.CrossViewSteps). SIGINT and SIGTERM
finish the current step, save and return.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import shutil
import sys
import tempfile
import time

import keras
import tensorflow as tf

from lggan_tf import losses, schedules
from lggan_tf.checkpoints import AtomicCheckpointManager, CheckpointSaveError, checkpoint_step
from lggan_tf.progress import ProgressMeter, StatsWriter
from lggan_tf.run_dir import RunDir, config_changes
from lggan_tf.signals import StopRequest
from lggan_tf.strategy import is_chief, make_strategy, resolve_precision, worker_id
from lggan_tf.summaries import Summaries
from lggan_tf.train_config import TrainConfig
from lggan_tf.train_setup import build_models, build_optimizers, resolve_run
from lggan_tf.train_steps import CrossViewSteps, GANSteps

__all__ = ["TrainResult", "TrainingDiverged", "CheckpointSaveError", "train", "dry_run", "default_model_dir"]


class TrainingDiverged(RuntimeError):
    """A loss became NaN or Inf; nothing was saved after the last good checkpoint."""


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """status: 'finished' or 'interrupted' (SIGINT/SIGTERM, checkpoint saved)."""

    status: str
    step: int
    checkpoint: str | None
    model_dir: str
    message: str = ""
    traces: int = 0  # tf.function traces of the G and D steps in this run (2 when shapes stayed static)


def log_stdout(message: str) -> None:
    print(message, flush=True)


def default_model_dir(config: TrainConfig) -> str:
    return config.model_dir or os.path.join("runs", config.run_name)


def dry_run(config: TrainConfig) -> dict:
    """Resolve the run and build G and D (no data, no training): {config, resolved, parameters}."""
    from lggan_tf.models import parameter_counts

    precision = resolve_precision(config.mixed_precision)
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(precision)
    try:
        run = resolve_run(config, count=False)
        generator, discriminator = build_models(config, run)
        counts = parameter_counts(generator, discriminator)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    resolved = {**run.describe(), "precision": precision, "model_dir": default_model_dir(config)}
    return {"config": config.to_dict(), "resolved": resolved, "parameters": counts}


def _finite_or_raise(step: int, scalars: dict) -> dict:
    values = {k: float(v) for k, v in scalars.items()}
    bad = {k: v for k, v in values.items() if not math.isfinite(v)}
    if bad:
        terms = ", ".join(f"{k} = {v}" for k, v in sorted(bad.items()))
        raise TrainingDiverged(f"non-finite loss at step {step}: {terms}. Training stopped without saving this "
                               "state; the last good checkpoint is kept. Lower --lr, use --mixed_precision=float32, "
                               "or check the data")
    return values


class _Trainer:
    def __init__(self, config: TrainConfig, flags_text: str | None, log):
        self.config, self.flags_text, self.log = config, flags_text, log
        self.run_dir = RunDir(default_model_dir(config))

    # --- setup --------------------------------------------------------------------------------------------------
    def setup(self, strategy=None):
        c = self.config
        self.strategy = strategy or make_strategy(c.strategy)
        self.chief = is_chief(self.strategy)
        self.precision = resolve_precision(c.mixed_precision)
        keras.mixed_precision.set_global_policy(self.precision)
        keras.utils.set_random_seed(c.seed)
        if c.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.run = resolve_run(c, count=True)
        self.replicas = self.strategy.num_replicas_in_sync
        if c.batch_size % self.replicas:
            raise ValueError(f"--batch_size={c.batch_size} must be divisible by the {self.replicas} replicas")
        with self.strategy.scope():
            self.generator, self.discriminator = build_models(c, self.run)
            self.g_opt, self.d_opt = build_optimizers(c, self.precision, self.generator, self.discriminator)
            self.vgg = None
            if c.lambda_vgg > 0:
                from lggan_tf.vgg import VGGPerceptual

                self.vgg = VGGPerceptual(c.vgg_weights, name="vgg")
        self.step_var = tf.Variable(0, dtype=tf.int64, name="step")
        self.epoch_var = tf.Variable(0, dtype=tf.int64, name="epoch")
        self.position_var = tf.Variable(0, dtype=tf.int64, name="data_position")
        self.checkpoint = tf.train.Checkpoint(generator=self.generator, discriminator=self.discriminator,
                                              g_optimizer=self.g_opt, d_optimizer=self.d_opt, step=self.step_var,
                                              epoch=self.epoch_var, data_position=self.position_var)
        if self.chief:
            self.run_dir.create()
            ckpt_dir = self.run_dir.checkpoints
        else:  # every worker takes part in a save; a non-chief writes into scratch that `close` removes
            self.scratch_dir = ckpt_dir = tempfile.mkdtemp(prefix=f"lggan-{worker_id(self.strategy)}-")
        self.manager = AtomicCheckpointManager(self.checkpoint, ckpt_dir, c.keep_checkpoints, self.chief,
                                               worker_id(self.strategy))
        self.cross_view = c.task == "cross_view"
        if self.cross_view:
            weights = losses.LossWeights.cross_view(vgg=c.lambda_vgg, l1_local=c.lambda_l1_local, l1_image=c.lambda_l1,
                                                    tv=c.lambda_tv,
                                                    class_ce=c.lambda_class if c.cross_view_classifier else 0.0)
            self.steps = CrossViewSteps(self.strategy, self.generator, self.discriminator, self.g_opt, self.d_opt,
                                        weights, self.vgg, c.gan_mode, c.batch_size, c.jit_compile,
                                        c.inject_nan_at_step, c.d_judges)
        else:
            weights = losses.LossWeights(feat=c.lambda_feat, vgg=c.lambda_vgg, l1_local=c.lambda_l1_local,
                                         class_ce=c.lambda_class, l1_image=c.lambda_l1, kld=c.lambda_kld,
                                         tv=c.lambda_tv)
            self.steps = GANSteps(self.strategy, self.generator, self.discriminator, self.g_opt, self.d_opt, weights,
                                  self.vgg, c.gan_mode, c.batch_size, c.use_vae or c.model == "sean", c.jit_compile,
                                  c.inject_nan_at_step, c.d_judges)
        self.summaries = Summaries(self.run_dir.tb_train, self.run_dir.samples, self.run.palette,
                                   min(c.num_sample_images, c.batch_size), enabled=self.chief)
        self.stats = StatsWriter(self.run_dir.stats if self.chief else None)

    def close(self):
        """Flush the summaries and remove a non-chief worker's checkpoint scratch folder."""
        if hasattr(self, "summaries"):
            self.summaries.close()
        if getattr(self, "scratch_dir", None):
            shutil.rmtree(self.scratch_dir, ignore_errors=True)

    def restore(self):
        """Restore per --resume; returns the checkpoint path or None (fresh start)."""
        c = self.config
        shared_dir = self.run_dir.checkpoints
        latest = tf.train.latest_checkpoint(shared_dir) if os.path.isdir(shared_dir) else None
        if c.resume == "none":
            if latest:
                raise ValueError(f"--resume=none but {shared_dir} already holds checkpoints (latest {latest}); "
                                 "use a new --model_dir, delete it, or --resume=auto to continue")
            return None
        path = latest if c.resume == "auto" else c.resume
        if path is None:
            return None
        if not tf.io.gfile.exists(path + ".index"):
            raise ValueError(f"--resume={c.resume}: checkpoint {path!r} not found (expected {path}.index); pass a "
                             "prefix like <model_dir>/checkpoints/ckpt-<step> or --resume=auto")
        try:
            self.checkpoint.read(path).assert_consumed()
        except (AssertionError, ValueError) as err:
            raise ValueError(f"checkpoint {path} does not match the model built from this configuration ({err}); "
                             "resume with the flags it was trained with (<model_dir>/flags.txt)") from err
        checkpoint_step(path)
        return path

    def write_run_files(self):
        if not self.chief:
            return
        current = self.config.to_dict()
        previous = self.run_dir.read_config()
        if previous and "config" in previous:
            for key, (old, new) in sorted(config_changes(previous["config"], current).items()):
                self.log(f"warning: --{key} changed since this run directory was created: {old!r} -> {new!r}")
        record = {"config": current, "resolved": {**self.run.describe(), "precision": self.precision,
                                                  "strategy": type(self.strategy).__name__,
                                                  "replicas": self.replicas, "tensorflow": tf.__version__,
                                                  "keras": keras.__version__}}
        self.run_dir.write_config(record)
        self.run_dir.write_flags(self.flags_text)

    # --- data ---------------------------------------------------------------------------------------------------
    def _dataset_fn(self, input_context, epoch: int, position: int):
        from datasets import build_dataset
        from datasets.base import map_plain

        c, run = self.config, self.run
        seed = (c.seed * 1_000_003 + epoch) % (2 ** 31)  # shuffling and augmentation; the scenes: synthetic_seed
        ds = build_dataset(run.spec, c.data_dir or None, "train", c.batch_size, training=True, seed=seed,
                           scene_seed=c.synthetic_seed, deterministic=c.deterministic, input_context=input_context,
                           num_examples=run.num_examples, height=run.data_height, width=run.data_width)
        keys = ("input_image", "image", "semantic", "masks") if self.cross_view else ("label", "image", "semantic")
        ds = map_plain(ds, lambda b: {k: b[k] for k in keys}, deterministic=True)
        local = max(1, input_context.num_replicas_in_sync // input_context.num_input_pipelines)
        return ds.take(run.steps_per_epoch * local).skip(position * local)

    def epoch_batches(self, epoch: int, position: int):
        fn = functools.partial(self._dataset_fn, epoch=epoch, position=position)
        return self.strategy.distribute_datasets_from_function(fn)

    # --- loop ---------------------------------------------------------------------------------------------------
    def set_learning_rates(self, epoch: int):
        c = self.config
        s = schedules.optimizer_settings(c.lr, c.beta1, c.beta2, c.ttur, epoch, c.niter, c.niter_decay)
        self.g_opt.learning_rate = s.lr_g
        self.d_opt.learning_rate = s.lr_d
        return s

    def save(self, step: int, epoch: int, position: int) -> str:
        self.step_var.assign(step)
        self.epoch_var.assign(epoch)
        self.position_var.assign(position)
        return self.manager.save(step)

    def loop(self, stop: StopRequest) -> TrainResult:
        c, run = self.config, self.run
        step, epoch, position = int(self.step_var.numpy()), int(self.epoch_var.numpy()), int(self.position_var.numpy())
        total = run.total_steps
        meter = ProgressMeter(total, step, c.batch_size)
        sums, count, last_saved = {}, 0, step
        rates = self.set_learning_rates(epoch)
        while step < total:
            for batch in self.epoch_batches(epoch, position):
                values, visuals = self._train_step(batch, step + 1)
                step, position = step + 1, position + 1
                for k, v in values.items():
                    sums[k] = sums.get(k, 0.0) + v
                count += 1
                last = step >= total
                if step % c.summary_every_steps == 0 or last:
                    self.summaries.images(step, self.steps.local_visuals(visuals, c.num_sample_images))
                if step % c.log_every_steps == 0 or last:
                    self._log_interval(step, epoch, meter, {k: v / count for k, v in sums.items()}, rates)
                    sums, count = {}, 0
                stopping = stop.requested is not None
                if step % c.save_every_steps == 0 or last or stopping:
                    last_saved = self._save_or_report(step, epoch, position, must_succeed=last or stopping,
                                                      previous=last_saved)
                if stopping:
                    path = self.manager.latest if self.chief else None
                    return TrainResult("interrupted", step, path, self.run_dir.root,
                                       f"interrupted by {stop.requested} at step {step}: checkpoint saved "
                                       f"({path}); re-run the same command to resume", self.steps.traces)
                if last:
                    break
            if position >= run.steps_per_epoch:
                epoch, position = epoch + 1, 0
                rates = self.set_learning_rates(epoch)
        path = self.manager.latest if self.chief else None
        return TrainResult("finished", step, path, self.run_dir.root, f"finished at step {step}: checkpoint {path}",
                           self.steps.traces)

    def _train_step(self, batch, step: int):
        """One training iteration at 1-based `step` -> ({name: float}, visuals); TrainingDiverged on NaN/Inf."""
        if self.cross_view:
            scalars, visuals = self.steps.train_step(batch, tf.constant(step, tf.int64))
            return _finite_or_raise(step, scalars), visuals
        g_scalars, visuals = self.steps.g_step(batch, tf.constant(step, tf.int64))
        values = _finite_or_raise(step, g_scalars)
        values.update(_finite_or_raise(step, self.steps.d_step(batch)))
        return values, visuals

    def _save_or_report(self, step, epoch, position, must_succeed, previous):
        if step == previous and self.manager.latest and checkpoint_step(self.manager.latest) == step:
            return step
        try:
            self.save(step, epoch, position)
            return step
        except CheckpointSaveError as err:
            if must_succeed:
                raise
            print(f"warning: {err}; training continues", file=sys.stderr, flush=True)
            return previous

    def _log_interval(self, step, epoch, meter, means, rates):
        timing = meter.update(step)
        if not self.chief:
            return
        self.log(meter.line(step, timing, means.get("g_total", float("nan")), means.get("d_total", float("nan"))))
        scalars = {f"loss/{k}": v for k, v in means.items()}
        scalars.update({"lr/g": rates.lr_g, "lr/d": rates.lr_d, "timing/steps_per_sec": timing["steps_per_sec"],
                        "timing/images_per_sec": timing["images_per_sec"]})
        self.summaries.scalars(step, scalars)
        self.stats.write({"step": step, "epoch": epoch, "time": time.time(), **means, "lr_g": rates.lr_g,
                          "lr_d": rates.lr_d, **timing})


def train(config: TrainConfig, flags_text: str | None = None, log=log_stdout, strategy=None) -> TrainResult:
    """Train (or resume) the run in `config.model_dir`; returns a TrainResult.

    Raises datasets.DatasetError (bad data, before training), ValueError (bad configuration or a checkpoint that does
    not match), TrainingDiverged (NaN/Inf loss), CheckpointSaveError (the final or interrupt save failed).
    """
    previous_policy = keras.mixed_precision.global_policy().name
    trainer = _Trainer(config, flags_text, log)
    try:
        trainer.setup(strategy)
        restored = trainer.restore()
        trainer.write_run_files()
        run = trainer.run
        start = int(trainer.step_var.numpy())
        if trainer.chief:
            where = f"resuming from {restored} (step {start})" if restored else "starting from scratch"
            log(f"{config.model} ({config.upsampler}) on {config.dataset} {run.height}x{run.width}, batch "
                f"{config.batch_size} on {trainer.replicas} replica(s), {trainer.precision}, {run.total_steps} steps "
                f"({run.steps_per_epoch}/epoch); {where}; run dir {trainer.run_dir.root}")
        if start >= run.total_steps:
            return TrainResult("finished", start, restored, trainer.run_dir.root,
                               f"already at step {start} >= {run.total_steps}; raise --train_steps to continue")
        with StopRequest() as stop:
            return trainer.loop(stop)
    finally:
        trainer.close()
        keras.mixed_precision.set_global_policy(previous_policy)
