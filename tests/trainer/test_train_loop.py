"""The in-process training loop: exact resume, checkpoint coverage, run directory, TensorBoard, LR schedule."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.trainer.conftest import read_stats, tiny_config

IMAGE_TAGS = {"images/label", "images/real", "images/fused", "images/global", "images/local", "images/weight_map"}
SCALAR_TAGS = {"loss/g_total", "loss/d_total", "loss/g_gan", "loss/g_feat", "loss/g_local_l1", "loss/g_class",
               "loss/d_real", "loss/d_fake", "lr/g", "lr/d", "timing/steps_per_sec", "timing/images_per_sec"}


def checkpoint_values(path):
    reader = tf.train.load_checkpoint(str(path))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def test_both_runs_finish_at_step_6(tiny_runs):
    straight, resumed = tiny_runs["results"]
    assert (straight.status, straight.step, resumed.status, resumed.step) == ("finished", 6, "finished", 6)
    assert (straight.traces, resumed.traces) == (2, 2)  # static shapes: no retrace across epochs or after resume
    assert "resuming from" in tiny_runs["logs"]["resumed"][0] and "(step 2)" in tiny_runs["logs"]["resumed"][0]


def test_resume_is_bit_identical(tiny_runs):
    """6 steps straight == 2 steps, restart in fresh objects, 4 more: weights, BN/SN buffers, Adam slots, counters."""
    a = checkpoint_values(tiny_runs["straight"] / "checkpoints" / "ckpt-6")
    b = checkpoint_values(tiny_runs["resumed"] / "checkpoints" / "ckpt-6")
    assert a.keys() == b.keys()
    slots = [k for k in a if k.startswith(("g_optimizer/_variables/", "d_optimizer/_variables/"))]
    assert len(slots) > 100, "Adam slot variables (m, v) missing from the checkpoint"
    differing = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not differing, f"{len(differing)} of {len(a)} variables differ, e.g. {differing[:5]}"
    assert int(a["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 6
    assert (int(a["epoch/.ATTRIBUTES/VARIABLE_VALUE"]), int(a["data_position/.ATTRIBUTES/VARIABLE_VALUE"])) == (1, 3)
    # The resumed run logged the same losses for the steps it ran.
    sa, sb = read_stats(tiny_runs["straight"]), read_stats(tiny_runs["resumed"])
    assert [r["g_total"] for r in sa[2:]] == [r["g_total"] for r in sb]


def test_checkpoint_covers_every_variable(tiny_runs):
    """Every weight of G and D (non-trainable spectral-norm u and BatchNorm statistics included), every optimiser
    variable, and step / epoch / data position: nothing dropped by the list-attribute trap."""
    from lggan_tf.train_setup import build_models, build_optimizers, resolve_run

    config = tiny_config(tiny_runs["straight"])
    g, d = build_models(config, resolve_run(config, count=False))
    g_opt, d_opt = build_optimizers(config, "float32", g, d)
    non_trainable = len(g.non_trainable_weights) + len(d.non_trainable_weights)
    assert non_trainable > 0
    expected = len(g.weights) + len(d.weights) + len(g_opt.variables) + len(d_opt.variables) + 3
    names = [n for n, _ in tf.train.list_variables(str(tiny_runs["straight"] / "checkpoints" / "ckpt-6"))
             if n != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    assert len(names) == expected
    assert sum("vector_u" in n for n in names) > 0 and sum("moving_mean" in n for n in names) > 0


def test_run_directory_layout(tiny_runs):
    from lggan_tf.train_config import TrainConfig

    run = tiny_runs["straight"]
    record = json.loads((run / "config.json").read_text())
    assert TrainConfig.from_dict(record["config"]) == tiny_config(run)
    assert record["resolved"]["steps_per_epoch"] == 3 and record["resolved"]["total_steps"] == 6
    assert (run / "flags.txt").read_text() == "--dataset=synthetic\n"
    state = (run / "checkpoints" / "checkpoint").read_text()
    assert 'model_checkpoint_path: "ckpt-6"' in state and 'all_model_checkpoint_paths: "ckpt-2"' in state
    assert not list((run / "checkpoints").glob(".tmp-*"))
    stats = read_stats(run)
    assert [r["step"] for r in stats] == [1, 2, 3, 4, 5, 6]
    assert all(np.isfinite(r["g_total"]) and np.isfinite(r["d_total"]) for r in stats)
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["00000003.png", "00000006.png", "latest.png"]
    grid = np.asarray(Image.open(run / "samples" / "latest.png"))
    assert grid.shape == (2 + 2 * 66, 2 + 6 * 66, 3)  # 2 examples x 6 columns of 64 px, 2 px gaps
    assert grid[2:66, 2:66].std() > 0  # the colourised label map is not blank


def test_learning_rate_schedule(tiny_runs):
    """niter 0 + niter_decay 2: epoch 0 at the base rate (G lr/2 = 1e-4, D 2lr = 4e-4), epoch 1 at half."""
    stats = read_stats(tiny_runs["straight"])
    assert [r["lr_g"] for r in stats] == pytest.approx([1e-4] * 3 + [5e-5] * 3)
    assert [r["lr_d"] for r in stats] == pytest.approx([4e-4] * 3 + [2e-4] * 3)
    assert [r["epoch"] for r in stats] == [0, 0, 0, 1, 1, 1]


def test_tensorboard_events_hold_scalars_and_images(tiny_runs):
    files = sorted((tiny_runs["straight"] / "tb" / "train").glob("events.out.tfevents.*"))
    assert files
    scalar_steps, images = {}, set()
    for path in files:
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "images":
                    images.add(value.tag)
                else:
                    scalar_steps.setdefault(value.tag, []).append(event.step)
    assert SCALAR_TAGS <= set(scalar_steps), SCALAR_TAGS - set(scalar_steps)
    assert scalar_steps["loss/g_total"] == [1, 2, 3, 4, 5, 6]
    assert IMAGE_TAGS <= images, IMAGE_TAGS - images
