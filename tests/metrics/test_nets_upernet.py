"""UperNet-101 (lggan_tf.metrics.nets.upernet) against CSAILVision/semantic-segmentation-pytorch run in PyTorch
(tests/metrics/fixtures/upernet_101.*, made by tools/make_upernet_fixture.py): same seeded weights through
convert_state_dict; the encoder + decoder on a 64x96 input, and eval.py's multi-scale test on a 40x56 image."""

import keras
import numpy as np
import pytest

from lggan_tf.metrics.nets import upernet
from lggan_tf.metrics.nets.common import ConversionError, assign_weights
from tests.metrics.seg_net_fixtures import TOLERANCE, assert_layout_matches, load_fixture, relative_error


@pytest.fixture(scope="module")
def converted():
    arrays, meta, state = load_fixture("upernet_101")
    model = upernet.build(short_sides=meta["short_sides"], max_size=meta["max_size"],
                          padding_constant=meta["padding_constant"])
    assign_weights(model, upernet.convert_state_dict(state))
    return model, arrays, meta, state


def test_layout_is_the_reference_state_dict(converted):
    assert_layout_matches(upernet.layout(), converted[2], upernet.UNUSED_BUFFERS)


def test_core_logits_and_encoder_stages_match_pytorch(converted):
    model, arrays, _, _ = converted
    core = model.get_layer("core")
    stages = [core.get_layer(f"encoder.layer{i}.{n - 1}.relu").output
              for i, (_, _, n, _) in enumerate(upernet._STAGES, start=1)]
    got = keras.Model(core.input, [core.output] + stages)(arrays["normalized"])
    assert relative_error(got[0], arrays["logits"]) <= TOLERANCE
    for i, out in enumerate(got[1:], start=1):
        assert relative_error(np.asarray(out)[..., :4], arrays[f"layer{i}"]) <= TOLERANCE, f"layer{i}"


def test_multiscale_scores_match_eval_py(converted):
    model, arrays, _, _ = converted
    scores = np.asarray(model(arrays["ms_image"].astype(np.float32) / 255.0))
    assert scores.shape == (1, 40, 56, 150)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)  # a mean of softmaxes
    assert relative_error(scores[..., :24], arrays["ms_scores24"]) <= TOLERANCE
    assert np.array_equal(np.argmax(scores, -1), arrays["ms_argmax"])
    image = arrays["ms_image"].astype(np.float32) / 255.0  # each scale's logits at 40x56, before the softmax
    names = [f"seg_size{i}" for i in range(len(converted[2]["short_sides"]))]
    per_scale = keras.Model(model.input, [model.get_layer(n).output for n in names])(image)
    for i, logits in enumerate(per_scale):
        assert relative_error(np.asarray(logits)[..., :8], arrays[f"ms_logits{i}"]) <= TOLERANCE, names[i]


@pytest.mark.parametrize("src,dst", [((40, 56), (64, 96)), ((256, 256), (320, 320)), ((256, 512), (384, 768)),
                                     ((700, 500), (448, 320))])
def test_resize_is_bit_exact_pil_bilinear(src, dst):
    image_mod = pytest.importorskip("PIL.Image")
    img = np.random.default_rng(sum(src)).integers(0, 256, (*src, 3), dtype=np.uint8)
    ref = np.asarray(image_mod.fromarray(img).resize(dst[::-1], image_mod.BILINEAR))
    ours = np.asarray(upernet.pil_bilinear_resize(img[None].astype(np.float32), dst))[0]
    assert np.array_equal(ours, ref)


def test_the_published_pair_converts_like_the_module_state(converted):
    _, _, _, state = converted
    pair = {k.split(".", 1)[1]: v for k, v in state.items()}  # encoder_epoch_*.pth + decoder_epoch_*.pth keys
    assert len(pair) == len(state)
    ours, ref = upernet.convert_state_dict(pair), upernet.convert_state_dict(state)
    assert ours.keys() == ref.keys() and all(np.array_equal(ours[k], ref[k]) for k in ref)


def test_incomplete_checkpoints_are_named(converted):
    _, _, _, state = converted
    bad = dict(state)
    del bad["decoder.conv_last.1.bias"]
    with pytest.raises(ConversionError, match=r"not a upernet_101 checkpoint: missing keys decoder\.conv_last\.1"
                                              r"\.bias"):
        upernet.convert_state_dict(bad)
    encoder_only = {k: v for k, v in state.items() if k.startswith("encoder.")}
    with pytest.raises(ConversionError, match=r"missing keys decoder\..*\(\+\d+ more; \d+ in all\)"):
        upernet.convert_state_dict(encoder_only)
