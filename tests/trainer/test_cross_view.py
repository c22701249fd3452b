"""--task=cross_view in the trainer: official defaults for unset flags, task/dataset mismatch, every cross-view
flagfile's dry run, a 4-step run on the Dayton samples with an exact resume and its TensorBoard panels, and a step
with logits (LSGAN) discriminators."""

import numpy as np
import pytest
import tensorflow as tf
from absl import flags as absl_flags

from lggan_tf.train_config import TrainConfig
from tests.trainer.conftest import REPO, read_stats
from tests.trainer.test_train_loop import checkpoint_values

FLAGFILES = {  # name: (dataset, size, batch, niter, niter_decay)
    "dayton_a2g": ("dayton", 256, 4, 20, 15), "dayton_g2a": ("dayton_g2a", 256, 4, 20, 15),
    "dayton_a2g_64": ("dayton", 64, 16, 50, 50), "dayton_g2a_64": ("dayton_g2a", 64, 16, 50, 50),
    "cvusa": ("cvusa", 256, 4, 15, 15), "sva": ("sva", 256, 4, 10, 10),
}


def parse(*argv):
    from flags import train_flags

    fv = absl_flags.FlagValues()
    train_flags.define_train_flags(fv)
    fv(["train.py", *argv])
    return train_flags.config_from_flags(fv)


def test_unset_flags_take_the_official_cross_view_values():
    config = parse("--task=cross_view", "--gan_mode=ls")
    assert (config.dataset, config.upsampler, config.ttur, config.lr, config.beta1, config.beta2) == (
        "dayton", "convtranspose", False, 2e-4, 0.5, 0.999)
    assert (config.lambda_l1, config.lambda_l1_local, config.lambda_feat, config.lambda_tv) == (100, 100, 0, 1e-6)
    assert config.gan_mode == "ls"  # an explicit flag wins
    assert config == TrainConfig.cross_view(gan_mode="ls")
    assert parse().task == "synthesis" and parse().lambda_tv == 0.0


def test_task_and_dataset_must_agree():
    from lggan_tf.train_setup import resolve_run

    with pytest.raises(ValueError, match="dayton is a cross_view dataset but --task=synthesis"):
        resolve_run(TrainConfig(dataset="dayton"), count=False)
    with pytest.raises(ValueError, match="cityscapes is a synthesis dataset .* cross_view datasets .*'sva'"):
        resolve_run(TrainConfig.cross_view(dataset="cityscapes"), count=False)
    with pytest.raises(ValueError, match="--lambda_feat"):
        TrainConfig(task="cross_view")  # synthesis defaults: feature matching is not part of the cross-view loss


@pytest.mark.parametrize("name", sorted(FLAGFILES))
def test_flagfile_dry_run(name):
    from lggan_tf.trainer import dry_run

    config = parse(f"--flagfile={REPO / 'flags' / (name + '.cfg')}")
    result = dry_run(config)
    dataset, size, batch, niter, decay = FLAGFILES[name]
    assert (config.task, config.dataset, config.batch_size, config.niter, config.niter_decay) == (
        "cross_view", dataset, batch, niter, decay)
    assert (result["resolved"]["height"], result["resolved"]["width"]) == (size, size)
    assert (config.gan_mode, config.ttur, config.lambda_vgg, config.lambda_tv) == ("original", False, 10.0, 1e-6)
    params = result["parameters"]
    assert params["generator_total"] == 12_181_847 and params["discriminator_total"] == 2 * 2_767_809


@pytest.fixture(scope="module")
def dayton_runs(dayton_run):
    """Run 'straight': the session's 3-step Dayton run (4 samples = 2 steps per epoch, 0 + 2 epochs); 'resumed':
    from its ckpt-2 to 3."""
    from lggan_tf import trainer

    straight = dayton_run["model_dir"]
    resumed = straight.parent / "resumed"
    r2 = trainer.train(dayton_run["config"].replace(model_dir=str(resumed),
                                                   resume=str(straight / "checkpoints" / "ckpt-2")),
                       log=lambda _: None)
    return {"straight": straight, "resumed": resumed, "results": (dayton_run["result"], r2)}


def test_training_resumes_exactly_and_logs_the_panels(dayton_runs):
    r1, r2 = dayton_runs["results"]
    assert (r1.status, r1.step, r1.traces, r2.status, r2.step, r2.traces) == ("finished", 3, 1, "finished", 3, 1)
    a = checkpoint_values(dayton_runs["straight"] / "checkpoints" / "ckpt-3")
    b = checkpoint_values(dayton_runs["resumed"] / "checkpoints" / "ckpt-3")
    assert a.keys() == b.keys() and len(a) > 100
    assert [k for k in a if not np.array_equal(a[k], b[k])] == []
    # D_i and D_s (one Adam over both) are in the checkpoint and train: restore ckpt-2 and ckpt-3 into fresh models.
    from lggan_tf.train_setup import build_models, resolve_run

    config = TrainConfig.cross_view(dataset="dayton", height=64, width=64, ngf=4, ndf=8)
    kernels = []
    for step in (2, 3):
        g, d = build_models(config, resolve_run(config, count=False))
        path = dayton_runs["straight"] / "checkpoints" / f"ckpt-{step}"
        tf.train.Checkpoint(generator=g, discriminator=d).read(str(path)).assert_existing_objects_matched()
        kernels.append([d.d_image.conv_out.kernel.numpy(), d.d_semantic.conv_out.kernel.numpy(),
                        g.class_generators.kernel.numpy()])
    assert all(not np.array_equal(x, y) for x, y in zip(*kernels)), "D_i, D_s or G_l did not train"
    stats = read_stats(dayton_runs["straight"])
    assert [r["lr_g"] for r in stats] == [2e-4, 2e-4, 1e-4] and stats[0]["lr_d"] == 2e-4  # Adam 2e-4, no TTUR
    terms = {"g_gan_di", "g_gan_ds", "g_l1", "g_local_l1", "g_tv", "d_di_fake", "d_di_real", "d_ds_fake", "d_ds_real"}
    assert terms <= set(stats[0]) and all(np.isfinite(r["g_total"]) for r in stats)
    assert abs(stats[0]["d_total"] - 0.5 * 4 * np.log(2)) < 0.3  # BCE at chance, I_C (fake + real) x 2 Ds
    tags = set()
    for event_file in (dayton_runs["straight"] / "tb" / "train").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(v.tag for v in event.summary.value)
    assert {"images/input", "images/semantic", "images/real", "images/fused", "images/global", "images/local",
            "images/weight_map", "loss/g_gan_ds", "loss/d_total"} <= tags
    from PIL import Image

    grid = Image.open(dayton_runs["straight"] / "samples" / "latest.png")
    assert grid.size == (7 * 66 + 2, 2 * 66 + 2)  # input | semantic | real | fused | global | local | weight


def test_logits_discriminators_with_lsgan_step():
    """gan_mode='ls': D without sigmoid; one step updates G, D_i and D_s and reports the dual-D terms."""
    from lggan_tf import losses
    from lggan_tf.models import DualDiscriminator, build_cross_view_generator
    from lggan_tf.train_steps import CrossViewSteps

    strategy = tf.distribute.get_strategy()
    g = build_cross_view_generator(ngf=2)
    g.build((None, 32, 32, 6), (None, 32, 32, 6))
    d = DualDiscriminator(ndf=4, sigmoid=False)
    d.build((None, 32, 32, 3))
    opts = []
    for model in (g, d):
        opt = tf.keras.optimizers.Adam(2e-4, 0.5, 0.999)
        opt.build(model.trainable_variables)
        opts.append(opt)
    steps = CrossViewSteps(strategy, g, d, *opts, losses.LossWeights.cross_view(vgg=0.0), gan_mode="ls",
                           global_batch=2)
    rng = np.random.default_rng(0)
    batch = {k: tf.constant(rng.uniform(-1, 1, (2, 32, 32, 3)), tf.float32)
             for k in ("input_image", "image", "semantic")}
    batch["masks"] = tf.one_hot(rng.integers(-1, 6, (2, 32, 32)), 6)
    before = [v.numpy().copy() for v in (g.enc_0.conv.kernel, d.d_image.conv_0.kernel, d.d_semantic.conv_0.kernel)]
    scalars, _ = steps.train_step(batch, tf.constant(1, tf.int64))
    after = [v.numpy() for v in (g.enc_0.conv.kernel, d.d_image.conv_0.kernel, d.d_semantic.conv_0.kernel)]
    assert all(not np.array_equal(x, y) for x, y in zip(before, after))
    assert {"g_gan_di", "g_gan_ds", "d_di_real", "d_ds_fake", "g_total", "d_total"} <= set(scalars)
    assert all(np.isfinite(float(v)) for v in scalars.values())
