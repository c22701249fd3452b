"""The converter reproduces the official PyTorch forward pass (issue 14, item 5): each fixture family of
../shared/parity is converted from its .pth into a run directory, the run is loaded back the way evaluate.py and the
export load it (`load_run`; D restored from the same checkpoint) and every eval-mode output must match the official
one to max |ours - official| <= 1e-4. Measured figures are printed (pytest -s) for the README."""

from __future__ import annotations

import pytest
import tensorflow as tf

from lggan_tf.inference import load_run
from lggan_tf.train_setup import build_models
from tests.convert.parity_runs import (convert_fixture, cross_view_masks, fixture_arrays, generator_differences,
                                       max_abs, nhwc)

TOLERANCE = 1e-4


def _restore_discriminator(run):
    """D of a loaded run, restored from the run's checkpoint (load_run restores only G)."""
    _, discriminator = build_models(run.config, run.plan)
    tf.train.Checkpoint(discriminator=discriminator).read(run.checkpoint).expect_partial() \
        .assert_existing_objects_matched()
    return discriminator


def _check(name, diffs):
    print(f"\n{name}: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    bad = {k: v for k, v in diffs.items() if not v <= TOLERANCE}
    assert not bad, f"{name}: outputs off the official ones by more than {TOLERANCE}: {bad}"


@pytest.mark.parametrize("name", ["lggan_sis_cityscapes_ngf4", "lggan_sis_ade20k_ngf2"])
def test_lggan_synthesis_generator_matches_official(name, tmp_path):
    result = convert_fixture(name, tmp_path / "run")
    assert result["summaries"][0]["dead_keys_skipped"] == 2 + 18  # the unused SPADE fc + 18 num_batches_tracked
    arrays = fixture_arrays(name)
    run = load_run(str(tmp_path / "run"))
    outputs = run.generator(tf.constant(nhwc(arrays["input"])), training=False)
    diffs = generator_differences({k: v.numpy() for k, v in outputs.items()}, arrays)
    assert set(diffs) == {"image", "image_global", "image_local", "weight_map", "class_images", "class_logits"}
    _check(name, diffs)


def test_gaugan_and_multiscale_discriminator_match_official(tmp_path):
    convert_fixture("spade_gaugan_cityscapes_ngf4", tmp_path / "run", discriminator="spade_multiscale_d_ndf16")
    run = load_run(str(tmp_path / "run"))
    g = fixture_arrays("spade_gaugan_cityscapes_ngf4")
    diffs = {"image": max_abs(run.generator(tf.constant(nhwc(g["input"])), training=False)["image"], nhwc(g["image"]))}
    d = fixture_arrays("spade_multiscale_d_ndf16")
    scales = _restore_discriminator(run)(tf.constant(nhwc(d["input"])), training=False)
    assert len(scales) == 2 and all(len(s) == 5 for s in scales)
    for s, outputs in enumerate(scales):
        for j, out in enumerate(outputs):
            diffs[f"D scale{s} layer{j}"] = max_abs(out, nhwc(d[f"scale{s}_layer{j}"]))
    _check("spade_gaugan_cityscapes_ngf4 + spade_multiscale_d_ndf16", diffs)


def test_cross_view_generator_and_both_discriminators_match_official(tmp_path):
    # The fixture has one NLayerDiscriminator; it stands for both D_i (latest_net_D) and D_s (latest_net_D2).
    result = convert_fixture("lggan_crossview_ngf8", tmp_path / "run", discriminator="lggan_crossview_d_ndf8",
                             discriminator2="lggan_crossview_d_ndf8")
    dead = {s["role"]: s["dead_keys"] for s in result["summaries"]}
    assert dead["generator"] == ["deconv5_7.bias", "deconv5_7.weight"]
    assert len(dead["discriminator"]) == len(dead["discriminator D_s"]) == 3  # num_batches_tracked
    run = load_run(str(tmp_path / "run"))
    g = fixture_arrays("lggan_crossview_ngf8")
    outputs = run.generator(tf.constant(nhwc(g["input"])), tf.constant(cross_view_masks(g["mask"])), training=False)
    diffs = generator_differences({k: v.numpy() for k, v in outputs.items()}, g)
    assert set(diffs) == {"image", "image_global", "image_local", "weight_map", "class_images"}
    d = fixture_arrays("lggan_crossview_d_ndf8")
    discriminator = _restore_discriminator(run)
    x = tf.constant(nhwc(d["input"]))
    for label, patch in (("D_i", discriminator.d_image), ("D_s", discriminator.d_semantic)):
        outs = patch(x, training=False)  # eval mode: InstanceNorm with the stored running statistics
        for j in range(4):
            diffs[f"{label} layer{j}"] = max_abs(outs[j], nhwc(d[f"layer{j}"]))
        diffs[f"{label} logits"] = max_abs(patch.conv_out(outs[3]), nhwc(d["logits"]))
        diffs[f"{label} prob"] = max_abs(outs[4], nhwc(d["prob"]))
    _check("lggan_crossview_ngf8 + lggan_crossview_d_ndf8", diffs)
