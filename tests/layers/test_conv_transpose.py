"""`ConvTranspose` equals PyTorch's ConvTranspose2d: a literal NumPy reference and the official fixtures."""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.common import ConvTranspose, conv_transpose_torch, same_size_transpose_padding
from tests.convert.conftest import parity_file

RNG = np.random.default_rng(3)


def torch_conv_transpose(x, weight, bias, stride, padding, output_padding):
    """PyTorch's definition, literally, in float64: input pixel (i, j) adds x[i, j] @ weight[:, :, a, b] to output
    pixel (s*i - p + a, s*j - p + b); the output is (H - 1)s - 2p + k + op. x: [B, H, W, Cin] NHWC;
    weight: [Cin, Cout, k, k] (PyTorch layout); returns [B, Ho, Wo, Cout]."""
    b, h, w, _ = x.shape
    k = weight.shape[2]
    ho, wo = ((n - 1) * stride - 2 * padding + k + output_padding for n in (h, w))
    out = np.zeros((b, ho, wo, weight.shape[1]))
    for i in range(h):
        for j in range(w):
            for a in range(k):
                for c in range(k):
                    oy, ox = stride * i - padding + a, stride * j - padding + c
                    if 0 <= oy < ho and 0 <= ox < wo:
                        out[:, oy, ox, :] += x[:, i, j, :].astype(np.float64) @ weight[:, :, a, c]
    return out + bias


def layer_with_torch_weights(weight, bias, stride, padding=None, output_padding=None, dtype=None):
    """A ConvTranspose holding a PyTorch [Cin, Cout, k, k] weight (as a converter stores it: transpose(2,3,1,0))."""
    layer = ConvTranspose(weight.shape[1], weight.shape[2], stride, padding, output_padding, dtype=dtype)
    layer.build((None, None, None, weight.shape[0]))
    layer.deconv.kernel.assign(weight.transpose(2, 3, 1, 0))
    layer.deconv.bias.assign(bias)
    return layer


# (k, s, p, op): the official G_l / G_w / cross-view shape, Table 12's deconv, pix2pix's, op > p (zero rows).
SHAPES = [(3, 2, 1, 1), (2, 2, 0, 0), (4, 2, 1, 0), (3, 2, 0, 1)]


@pytest.mark.parametrize("k,s,p,op", SHAPES)
@pytest.mark.parametrize("hw", [(5, 6), (4, 3)])
def test_matches_pytorch_definition(k, s, p, op, hw):
    # Activations of order 1 (as in the models), so float32 rounding stays well under the 1e-6 bar.
    x = RNG.uniform(-1, 1, size=(2, *hw, 3)).astype(np.float32)
    weight = RNG.uniform(-0.3, 0.3, size=(3, 4, k, k)).astype(np.float32)
    bias = RNG.uniform(-0.3, 0.3, size=4).astype(np.float32)
    layer = layer_with_torch_weights(weight, bias, s, p, op)
    y = layer(tf.constant(x)).numpy()
    ref = torch_conv_transpose(x, weight, bias, s, p, op)
    assert y.shape == ref.shape == layer.compute_output_shape(x.shape)
    assert np.abs(ref).max() > 0.5
    assert np.abs(y - ref).max() <= 1e-6
    # Both methods of conv_transpose_torch ('auto' above picks one per dtype), bias added here.
    for method in ("explicit", "window") if op <= p else ("window",):
        y = conv_transpose_torch(tf.constant(x), weight.transpose(2, 3, 1, 0), s, p, op, method).numpy() + bias
        assert np.abs(y - ref).max() <= 1e-6, method


def test_defaults_are_the_official_shapes_and_keep_variables(tmp_path):
    assert same_size_transpose_padding(3, 2) == (1, 1) and same_size_transpose_padding(2, 2) == (0, 0)
    assert same_size_transpose_padding(4, 2) == (1, 0)
    layer = ConvTranspose(4, name="up")
    y = layer(tf.zeros([2, 5, 6, 3]))
    assert y.shape == (2, 10, 12, 4)
    assert (layer.padding, layer.output_padding) == (1, 1)
    assert layer.get_config()["padding"] == 1 and layer.get_config()["output_padding"] == 1
    # The variable paths of the Keras-'same' version, so its checkpoints still load.
    assert [v.path for v in layer.weights] == ["up/deconv/kernel", "up/deconv/bias"]
    path = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "ckpt"))
    assert [n for n, _ in tf.train.list_variables(path)] == [
        "_CHECKPOINTABLE_OBJECT_GRAPH", "layer/deconv/bias/.ATTRIBUTES/VARIABLE_VALUE",
        "layer/deconv/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert [tuple(v.shape) for v in layer.deconv.weights] == [(3, 3, 4, 3), (4,)]
    with pytest.raises(ValueError, match="output_padding < strides"):
        ConvTranspose(4, 3, 2, 1, 2)


def test_not_the_keras_same_phase():
    """The taps land one pixel later than Keras 'same' (the old implementation): the fix is not a no-op."""
    x = RNG.normal(size=(1, 4, 4, 2)).astype(np.float32)
    weight = RNG.normal(size=(2, 2, 3, 3)).astype(np.float32)
    ours = layer_with_torch_weights(weight, np.zeros(2, np.float32), 2)(tf.constant(x)).numpy()
    keras_same = tf.nn.conv2d_transpose(x, weight.transpose(2, 3, 1, 0), [1, 8, 8, 2], 2, "SAME").numpy()
    np.testing.assert_allclose(ours[:, :-1, :-1], keras_same[:, 1:, 1:], atol=1e-6)
    assert np.abs(ours - keras_same).max() > 0.1


def test_mixed_bfloat16_and_gradients():
    x = RNG.normal(size=(2, 5, 6, 3)).astype(np.float32)
    weight = RNG.normal(size=(3, 4, 3, 3)).astype(np.float32)
    bias = RNG.normal(size=4).astype(np.float32)
    layer = layer_with_torch_weights(weight, bias, 2, dtype="mixed_bfloat16")
    with tf.GradientTape() as tape:
        y = layer(tf.constant(x))
        loss = tf.reduce_sum(tf.cast(y, tf.float32) ** 2)
    assert y.dtype == tf.bfloat16 and layer.deconv.kernel.dtype == "float32"
    ref = torch_conv_transpose(x, weight, bias, 2, 1, 1)
    assert np.abs(tf.cast(y, tf.float32).numpy() - ref).max() <= 0.05 * np.abs(ref).max()
    grads = tape.gradient(loss, layer.trainable_variables)
    assert all(g is not None and g.dtype == tf.float32 for g in grads)


def instance_norm_relu(x):
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    return np.maximum((x - mean) / np.sqrt(var + 1e-5), 0.0)


@pytest.mark.parametrize("fixture", ["lggan_sis_cityscapes_ngf4", "lggan_crossview_ngf8"])
def test_official_local_branch_upsampling(fixture):
    """local_features = relu(IN(deconv4_local(relu(IN(deconv3_local(local_res9)))))) of the official forward pass,
    recomputed with our ConvTranspose from the official weights (NumPy instance norm)."""
    with np.load(parity_file(f"{fixture}.npz")) as npz:
        x, expected = npz["local_res9"].transpose(0, 2, 3, 1), npz["local_features"].transpose(0, 2, 3, 1)
        state = {k[len("state/"):]: npz[k] for k in npz.files if k.startswith("state/deconv")}
    for name in ("deconv3_local", "deconv4_local"):
        layer = layer_with_torch_weights(state[f"{name}.weight"], state[f"{name}.bias"], 2)
        x = instance_norm_relu(layer(tf.constant(x, tf.float32)).numpy().astype(np.float64))
    assert x.shape == expected.shape
    assert np.abs(x - expected).max() <= 1e-5 * np.abs(expected).max()
