"""ClassConv (Eq. (2)): the class-partitioned form equals the per-class loop; local fusion (Eq. (4), (5))."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.class_conv import ClassConv, LocalFusionConv, class_index_map, fuse_sum

N = 5


def label_masks(batch=2, height=12, width=10, num_classes=N, absent=(), seed=0):
    """One-hot masks of a random label map with many borders and a void (all-zero) block; `absent` classes unused."""
    rng = np.random.default_rng(seed)
    present = [i for i in range(num_classes) if i not in absent]
    labels = rng.choice(present, size=(batch, height, width))
    labels[:, 2:5, 3:7] = -1  # void region
    masks = np.stack([labels == i for i in range(num_classes)], axis=-1).astype("float32")
    return masks, labels


def make_pair(k, cin=4, masks=None, features=None, seed=1):
    """A partition and a loop layer with the same random (not tiny) weights, both built."""
    rng = np.random.default_rng(seed)
    part, loop = ClassConv(N, kernel_size=k, impl="partition"), ClassConv(N, kernel_size=k, impl="loop")
    for layer in (part, loop):
        layer(features, masks)
    part.kernel.assign(rng.normal(scale=0.3, size=part.kernel.shape))
    part.bias.assign(rng.normal(size=part.bias.shape))
    loop.set_weights(part.get_weights())
    return part, loop


def outputs_and_grads(layer, features, masks):
    f = tf.constant(features)
    probe = tf.constant(np.random.default_rng(7).normal(size=(1, 1, 1, N, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(f)
        y = layer(f, masks)
        loss = tf.reduce_sum(y * probe)
    return y.numpy(), [g.numpy() for g in tape.gradient(loss, [f, layer.kernel, layer.bias])]


def rel_err(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)


@pytest.mark.parametrize("k", [7, 3])
def test_partition_matches_loop_outputs_and_gradients(k):
    masks, _ = label_masks()
    features = np.random.default_rng(2).normal(size=(2, 12, 10, 4)).astype("float32")
    part, loop = make_pair(k, masks=masks, features=features)
    y_part, g_part = outputs_and_grads(part, features, masks)
    y_loop, g_loop = outputs_and_grads(loop, features, masks)
    assert y_part.shape == (2, 12, 10, N, 3)
    np.testing.assert_allclose(y_part, y_loop, atol=1e-5)
    for name, a, b in zip(("features", "kernel", "bias"), g_part, g_loop):
        assert rel_err(a, b) < 1e-4, name
        assert np.abs(b).max() > 0, name  # the comparison is not vacuous


def test_absent_class_gives_tanh_bias_and_no_kernel_gradient():
    masks, _ = label_masks(absent=(1, 3))
    features = np.random.default_rng(3).normal(size=(2, 12, 10, 4)).astype("float32")
    for layer in make_pair(7, masks=masks, features=features):
        y, (_, g_kernel, _) = outputs_and_grads(layer, features, masks)
        bias = layer.bias.numpy()
        for i in (1, 3):
            np.testing.assert_array_equal(y[..., i, :], np.broadcast_to(tf.tanh(bias[i]).numpy(), y[..., i, :].shape))
            assert not np.any(g_kernel[i])
        assert np.abs(g_kernel[0]).max() > 0


def test_void_pixels_contribute_nothing():
    masks, labels = label_masks()
    features = np.random.default_rng(4).normal(size=(2, 12, 10, 4)).astype("float32")
    part, _ = make_pair(3, masks=masks, features=features)
    changed = features.copy()
    changed[labels < 0] += 100.0  # only unlabelled pixels change
    np.testing.assert_allclose(part(changed, masks), part(features, masks), atol=1e-6)


def test_tf_function_and_mixed_bfloat16_close_to_float32():
    masks, _ = label_masks()
    features = np.random.default_rng(5).normal(size=(2, 12, 10, 4)).astype("float32")
    ref, _ = make_pair(7, masks=masks, features=features)
    for sum_in_float32 in (True, False):
        bf = ClassConv(N, dtype="mixed_bfloat16", sum_in_float32=sum_in_float32)
        bf(features, masks)
        bf.set_weights(ref.get_weights())
        y = tf.function(bf)(tf.constant(features), tf.constant(masks))
        assert y.dtype == tf.bfloat16
        np.testing.assert_allclose(tf.cast(y, tf.float32), ref(features, masks), atol=0.05)


def test_dynamic_batch_in_tf_function():
    masks, _ = label_masks(batch=3)
    features = np.random.default_rng(6).normal(size=(3, 12, 10, 4)).astype("float32")
    part, loop = make_pair(3, masks=masks, features=features)
    fn = tf.function(part, input_signature=[tf.TensorSpec([None, 12, 10, 4]), tf.TensorSpec([None, 12, 10, N])])
    np.testing.assert_allclose(fn(features, masks), loop(features, masks), atol=1e-5)


def test_class_index_map_marks_void():
    masks, labels = label_masks()
    np.testing.assert_array_equal(class_index_map(tf.constant(masks)), labels)


@pytest.mark.parametrize("values", [[1.0, 1.0, 0.0], [0.5, 0.0, 0.0], [1.0, -1.0, 1.0]])
def test_non_one_hot_masks_rejected(values):
    masks, _ = label_masks()
    masks[0, 0, 0, :3] = values  # two classes, a soft value, a negative value
    features = np.zeros((2, 12, 10, 4), "float32")
    with pytest.raises(tf.errors.InvalidArgumentError, match="one-hot"):
        ClassConv(N)(features, masks)


@pytest.mark.parametrize("kwargs, masks_shape, match", [
    ({"impl": "grouped"}, (2, 12, 10, N), "impl must be one of"),
    ({"kernel_size": 4}, (2, 12, 10, N), "odd"),
    ({}, (2, 12, 10, N + 1), "num_classes=5"),
    ({}, (2, 12, 8, N), r"masks must be \[B, 12, 10"),
])
def test_bad_arguments_have_clear_errors(kwargs, masks_shape, match):
    with pytest.raises(ValueError, match=match):
        layer = ClassConv(N, **kwargs)
        layer(np.zeros((2, 12, 10, 4), "float32"), np.zeros(masks_shape, "float32"))


def test_parameter_count_official_cityscapes():
    layer = ClassConv(35)
    layer.build((None, 16, 16, 64), (None, 16, 16, 35))
    assert layer.count_params() == 35 * (7 * 7 * 64 * 3 + 3) == 329_385
    # xavier_normal(gain 0.02) with ONE class's fans: std = 0.02 * sqrt(2 / (49 * (64 + 3)))
    assert abs(np.std(layer.kernel.numpy()) / (0.02 * np.sqrt(2 / (49 * 67))) - 1) < 0.02


def test_get_config_round_trip_and_checkpoint(tmp_path):
    masks, _ = label_masks()
    features = np.random.default_rng(8).normal(size=(2, 12, 10, 4)).astype("float32")
    layer = ClassConv(N, kernel_size=3, impl="loop", sum_in_float32=False, name="subgen")
    layer(features, masks)
    clone = ClassConv.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(features, masks)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(features, masks), layer(features, masks))
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, ClassConv) and restored.impl == "loop"

    path = tf.train.Checkpoint(layer=layer).write(os.path.join(tmp_path, "ckpt"))
    stored = {name: shape for name, shape in tf.train.list_variables(path) if "OPTIMIZER" not in name}
    assert sorted(s for n, s in stored.items() if n.startswith("layer/")) == sorted(
        [list(v.shape) for v in layer.weights])


def test_local_fusion_conv_and_fuse_sum(tmp_path):
    rng = np.random.default_rng(9)
    u = rng.uniform(-1, 1, size=(2, 12, 10, N, 3)).astype("float32")
    np.testing.assert_allclose(fuse_sum(u), u.sum(axis=3), rtol=1e-6)
    fusion = LocalFusionConv(name="fuse")
    y = fusion(u)
    assert y.shape == (2, 12, 10, 3)
    assert fusion.count_params() == 3 * N * 9 * 3 + 3
    concat = np.concatenate([u[..., i, :] for i in range(N)], axis=-1)  # torch.cat order: class-major
    conv = fusion.fusion_conv
    want = np.tanh(tf.nn.conv2d(concat, conv.kernel, 1, "SAME") + conv.bias)
    np.testing.assert_allclose(y, want, atol=1e-6)
    assert LocalFusionConv.from_config(fusion.get_config()).get_config() == fusion.get_config()
    ckpt_vars = [n for n, _ in tf.train.list_variables(tf.train.Checkpoint(f=fusion).write(str(tmp_path / "c")))]
    assert sum(n.startswith("f/") for n in ckpt_vars) == 2
    with pytest.raises(ValueError, match=r"\[B, H, W, N, C\]"):
        LocalFusionConv()(concat)


def test_local_fusion_conv_follows_mixed_bfloat16():
    u = np.random.default_rng(10).uniform(-1, 1, size=(1, 12, 10, N, 3)).astype("float32")
    fusion = LocalFusionConv(dtype="mixed_bfloat16")
    assert fusion(u).dtype == tf.bfloat16 and fusion.fusion_conv.kernel.dtype == tf.float32
