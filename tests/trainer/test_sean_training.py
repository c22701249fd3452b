"""SEAN+SAU through the train.py loop: it trains with the ground-truth image as style input, resumes bit-exactly,
checkpoints every variable (stacked fc_mu, noise seeds, SAU), and logs to TensorBoard; flagfiles resolve."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO
from tests.trainer.conftest import read_stats
from tests.trainer.test_train_loop import checkpoint_values


def test_sean_sau_trains_and_resumes_bit_identically(sean_runs):
    straight, resumed = sean_runs["results"]
    assert (straight.status, straight.step, resumed.status, resumed.step) == ("finished", 4, "finished", 4)
    a = checkpoint_values(sean_runs["straight"] / "checkpoints" / "ckpt-4")
    b = checkpoint_values(sean_runs["resumed"] / "checkpoints" / "ckpt-4")
    assert a.keys() == b.keys()
    differing = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not differing, f"{len(differing)} of {len(a)} variables differ, e.g. {differing[:5]}"
    shapes = [v.shape for k, v in a.items() if k.startswith("g_optimizer/_trainable_variables/")]
    assert shapes.count((14, 16, 16)) == 15  # the stacked fc_mu of the 15 style ACEs (14 channels, 16-d codes)
    assert "generator/noise_calls/.ATTRIBUTES/VARIABLE_VALUE" in a  # the ACE noise resumes too
    stats = read_stats(sean_runs["straight"])
    assert all(np.isfinite(r["g_total"]) and np.isfinite(r["d_total"]) for r in stats)
    assert {"g_gan", "g_feat"} <= set(stats[-1]) and "g_kld" not in stats[-1]
    assert [r["g_total"] for r in stats[2:]] == [r["g_total"] for r in read_stats(sean_runs["resumed"])]


def test_sean_training_moves_the_style_path_and_logs_images(sean_runs):
    """The Zencoder, the fc_mu stacks and the SAU upsamplers receive gradients (the GT image is the style input),
    and the run writes image summaries."""
    from lggan_tf.train_config import TrainConfig
    from lggan_tf.train_setup import build_models, resolve_run
    from tests.conftest import SEAN_TINY

    config = TrainConfig(**SEAN_TINY)
    g, _ = build_models(config, resolve_run(config, count=False))
    first = tf.train.load_checkpoint(str(sean_runs["straight"] / "checkpoints" / "ckpt-2"))
    last = tf.train.load_checkpoint(str(sean_runs["straight"] / "checkpoints" / "ckpt-4"))
    moved = set()
    for i, var in enumerate(g.trainable_variables):  # the optimizer stores G's variables in this order
        key = f"g_optimizer/_trainable_variables/{i}/.ATTRIBUTES/VARIABLE_VALUE"
        assert tuple(last.get_tensor(key).shape) == tuple(var.shape)
        if not np.array_equal(first.get_tensor(key), last.get_tensor(key)):
            moved.add(var.path)
    for part in ("zencoder/", "fc_mu_kernel", "channel_compressor"):  # style encoder, ACE style path, SAU
        assert any(part in p for p in moved), (part, sorted(moved)[:5])
    events = list((sean_runs["straight"] / "tb").rglob("events.out.tfevents*"))
    tags = set()
    for path in events:
        for record in tf.compat.v1.train.summary_iterator(str(path)):
            tags.update(v.tag for v in record.summary.value)
    assert "loss/g_total" in tags and {"images/fused", "images/real"} <= tags


def test_sean_flagfiles_resolve():
    expected = {"sean_celebamask_hq": (256, 256, 19, "normal"), "sean_cityscapes": (256, 512, 36, "more"),
                "sean_ade20k": (256, 256, 151, "normal")}
    from lggan_tf import trainer
    from tests.test_flagfiles import resolve

    for name, (h, w, s, ups) in expected.items():  # what train.py --dry_run prints (its CLI: tests/test_train_cli.py)
        result = json.loads(json.dumps(trainer.dry_run(resolve(f"--flagfile=flags/{name}.cfg", "--ngf=4",
                                                               "--style_dim=8"))))
        config, resolved = result["config"], result["resolved"]
        assert (config["model"], config["lambda_vgg"], config["lambda_feat"], config["ttur"]) == ("sean", 10, 10, True)
        assert (config["niter"], config["niter_decay"], config["lambda_kld"]) == (50, 50, 0.0)
        assert (resolved["height"], resolved["width"], resolved["semantic_nc"]) == (h, w, s)
        assert resolved["generator_kwargs"]["num_upsampling_layers"] == ups


def test_sean_only_flag_on_another_model_is_one_clear_line(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--model=lggan", "--style_regions=19",
                           f"--model_dir={tmp_path / 'run'}"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--style_regions" in proc.stderr and "--model=sean" in proc.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.cost(35)
def test_celebamask_hq_flagfile_trains_on_the_real_samples(shared_data, tmp_path):
    """The acceptance command `train.py --flagfile=flags/sean_celebamask_hq.cfg --data_dir=<samples> --train_steps=2`
    at a CPU-sized model (64x64, ngf 4, 8-d codes; VGG weights random: offline)."""
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--flagfile=flags/sean_celebamask_hq.cfg",
                           f"--data_dir={shared_data / 'celebamask_hq_samples'}", "--train_steps=2",
                           f"--model_dir={run}", "--height=64", "--width=64", "--ngf=4", "--ndf=8",
                           "--spade_hidden=8", "--style_dim=8", "--vgg_weights=none"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "finished at step 2" in proc.stdout
    stats = read_stats(run)
    assert stats[-1]["step"] == 2 and np.isfinite(stats[-1]["g_vgg"]) and stats[-1]["g_vgg"] > 0
