"""Core layers against NumPy / PyTorch semantics, get_config round trips and checkpoint completeness."""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.blocks import ConvNormAct, ResnetBlock, UpNormAct
from lggan_tf.layers.common import Conv, ConvTranspose, nearest_resize_to
from lggan_tf.layers.norms import BatchNorm, InstanceNorm
from lggan_tf.layers.recompute import recompute_grad
from lggan_tf.layers.spade import SPADE, SPADEResBlock
from lggan_tf.models.discriminator import MultiscaleDiscriminator, PatchDiscriminator, avg_pool_exclude_pad
from lggan_tf.models.encoders import SharedEncoder, VAEEncoder
from lggan_tf.models.spade_decoder import SPADEDecoder

RNG = np.random.default_rng(0)
X = tf.constant(RNG.normal(size=(2, 8, 12, 6)).astype(np.float32))
SEG = tf.constant(np.eye(4, dtype=np.float32)[RNG.integers(0, 4, size=(2, 16, 24))])


def stored_variables(layer, tmp_path):
    path = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "ckpt"))
    return [n for n, _ in tf.train.list_variables(path) if n.startswith("layer/") and n.endswith("VARIABLE_VALUE")]


# (factory, call) pairs: every composite layer of the models.
CASES = {
    "conv_sn": (lambda: Conv(5, 3, 2, 1, spectral=True), lambda l: l(X, training=True)),
    "conv_reflect": (lambda: Conv(5, 7, pad_mode="reflect"), lambda l: l(X)),
    "conv_transpose": (lambda: ConvTranspose(4), lambda l: l(X)),
    "batch_norm": (lambda: BatchNorm(), lambda l: l(X, training=True)),
    "spade": (lambda: SPADE("batch", 8), lambda l: l(X, SEG, training=True)),
    "spade_resblock": (lambda: SPADEResBlock(3, "batch", 8), lambda l: l(X, SEG, training=True)),
    "conv_norm_act": (lambda: ConvNormAct(4, 3, 2, 1), lambda l: l(X)),
    "resnet_block": (lambda: ResnetBlock(), lambda l: l(X)),
    "up_norm_act_sau": (lambda: UpNormAct(3, upsampler="sau"), lambda l: l(X)),
    "patch_d": (lambda: PatchDiscriminator(4, 5, 2), lambda l: l(X, training=True)),
    "multiscale_d": (lambda: MultiscaleDiscriminator(4), lambda l: l(X, training=True)),
    "shared_encoder": (lambda: SharedEncoder(2, (1, 1)), lambda l: l(SEG)),
    "vae_encoder": (lambda: VAEEncoder(2, 8, 32), lambda l: l(tf.zeros([2, 16, 16, 3]), training=True)),
    "spade_decoder": (lambda: SPADEDecoder(2, "normal", "batch", 8),
                      lambda l: l(tf.zeros([2, 1, 1, 32]), tf.zeros([2, 32, 32, 4]), training=True)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip_and_checkpoint_holds_every_variable(name, tmp_path):
    make, call = CASES[name]
    layer = make()
    call(layer)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    call(clone)
    for a, b in zip(layer.weights, clone.weights):
        b.assign(a)
    # Same state in, same output (training calls advance spectral-norm vectors identically in both).
    np.testing.assert_allclose(tf.nest.flatten(call(clone))[0], tf.nest.flatten(call(layer))[0], atol=1e-5)
    stored = stored_variables(layer, tmp_path)
    assert len(stored) == len(layer.weights) > 0
    if name in ("conv_sn", "spade_resblock", "multiscale_d"):
        assert any("vector_u" in n for n in stored)
    if name in ("batch_norm", "spade", "spade_decoder"):
        assert any("moving_mean" in n for n in stored) and any("moving_variance" in n for n in stored)


def test_instance_norm_matches_numpy():
    x = X.numpy()
    expected = (x - x.mean((1, 2), keepdims=True)) / np.sqrt(x.var((1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(InstanceNorm()(X), expected, atol=1e-5)


def test_batch_norm_running_statistics_as_pytorch():
    bn = BatchNorm()
    y = bn(X, training=True).numpy()
    x = X.numpy()
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), atol=1e-5)
    n = x.shape[0] * x.shape[1] * x.shape[2]
    np.testing.assert_allclose(bn.moving_mean, 0.1 * mean, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance, 0.9 + 0.1 * var * n / (n - 1), atol=1e-6)
    np.testing.assert_allclose(bn(X, training=False), (x - bn.moving_mean.numpy()) /
                               np.sqrt(bn.moving_variance.numpy() + 1e-5), atol=1e-5)


def test_spade_formula_and_label_resize():
    spade = SPADE("instance", 8)
    out = spade(X, SEG).numpy()
    seg = SEG.numpy()[:, ::2, ::2]  # PyTorch nearest 16x24 -> 8x12 samples the top-left pixel of each block
    actv = tf.nn.relu(spade.mlp_shared(seg))
    gamma, beta = spade.mlp_gamma(actv).numpy(), spade.mlp_beta(actv).numpy()
    np.testing.assert_allclose(out, InstanceNorm()(X).numpy() * (1 + gamma) + beta, atol=1e-5)


def test_nearest_resize_uses_pytorch_indices():
    x = tf.reshape(tf.range(6 * 10, dtype=tf.float32), [1, 6, 10, 1])
    out = nearest_resize_to(x, 4, 4)[0, :, :, 0].numpy()
    rows, cols = [(i * 6) // 4 for i in range(4)], [(j * 10) // 4 for j in range(4)]
    np.testing.assert_array_equal(out, x[0, :, :, 0].numpy()[np.ix_(rows, cols)])


def test_stride2_conv_pads_like_pytorch():
    conv = Conv(2, 3, 2, 1, use_bias=False)
    y = conv(X)
    manual = tf.nn.conv2d(tf.pad(X, [[0, 0], [1, 1], [1, 1], [0, 0]]), conv.kernel, 2, "VALID")
    np.testing.assert_allclose(y, manual, atol=1e-6)
    assert y.shape == (2, 4, 6, 2)


def test_spectral_norm_converges_to_unit_sigma():
    conv = Conv(6, 3, spectral=True, kernel_initializer="random_normal")
    for _ in range(30):
        conv(X, training=True)
    w = conv._normalized_kernel(False).numpy().reshape(-1, 6)
    assert abs(np.linalg.svd(w, compute_uv=False)[0] - 1.0) < 1e-3


def test_avg_pool_excludes_padding_and_d_sizes():
    x = RNG.normal(size=(1, 5, 6, 1)).astype(np.float32)
    out = avg_pool_exclude_pad(tf.constant(x)).numpy()[0, :, :, 0]
    for i in range(3):
        for j in range(3):
            window = x[0, max(2 * i - 1, 0):2 * i + 2, max(2 * j - 1, 0):2 * j + 2, 0]
            assert abs(out[i, j] - window.mean()) < 1e-6
    feats = PatchDiscriminator(4, 5, 2)(tf.zeros([1, 256, 256, 3]))
    assert [f.shape[1] for f in feats] == [129, 65, 33, 34, 35]  # spade_official_code.md §2.2


def test_recompute_gives_the_same_gradients_and_updates_statistics_once():
    block = SPADEResBlock(3, "batch", 8)
    block(X, SEG, training=True)
    start = [v.numpy() for v in block.non_trainable_weights]

    def grads(wrapped):
        for v, s in zip(block.non_trainable_weights, start):
            v.assign(s)
        with tf.GradientTape() as tape:
            fn = (lambda a, s: block(a, s, training=True))
            y = recompute_grad(fn)(X, SEG) if wrapped else fn(X, SEG)
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, block.trainable_weights), [v.numpy() for v in block.non_trainable_weights]

    plain, stats_plain = grads(False)
    recomputed, stats_recomputed = grads(True)
    for a, b in zip(plain, recomputed):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for a, b in zip(stats_plain, stats_recomputed):
        np.testing.assert_allclose(a, b, atol=1e-7)
