"""SAFU reassembly (both impls vs NumPy Eq. (1)), SAKG size, the SAU layer, guidance and mixed precision."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.common import nearest_resize_to
from lggan_tf.layers.sau import SemanticAwareUpsampling, fold_offsets, reassemble


def reassemble_np(features, kernels, s, k, d):
    """Eq. (1) literally: nearest x s expansion, zero-padded k x k (dilation d) window, weighted sum."""
    b, h, w, c = features.shape
    up = features.repeat(s, axis=1).repeat(s, axis=2)
    lo = d * (k // 2)
    up = np.pad(up, [(0, 0), (lo, lo + d * k), (lo, lo + d * k), (0, 0)])
    out = np.zeros((b, s * h, s * w, c), np.float64)
    for i in range(k):
        for j in range(k):
            window = up[:, d * i:d * i + s * h, d * j:d * j + s * w, :]
            out += kernels[..., i * k + j, None] * window
    return out


def random_case(h, w, s, k, c=3, b=2, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(b, h, w, c)).astype(np.float32)
    kernels = rng.normal(size=(b, s * h, s * w, k * k)).astype(np.float32)
    return features, kernels


CASES = [  # (H, W, scale, kernel_size, dilation): odd/even H and W, odd/even k, s 2 and 3, d 1 and 2
    (5, 6, 2, 5, 1), (4, 7, 2, 3, 2), (5, 5, 3, 5, 1), (4, 4, 2, 4, 1), (3, 5, 2, 4, 2), (6, 5, 3, 3, 2),
    (4, 6, 2, 5, 2),
]


@pytest.mark.parametrize("impl", ["lean", "patches"])
@pytest.mark.parametrize("h,w,s,k,d", CASES)
def test_reassemble_matches_numpy_formula(impl, h, w, s, k, d):
    features, kernels = random_case(h, w, s, k)
    out = reassemble(features, kernels, scale=s, kernel_size=k, dilation=d, impl=impl).numpy()
    assert out.shape == (2, s * h, s * w, 3)
    np.testing.assert_allclose(out, reassemble_np(features, kernels, s, k, d), atol=1e-5)


def test_fold_offsets_counts_distinct_source_pixels():
    assert fold_offsets(2, 5, 1)[:2] == (-1, 3)  # 25 taps fold onto a 3x3 window of x (perf_notes §3)
    assert fold_offsets(2, 5, 2)[:2] == (-2, 5)  # dilation s = CARAFE: 5x5 distinct pixels
    t_min, n, r = fold_offsets(3, 4, 1)
    assert r.shape == (3, n, 4) and np.all(r.sum(axis=1) == 1)  # every tap reads exactly one offset


@pytest.mark.parametrize("h,w,s,k,d", [(5, 6, 2, 5, 1), (4, 5, 2, 4, 2), (3, 4, 3, 3, 1)])
def test_lean_and_patches_gradients_agree(h, w, s, k, d):
    features, kernels = random_case(h, w, s, k, c=4, seed=1)
    upstream = np.random.default_rng(2).normal(size=(2, s * h, s * w, 4)).astype(np.float32)
    grads = {}
    for impl in ("lean", "patches"):
        f, kk = tf.constant(features), tf.constant(kernels)
        with tf.GradientTape() as tape:
            tape.watch([f, kk])
            loss = tf.reduce_sum(reassemble(f, kk, s, k, d, impl) * upstream)
        grads[impl] = [g.numpy() for g in tape.gradient(loss, [f, kk])]
    for lean_grad, patches_grad in zip(grads["lean"], grads["patches"]):
        assert np.abs(patches_grad).max() > 0.1
        np.testing.assert_allclose(lean_grad, patches_grad, atol=1e-5)


def test_reassemble_rejects_bad_input():
    features, kernels = random_case(4, 4, 2, 5)
    with pytest.raises(ValueError, match="kernels must have shape"):
        reassemble(features, kernels[..., :9], kernel_size=5)
    with pytest.raises(ValueError, match="impl must be one of"):
        reassemble(features, kernels, impl="fast")


def test_sakg_parameter_count():
    layer = SemanticAwareUpsampling(scale=2, kernel_size=5, compressed_channels=64, encoder_kernel_size=3)
    layer.build((1, 8, 8, 256))
    assert layer.count_params() == 74_148  # 256*64 + 64 + 64*100*9 + 100
    big = SemanticAwareUpsampling()
    big.build((1, 4, 4, 1024))
    assert big.count_params() == 123_300


@pytest.mark.parametrize("impl", ["lean", "patches"])
def test_uniform_kernels_give_box_filter_of_nearest_expansion(impl):
    x = np.random.default_rng(3).normal(size=(1, 5, 6, 4)).astype(np.float32)
    layer = SemanticAwareUpsampling(kernel_size=5, compressed_channels=8, impl=impl)
    layer.build(x.shape)
    layer.set_weights([np.zeros_like(v) for v in layer.get_weights()])
    box = reassemble_np(x, np.full((1, 10, 12, 25), 1 / 25, np.float32), 2, 5, 1)
    np.testing.assert_allclose(layer(x).numpy(), box, atol=1e-5)


def test_layer_uses_predicted_kernels_and_round_trips(tmp_path):
    x = tf.random.stateless_normal([2, 6, 5, 8], seed=[1, 2])
    layer = SemanticAwareUpsampling(kernel_size=3, compressed_channels=4, dilation=2)
    y = layer(x)
    kernels = layer.predict_kernels(x)
    assert kernels.shape == (2, 12, 10, 9) and kernels.dtype == tf.float32
    np.testing.assert_allclose(tf.reduce_sum(kernels, -1).numpy(), 1.0, atol=1e-5)
    np.testing.assert_allclose(y.numpy(), reassemble_np(x.numpy(), kernels.numpy(), 2, 3, 2), atol=1e-5)

    clone = SemanticAwareUpsampling.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), y.numpy(), atol=1e-6)

    path = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "ckpt"))
    saved = [name for name, _ in tf.train.list_variables(path) if "OBJECT_GRAPH" not in name]
    assert len(saved) == len(layer.weights) == 4


def test_external_guidance_predicts_kernels_from_the_guide():
    x = tf.random.stateless_normal([1, 4, 6, 8], seed=[3, 4])
    guide = tf.one_hot(tf.random.stateless_uniform([1, 16, 24], [5, 6], maxval=5, dtype=tf.int32), 5)
    layer = SemanticAwareUpsampling(kernel_size=5, compressed_channels=4, guidance="external")
    y = layer(x, guide)
    assert layer.channel_compressor.kernel.shape == (1, 1, 5, 4)  # built on the guide's channels
    expected = reassemble(x, layer.predict_kernels(nearest_resize_to(guide, 4, 6)))
    np.testing.assert_allclose(y.numpy(), expected.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="layer\\(x, guide\\)"):
        layer(x)


def test_constructor_rejects_bad_options():
    with pytest.raises(ValueError, match="impl"):
        SemanticAwareUpsampling(impl="fast")
    with pytest.raises(ValueError, match="guidance"):
        SemanticAwareUpsampling(guidance="labels")
    with pytest.raises(ValueError, match="encoder_kernel_size must be odd"):
        SemanticAwareUpsampling(encoder_kernel_size=2)


@pytest.fixture
def mixed_bfloat16():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("impl", ["lean", "patches"])
def test_sau_under_mixed_bfloat16(mixed_bfloat16, impl):
    x = tf.random.stateless_normal([1, 6, 8, 16], seed=[7, 8])
    layer = SemanticAwareUpsampling(compressed_channels=8, impl=impl)

    @tf.function
    def step(inp):
        with tf.GradientTape() as tape:
            tape.watch(inp)
            out = layer(inp)
            loss = tf.reduce_sum(tf.square(tf.cast(out, tf.float32)))
        return out, tape.gradient(loss, [inp] + layer.trainable_variables)

    y, grads = step(x)
    assert y.dtype == tf.bfloat16 and y.shape == (1, 12, 16, 16)
    assert layer.kernel_encoder.kernel.dtype == tf.float32
    assert all(bool(tf.reduce_all(tf.math.is_finite(tf.cast(g, tf.float32)))) for g in grads)
    reference = reassemble(x, layer.predict_kernels(tf.cast(x, tf.float32)).numpy().astype(np.float32))
    np.testing.assert_allclose(tf.cast(y, tf.float32).numpy(), reference.numpy(), atol=0.05, rtol=0.05)


@pytest.mark.parametrize("h,w,s,k,d", [(11, 6, 2, 5, 1), (9, 5, 2, 7, 1), (8, 7, 3, 3, 2), (2, 5, 2, 5, 2)])
def test_chunked_lean_matches_patches_in_values_and_gradients(monkeypatch, h, w, s, k, d):
    """One-row chunks (shorter than the farthest tap offset), batch 3, and an image shorter than n rows: every
    chunk boundary, the halo read before each chunk and the per-image framing are exercised."""
    import lggan_tf.layers.sau as sau

    monkeypatch.setattr(sau, "CHUNK_BYTES", 1)
    monkeypatch.setattr(sau, "DENSE_MAX_BYTES", 0)
    _, n, _ = fold_offsets(s, k, d)
    assert sau._chunk_rows(h, w, 5, n, 4) == [[y, y + 1] for y in range(h)]
    features, kernels = random_case(h, w, s, k, c=5, b=3, seed=4)
    upstream = np.random.default_rng(5).normal(size=(3, s * h, s * w, 5)).astype(np.float32)
    results = {}
    for impl in ("lean", "patches"):
        f, kk = tf.constant(features), tf.constant(kernels)
        with tf.GradientTape() as tape:
            tape.watch([f, kk])
            out = reassemble(f, kk, s, k, d, impl)
            loss = tf.reduce_sum(out * upstream)
        results[impl] = [out.numpy()] + [g.numpy() for g in tape.gradient(loss, [f, kk])]
    np.testing.assert_allclose(results["lean"][0], reassemble_np(features, kernels, s, k, d), atol=1e-5)
    for lean, patches in zip(results["lean"], results["patches"]):
        np.testing.assert_allclose(lean, patches, atol=1e-5)


def test_lean_with_unknown_batch_size_uses_the_dense_form():
    features, kernels = random_case(5, 6, 2, 5, c=4, b=2, seed=6)
    spec = [tf.TensorSpec([None, 5, 6, 4]), tf.TensorSpec([None, 10, 12, 25])]
    traced = tf.function(lambda f, kk: reassemble(f, kk), input_signature=spec)
    assert "DynamicStitch" not in {op.type for op in traced.get_concrete_function().graph.get_operations()}
    np.testing.assert_allclose(traced(features, kernels).numpy(), reassemble_np(features, kernels, 2, 5, 1),
                               atol=1e-5)


def sau_reference(x, weights, s=2, k=5):
    """The SAU layer (SAKG + Eq. (1)) in plain float64 TF ops, independent of lggan_tf.layers.sau: 1x1 compressor
    conv, 3x3 'SAME' kernel encoder, feature shuffle of the s*s phases, softmax over the k*k taps, nearest x s
    expansion and the zero-padded k x k weighted sum. weights: [compressor kernel, bias, encoder kernel, bias]."""
    wc, bc, we, be = weights
    logits = tf.nn.conv2d(tf.nn.conv2d(x, wc, 1, "VALID") + bc, we, 1, "SAME") + be
    b, h, w, _ = logits.shape
    kernels = tf.nn.softmax(tf.reshape(logits, [b, h, w, s, s, k * k]), axis=-1)  # channel (a*s + c)*k*k + tap
    kernels = tf.reshape(tf.transpose(kernels, [0, 1, 3, 2, 4, 5]), [b, s * h, s * w, k * k])
    up = tf.repeat(tf.repeat(x, s, axis=1), s, axis=2)
    r = k // 2
    up = tf.pad(up, [[0, 0], [r, r], [r, r], [0, 0]])
    return tf.add_n([kernels[..., i * k + j, None] * up[:, i:i + s * h, j:j + s * w, :]
                     for i in range(k) for j in range(k)])


def test_layer_lean_and_patches_agree_in_output_and_weight_gradients(monkeypatch):
    """Both impls of the layer against the plain-op reference (float64 autodiff): output, dL/dx and the kernel
    predictor's weight gradients."""
    import lggan_tf.layers.sau as sau

    monkeypatch.setattr(sau, "DENSE_MAX_BYTES", 0)  # the chunked form, as at full size
    x = tf.random.stateless_normal([2, 7, 9, 6], seed=[9, 10])
    layers = {impl: SemanticAwareUpsampling(compressed_channels=4, impl=impl) for impl in ("lean", "patches")}
    layers["lean"].build(x.shape)
    layers["patches"].build(x.shape)
    layers["patches"].set_weights(layers["lean"].get_weights())
    np.testing.assert_allclose(layers["lean"].predict_kernels(x).numpy(),
                               tf.nn.depth_to_space(layers["lean"].predict_phase_kernels(x), 2).numpy(), atol=0)

    def squared_sum_and_grads(forward, x, variables):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = forward(x)
            loss = tf.reduce_sum(tf.square(y))
        return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, [x] + variables)]

    lean = layers["lean"]
    names = [v.path.rsplit("/", 2)[-2:] for v in lean.trainable_variables]
    assert names == [["channel_compressor", "kernel"], ["channel_compressor", "bias"],
                     ["kernel_encoder", "kernel"], ["kernel_encoder", "bias"]]
    ref_vars = [tf.Variable(tf.cast(v, tf.float64)) for v in lean.trainable_variables]
    reference = squared_sum_and_grads(lambda t: sau_reference(t, ref_vars), tf.cast(x, tf.float64), ref_vars)
    results = {impl: squared_sum_and_grads(layer, x, layer.trainable_variables) for impl, layer in layers.items()}
    assert np.abs(reference[2]).max() > 1e-3  # the kernel predictor's weights do get a gradient
    for impl, got in results.items():
        for i, (value, want) in enumerate(zip(got, reference)):
            scale = np.abs(want).max()
            np.testing.assert_allclose(value, want, atol=2e-5 * scale, rtol=0, err_msg=f"{impl} item {i}")
