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


def test_converted_directory_is_a_segmenter_with_the_protocol(converted, tmp_path):
    from lggan_tf.metrics.segmentation import Segmenter

    model, arrays, _, _ = converted
    out = drn.save_converted(model, str(tmp_path / "drn"))
    seg = Segmenter.load(out)
    assert (seg.num_classes, seg.input_range, seg.input_size) == (19, "0,1", (256, 512))
    assert seg.map_labels(np.array([[7, 26, 0]])).tolist() == [[0, 13, 255]]  # road, car, unlabeled ignored
    image = np.round(arrays["image"] * 255).astype(np.uint8)
    seg.input_size = None  # the fixture's 64x128 as is
    expected = np.argmax(np.asarray(model(image.astype(np.float32) / 255.0)), -1)
    assert np.array_equal(seg.predict(image), expected)
