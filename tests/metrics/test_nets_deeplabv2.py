"""DeepLab-v2 ResNet-101 MSC (lggan_tf.metrics.nets.deeplabv2) against kazuto1011/deeplab-pytorch run in PyTorch
(tests/metrics/fixtures/deeplabv2_coco.*, made by tools/make_deeplabv2_fixture.py): same seeded weights through
convert_state_dict, same two 66x98 images (ceil-mode pool, scale-factor interpolation, max over scales)."""

import keras
import numpy as np
import pytest

from lggan_tf.metrics.nets import deeplabv2
from lggan_tf.metrics.nets.common import ConversionError
from tests.metrics.seg_net_fixtures import (TOLERANCE, assert_layout_matches, converted_model, load_fixture,
                                            relative_error)


@pytest.fixture(scope="module")
def converted():
    arrays, meta, state = load_fixture("deeplabv2_coco")
    return converted_model(deeplabv2, state), arrays, meta, state


def test_fixture_records_reference(converted):
    _, arrays, meta, _ = converted
    assert meta["repo"] == "kazuto1011/deeplab-pytorch" and len(meta["commit"]) == 40
    assert tuple(meta["scales"]) == deeplabv2.SCALES
    assert arrays["logits"].shape == (2, 9, 13, 182)  # 66x98: conv/2 -> 33x49, ceil pool -> 17x25, /2 -> 9x13


def test_layout_is_the_reference_state_dict(converted):
    assert_layout_matches(deeplabv2.layout(), converted[2])


def test_msc_logits_match_pytorch(converted):
    model, arrays, _, _ = converted
    image = arrays["image"].astype(np.float32)
    assert relative_error(model(image), arrays["logits"]) <= TOLERANCE


def test_each_scale_and_stage_matches_pytorch(converted):
    model, arrays, _, _ = converted
    image = arrays["image"].astype(np.float32)
    base = model.get_layer("base")
    stages = [base.get_layer("base.layer1.pool").output] + [
        base.get_layer(f"base.{name}.block{n}.relu").output for name, n, *_ in deeplabv2._LAYERS]
    bgr = model.get_layer("caffe_bgr")(image)
    got = keras.Model(base.input, stages)(bgr)
    for name, out in zip(["layer1", "layer2", "layer3", "layer4", "layer5"], got):
        assert relative_error(np.asarray(out)[..., :4], arrays[name]) <= TOLERANCE, name
    for i in range(len(deeplabv2.SCALES)):  # the 0.5x / 0.75x inputs (floor(66 * 0.75) = 49 rows, step 1 / 0.75)
        scaled = model.get_layer(f"msc.scale{i}")(bgr)
        assert relative_error(base(scaled), arrays[f"base_scale{i + 2}"]) <= TOLERANCE, f"scale {i}"


def test_foreign_checkpoint_is_named(converted):
    _, _, _, state = converted
    drn_like = {"base.0.0.weight": np.zeros((16, 3, 7, 7), np.float32), "seg.weight": np.zeros((19, 512, 1, 1))}
    with pytest.raises(ConversionError, match=r"not a deeplabv2_coco checkpoint: missing keys base\.layer1\.conv1"
                                              r"\.conv\.weight.*; unexpected keys base\.0\.0\.weight, seg\.weight"):
        deeplabv2.convert_state_dict(drn_like)
    voc = dict(state)
    for i in range(4):  # the 21-class VOC model of the same repository
        voc[f"base.aspp.c{i}.weight"] = voc[f"base.aspp.c{i}.weight"][:21]
        voc[f"base.aspp.c{i}.bias"] = voc[f"base.aspp.c{i}.bias"][:21]
    with pytest.raises(ConversionError, match=r"base\.aspp\.c0\.weight: checkpoint \(21, 2048, 3, 3\) vs "
                                              r"deeplabv2_coco \(182, 2048, 3, 3\)"):
        deeplabv2.convert_state_dict(voc)
