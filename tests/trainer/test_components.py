"""Trainer components without tracing a model: config, schedule, progress, checkpoints, summaries, flags."""

import os
import pathlib
import signal

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf import schedules
from lggan_tf.checkpoints import AtomicCheckpointManager, CheckpointSaveError, checkpoint_step
from lggan_tf.progress import ProgressMeter, format_duration
from lggan_tf.run_dir import config_changes
from lggan_tf.signals import StopRequest
from lggan_tf.summaries import colorize_labels, sample_grid, visual_panels
from lggan_tf.train_config import TrainConfig

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_lr_factor_is_constant_then_linear_to_zero():
    factors = [schedules.lr_factor(e, niter=2, niter_decay=4) for e in range(8)]
    assert factors == pytest.approx([1, 1, 1, 0.75, 0.5, 0.25, 0, 0])
    assert schedules.lr_factor(50, niter=2, niter_decay=0) == 1.0


def test_ttur_and_plain_adam_settings():
    s = schedules.optimizer_settings(2e-4, 0.5, 0.999, ttur=True)
    assert (s.lr_g, s.lr_d, s.beta1, s.beta2) == pytest.approx((1e-4, 4e-4, 0.0, 0.9))
    s = schedules.optimizer_settings(2e-4, 0.5, 0.999, ttur=False, epoch=3, niter=2, niter_decay=2)
    assert (s.lr_g, s.lr_d, s.beta1, s.beta2) == pytest.approx((1e-4, 1e-4, 0.5, 0.999))


@pytest.mark.parametrize("changes, fragment", [
    (dict(batch_size=0), "--batch_size=0"), (dict(model="pix2pix"), "--model='pix2pix'"),
    (dict(height=64, width=0), "--height"), (dict(lambda_vgg=-1.0), "--lambda_vgg"),
    (dict(ablation="B3", model="gaugan"), "--ablation"), (dict(use_vae=True), "--use_vae"),
    (dict(train_steps=0, epochs=0, niter=0, niter_decay=0), "--train_steps"),
])
def test_config_rejects_bad_values_naming_the_flag(changes, fragment):
    with pytest.raises(ValueError, match=None) as err:
        TrainConfig(**changes)
    assert fragment in str(err.value)


def test_config_json_round_trip_and_resume_change_report():
    c = TrainConfig(ngf=16, dataset="cityscapes")
    assert TrainConfig.from_json(c.to_json()) == c
    changes = config_changes(c.to_dict(), c.replace(ngf=32, train_steps=99).to_dict())
    assert changes == {"ngf": (16, 32)}


def test_progress_line_and_eta():
    now = [0.0]
    meter = ProgressMeter(total_steps=600, start_step=100, global_batch=4, clock=lambda: now[0])
    now[0] = 100.0  # first interval: 20 steps incl. tracing
    meter.update(120)
    now[0] = 110.0  # second interval: 20 steps in 10 s replaces it
    timing = meter.update(140)
    assert timing["steps_per_sec"] == pytest.approx(2.0)
    line = meter.line(140, timing, 3.214, 1.019)
    assert line == ("step 140/600 (23.3%) | 2.00 steps/s | 8.0 img/s | elapsed 1m50s | eta 3m50s | "
                    "g 3.21 d 1.02")
    assert [format_duration(s) for s in (5, 85, 7380, 2 * 86400 + 3600)] == ["5s", "1m25s", "2h03m", "2d01h"]


def _tiny_checkpoint():
    v = tf.Variable([1.0, 2.0])
    return v, tf.train.Checkpoint(v=v)


def test_atomic_save_rotation_and_state(tmp_path):
    v, ckpt = _tiny_checkpoint()
    manager = AtomicCheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    for step in (1, 2, 3):
        v.assign([float(step)] * 2)
        manager.save(step)
    assert checkpoint_step(manager.latest) == 3
    assert [os.path.basename(p) for p in manager.all_checkpoints()] == ["ckpt-2", "ckpt-3"]
    assert not list(tmp_path.glob("ckpt-1.*")) and not list(tmp_path.glob(".tmp-*"))
    assert tf.train.load_checkpoint(manager.latest).get_tensor("v/.ATTRIBUTES/VARIABLE_VALUE").tolist() == [3, 3]


def test_failed_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    v, ckpt = _tiny_checkpoint()
    manager = AtomicCheckpointManager(ckpt, str(tmp_path))
    manager.save(10)
    before = (tmp_path / "checkpoint").read_text()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    v.assign([9.0, 9.0])
    with pytest.raises(CheckpointSaveError, match=r"ckpt-20.*No space left.*ckpt-10 is intact"):
        manager.save(20)
    monkeypatch.undo()
    assert (tmp_path / "checkpoint").read_text() == before
    assert checkpoint_step(manager.latest) == 10 and not list(tmp_path.glob(".tmp-*"))
    assert not list(tmp_path.glob("ckpt-20.*"))
    restored = tf.Variable([0.0, 0.0])
    tf.train.Checkpoint(v=restored).read(manager.latest).assert_consumed()
    assert restored.numpy().tolist() == [1.0, 2.0]


def test_stop_request_records_signal_and_restores_handlers():
    previous = signal.getsignal(signal.SIGTERM)
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is previous


def test_sample_grid_columns_and_palette():
    palette = np.array([[255, 0, 0], [0, 255, 0]], np.uint8)
    labels = np.array([[[0, 1], [2, 1]]])  # 2 = dontcare: black
    assert colorize_labels(labels, palette)[0].tolist() == [[[255, 0, 0], [0, 255, 0]], [[0, 0, 0], [0, 255, 0]]]
    visuals = {"label": labels, "real": np.ones((1, 2, 2, 3)), "image": -np.ones((1, 2, 2, 3)),
               "weight_map": np.full((1, 2, 2), 0.5)}
    panels = visual_panels(visuals, palette, max_images=4)
    grid = sample_grid(panels, pad=1)
    assert grid.shape == (1 + 3, 1 + 4 * 3, 3)
    assert grid[1, 4].tolist() == [255, 255, 255] and grid[1, 7].tolist() == [0, 0, 0]  # real, fused
    assert grid[1, 10].tolist() == [128, 128, 128]  # weight 0.5


def test_flag_defaults_equal_synthetic_cfg_and_config():
    from absl import flags

    from flags import train_flags

    fv = flags.FlagValues()
    train_flags.define_train_flags(fv)
    fv(["train.py"])
    assert train_flags.config_from_flags(fv) == TrainConfig()
    fv = flags.FlagValues()
    train_flags.define_train_flags(fv)
    fv(["train.py", f"--flagfile={REPO / 'flags' / 'synthetic.cfg'}"])
    assert train_flags.config_from_flags(fv) == TrainConfig()
    fv = flags.FlagValues()
    train_flags.define_train_flags(fv)
    fv(["train.py", "--no_ttur", "--lambda_vgg=10"])
    config = train_flags.config_from_flags(fv)
    assert (config.ttur, config.lambda_vgg) == (False, 10.0)


def test_training_past_the_schedule_end_stops_at_start():
    """Item: --epochs / --train_steps beyond niter + niter_decay epochs would run at learning rate 0."""
    from lggan_tf.train_setup import resolve_run

    with pytest.raises(ValueError, match=r"niter \+ niter_decay = 2 \+ 2 = 4 epochs .* got 5 epochs"):
        TrainConfig(epochs=5)
    assert TrainConfig(epochs=4).epochs == 4 and TrainConfig(epochs=9, niter_decay=0).epochs == 9  # rate never 0
    config = TrainConfig(num_examples=8, batch_size=2, niter=1, niter_decay=2)  # 4 steps per epoch, 12 in all
    assert resolve_run(config.replace(train_steps=12)).total_steps == 12
    with pytest.raises(ValueError) as err:
        resolve_run(config.replace(train_steps=13))
    assert "--train_steps=13" in str(err.value) and "= 12 steps" in str(err.value)


def test_synthetic_scenes_do_not_depend_on_the_seed():
    """Runs that compare --seed values train on the same scenes (--synthetic_seed fixes them), in another order."""
    from lggan_tf.train_setup import resolve_run
    from lggan_tf.trainer import _Trainer

    def epoch_labels(**changes):
        config = TrainConfig(num_examples=6, batch_size=2, height=32, width=32, deterministic=True, **changes)
        trainer = _Trainer(config, None, log=print)
        trainer.run, trainer.cross_view = resolve_run(config), False
        ds = trainer._dataset_fn(tf.distribute.InputContext(), epoch=0, position=0)
        labels = [label for batch in ds for label in batch["label"].numpy()]
        return [min(label.tobytes(), label[:, ::-1].tobytes()) for label in labels]  # the same up to the flip

    one, two = epoch_labels(seed=1), epoch_labels(seed=2)
    assert len(one) == len(set(one)) == 6
    assert sorted(one) == sorted(two)  # the same scenes
    assert one != two  # --seed still shuffles
    other = epoch_labels(seed=1, synthetic_seed=7)
    assert not set(other) & set(one)  # --synthetic_seed picks other scenes
