"""The Table 12 upsampler registry: shapes, values of the fixed ones, parameter counts, config and checkpoints."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.upsampling import UPSAMPLERS, build_upsampler

C = 16


@pytest.fixture(scope="module")
def x():
    return tf.random.stateless_normal([2, 5, 6, C], seed=[0, 1])


def test_registry_names_follow_table_12():
    assert UPSAMPLERS == ("nearest", "bilinear", "bicubic", "deconv", "pixel_shuffle", "spatial_attention",
                          "involution", "sau")


@pytest.mark.parametrize("name", UPSAMPLERS)
def test_upsampler_shape_config_checkpoint_and_gradients(name, x, tmp_path):
    layer = build_upsampler(name, C)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True) if name == "involution" else layer(x)
        loss = tf.reduce_sum(tf.square(y))
    assert y.shape == (2, 10, 12, C) and y.dtype == tf.float32
    grads = tape.gradient(loss, [x] + layer.trainable_variables)
    assert all(g is not None for g in grads)
    assert float(tf.reduce_max(tf.abs(grads[0]))) > 0

    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    y_clone = clone(x, training=True) if name == "involution" else clone(x)
    np.testing.assert_allclose(y_clone.numpy(), y.numpy(), atol=1e-6)

    path = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "ckpt"))
    saved = [n for n, _ in tf.train.list_variables(path) if "OBJECT_GRAPH" not in n]
    assert len(saved) == len(layer.weights)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="valid names: nearest, bilinear, .*, sau"):
        build_upsampler("carafe", C)


@pytest.mark.parametrize("name", ["deconv", "pixel_shuffle", "spatial_attention", "involution"])
def test_channel_mismatch_is_reported(name, x):
    with pytest.raises(ValueError, match="channels=8"):
        build_upsampler(name, 8)(x)


def trainable_count(layer):
    return sum(int(np.prod(v.shape)) for v in layer.trainable_variables)


@pytest.mark.parametrize("name,formula", [
    ("deconv", lambda c: 4 * c * c + c),
    ("pixel_shuffle", lambda c: 36 * c * c + 4 * c),
    ("spatial_attention", lambda c: 2 * (c * c // 8 + c // 8) + c * c + c + 1),
    ("involution", lambda c: 16 * c + 16 + 16 * 49 + 49),
    ("sau", lambda c: 64 * c + 64 + 64 * 100 * 9 + 100),
])
def test_parameter_counts(name, formula):
    for c in (128, 256):
        layer = build_upsampler(name, c)
        layer.build((1, 4, 4, c))
        assert trainable_count(layer) == formula(c)


def test_nearest_and_bilinear_values(x):
    xn = x.numpy()
    np.testing.assert_array_equal(build_upsampler("nearest", C)(x).numpy(), xn.repeat(2, 1).repeat(2, 2))
    # PyTorch align_corners=False: source coordinate (dst + 0.5) / 2 - 0.5, clamped at the borders.
    def axis_weights(n):
        src = np.clip((np.arange(2 * n) + 0.5) / 2 - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        m = np.zeros((2 * n, n))
        m[np.arange(2 * n), lo] += 1 - (src - lo)
        m[np.arange(2 * n), hi] += src - lo
        return m
    expected = np.einsum("yh,xw,bhwc->byxc", axis_weights(5), axis_weights(6), xn)
    np.testing.assert_allclose(build_upsampler("bilinear", C)(x).numpy(), expected, atol=1e-5)
    bicubic = build_upsampler("bicubic", C)(x).numpy()
    assert not np.allclose(bicubic, expected, atol=1e-3)


def test_spatial_attention_starts_as_nearest_and_mixes_positions(x):
    layer = build_upsampler("spatial_attention", C)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy().repeat(2, 1).repeat(2, 2), atol=1e-6)  # gamma = 0
    layer.gamma.assign(1.0)
    y = layer(x).numpy()
    value = layer.value_conv(x).numpy()
    # With gamma = 1 the residual adds a convex combination of the value vectors at every position.
    attended = y[:, ::2, ::2] - x.numpy()
    assert np.all(attended <= value.max(axis=(1, 2), keepdims=True) + 1e-5)
    assert np.all(attended >= value.min(axis=(1, 2), keepdims=True) - 1e-5)


def test_involution_with_centre_tap_kernels_is_nearest(x):
    layer = build_upsampler("involution", C, kernel_size=3)
    layer.build(x.shape)
    layer.span_conv.kernel.assign(tf.zeros_like(layer.span_conv.kernel))
    layer.span_conv.bias.assign(tf.one_hot(4, 9))  # kernel = centre tap only
    np.testing.assert_allclose(layer(x).numpy(), x.numpy().repeat(2, 1).repeat(2, 2), atol=1e-6)
    assert layer.reduce_norm.moving_mean.shape == (16,)


def test_deconv_kernel_three_is_the_official_convtranspose_shape(x):
    layer = build_upsampler("deconv", C, kernel_size=3)
    assert layer(x).shape == (2, 10, 12, C)
    assert trainable_count(layer) == 9 * C * C + C
    assert type(layer).from_config(layer.get_config()).kernel_size == 3


def test_scale_three(x):
    for name in ("deconv", "pixel_shuffle", "sau", "involution"):
        assert build_upsampler(name, C, scale=3)(x).shape == (2, 15, 18, C)


def test_options_reach_the_layer():
    layer = build_upsampler("sau", C, kernel_size=3, impl="patches")
    assert layer.kernel_size == 3 and layer.impl == "patches"
    assert keras.saving.get_registered_name(type(layer)).startswith("lggan_tf>")
