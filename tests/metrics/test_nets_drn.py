"""DRN-D-105 DRNSeg (lggan_tf.metrics.nets.drn) against fyu/drn run in PyTorch (tests/metrics/fixtures/drn_d_105.*,
made by tools/make_drn_fixture.py): same seeded weights through convert_state_dict, same 64x128 image."""

import keras
import numpy as np
import pytest

from lggan_tf.metrics.nets import drn
from lggan_tf.metrics.nets.common import ConversionError
from tests.metrics.seg_net_fixtures import TOLERANCE, assert_layout_matches, converted_model, load_fixture, relative_error


@pytest.fixture(scope="module")
def converted():
    arrays, meta, state = load_fixture("drn_d_105")
    return converted_model(drn, state), arrays, meta, state


def test_fixture_records_reference(converted):
    _, arrays, meta, _ = converted
    assert meta["repo"] == "fyu/drn" and len(meta["commit"]) == 40
    assert arrays["logits"].shape == (1, 64, 128, 19)


def test_layout_is_the_reference_state_dict(converted):
    assert_layout_matches(drn.layout(), converted[2])


def test_logits_and_intermediates_match_pytorch(converted):
    model, arrays, _, _ = converted
    ends = ["seg", *drn.STAGE_OUTPUTS]
    got = keras.Model(model.input, [model.output] + [model.get_layer(n).output for n in ends])(arrays["image"])
    assert relative_error(got[0], arrays["logits"]) <= TOLERANCE
    assert relative_error(got[1], arrays["seg"]) <= TOLERANCE
    for i, out in enumerate(got[2:]):
        assert relative_error(np.asarray(out)[..., :4], arrays[f"base.{i}"]) <= TOLERANCE, f"base.{i}"


def test_prediction_is_the_argmax_of_the_reference(converted):
    model, arrays, _, _ = converted
    pred = np.argmax(np.asarray(model(arrays["image"])), -1)
    agree = np.mean(pred == np.argmax(arrays["logits"], -1))
    assert agree > 0.999


def test_wrong_shapes_and_foreign_keys_are_named(converted):
    _, _, _, state = converted
    bad = dict(state)
    bad["seg.weight"] = bad["seg.weight"][:18]
    with pytest.raises(ConversionError, match=r"seg\.weight: checkpoint \(18, 512, 1, 1\) vs drn_d_105 "
                                              r"\(19, 512, 1, 1\)"):
        drn.convert_state_dict(bad)
    foreign = {"features.0.weight": np.zeros((64, 3, 11, 11), np.float32)}
    with pytest.raises(ConversionError, match=r"not a drn_d_105 checkpoint: missing keys base\.0\.0\.weight, .* in all\); "
                                              r"unexpected keys features\.0\.weight"):
        drn.convert_state_dict(foreign)
