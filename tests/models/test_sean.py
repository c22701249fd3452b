"""SEAN / SEAN+SAU: ACE against an independent NumPy computation of its equations, region-wise pooling, the
region-swap locality of ACE and of the generator, and the official parameter counts (sean_official_code.md §3, §6)."""

import json

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.ace import ACE
from lggan_tf.models.sean import SEANGenerator, region_average


def one_hot_blocks(batch, h, w, s, seed):
    """Label maps made of random axis-aligned rectangles over a background: one-hot [B,h,w,s] float32."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((batch, h, w), np.int64)
    for b in range(batch):
        for c in range(1, s):
            y0, x0 = rng.integers(0, h - h // 4), rng.integers(0, w - w // 4)
            labels[b, y0:y0 + rng.integers(h // 4, h // 2), x0:x0 + rng.integers(w // 4, w // 2)] = c
    return np.eye(s, dtype=np.float32)[labels], labels


def conv3x3_np(x, kernel, bias):
    """Zero-padded 3x3 'same' convolution, NHWC, kernel [3,3,in,out]."""
    p = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    h, w = x.shape[1:3]
    out = sum(np.einsum("bhwc,cd->bhwd", p[:, i:i + h, j:j + w], kernel[i, j]) for i in range(3) for j in range(3))
    return out + bias


def ace_numpy(ace, x, seg, style, noise):
    """ACE in training mode (batch moments), from its equations (layers/ace.py docstring), with NumPy only."""
    v = {w.path.split("/")[-2] + "/" + w.name if w.name in ("kernel", "bias") else w.name: w.numpy()
         for w in ace.weights}
    h, w = x.shape[1:3]
    step = seg.shape[1] // h
    m = seg[:, ::step, ::step, :]  # PyTorch nearest at an integer ratio: rows/cols 0, s, 2s, ...
    xn = x + noise * v["noise_var"]
    mean, var = xn.mean(axis=(0, 1, 2)), xn.var(axis=(0, 1, 2))
    normalized = (xn - mean) / np.sqrt(var + 1e-5)
    actv = np.maximum(conv3x3_np(m, v["mlp_shared/kernel"], v["mlp_shared/bias"]), 0)
    gamma_o = conv3x3_np(actv, v["mlp_gamma/kernel"], v["mlp_gamma/bias"])
    beta_o = conv3x3_np(actv, v["mlp_beta/kernel"], v["mlp_beta/bias"])
    codes = np.zeros(x.shape[:3] + (style.shape[-1],), np.float64)
    for b in range(x.shape[0]):
        for r in range(seg.shape[-1]):
            mu = np.maximum(style[b, r] @ v["fc_mu_kernel"][r] + v["fc_mu_bias"][r], 0)
            codes[b][m[b, :, :, r] > 0] = mu
    gamma_s = conv3x3_np(codes, v["conv_gamma/kernel"], v["conv_gamma/bias"])
    beta_s = conv3x3_np(codes, v["conv_beta/kernel"], v["conv_beta/bias"])
    ag, ab = 1 / (1 + np.exp(-v["blending_gamma"])), 1 / (1 + np.exp(-v["blending_beta"]))
    gamma, beta = ag * gamma_s + (1 - ag) * gamma_o, ab * beta_s + (1 - ab) * beta_o
    return normalized * (1 + gamma) + beta


@pytest.fixture(scope="module")
def tiny_ace():
    """ACE(C=6) on 8x8 features, a 16x16 label map with S=4, style dim 8, every parameter random (non-zero)."""
    ace = ACE(style_dim=8, spade_hidden=5, norm="batch", name="ace")
    ace.build((2, 8, 8, 6), (2, 16, 16, 4), (2, 4, 8))
    rng = np.random.default_rng(0)
    for w in ace.trainable_weights:
        w.assign(rng.normal(0, 0.5, w.shape).astype(np.float32))
    return ace


def test_ace_matches_numpy_equations(tiny_ace):
    rng = np.random.default_rng(1)
    seg, _ = one_hot_blocks(2, 16, 16, 4, seed=2)
    seg[1, ..., 3] = 0  # region 3 absent from image 1: its code must not be written anywhere
    seg[1, ..., 0] = 1 - seg[1, ..., 1:].sum(-1)
    seg[0, 2:6, 2:6, 3] = 1  # channel 3 overlaps others (as instance edges do): the official scatter lets it win
    x = rng.normal(size=(2, 8, 8, 6)).astype(np.float32)
    style = rng.uniform(-1, 1, (2, 4, 8)).astype(np.float32)
    noise = rng.normal(size=(2, 8, 8, 1)).astype(np.float32)
    got = tiny_ace(x, seg, style, training=True, noise=noise).numpy()
    want = ace_numpy(tiny_ace, x.astype(np.float64), seg, style.astype(np.float64), noise)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_ace_region_swap_changes_only_that_region(tiny_ace):
    """Swap region 2's code between two images' style matrices: at the ACE output only region 2's pixels change,
    widened by the one-pixel reach of the 3x3 conv_gamma / conv_beta on the code map."""
    rng = np.random.default_rng(3)
    seg, labels = one_hot_blocks(2, 16, 16, 4, seed=4)
    x = rng.normal(size=(2, 8, 8, 6)).astype(np.float32)
    codes_a, codes_b = rng.uniform(-1, 1, (2, 2, 4, 8)).astype(np.float32)
    swapped = codes_a.copy()
    swapped[:, 2] = codes_b[:, 2]
    noise = rng.normal(size=(2, 8, 8, 1)).astype(np.float32)
    before = tiny_ace(x, seg, codes_a, training=False, noise=noise).numpy()
    after = tiny_ace(x, seg, swapped, training=False, noise=noise).numpy()
    region = labels[:, ::2, ::2] == 2
    reach = tf.nn.max_pool2d(region[..., None].astype(np.float32), 3, 1, "SAME").numpy()[..., 0] > 0
    changed = np.abs(after - before).max(-1)
    assert region.any(axis=(1, 2)).all() and (changed[region] > 1e-3).all()
    np.testing.assert_array_less(changed[~reach], 1e-6)


def test_region_average_pools_each_region_of_the_half_size_code_map():
    rng = np.random.default_rng(5)
    seg, _ = one_hot_blocks(2, 16, 16, 5, seed=6)
    seg[0, ..., 4] = 0
    seg[0, ..., 0] = 1 - seg[0, ..., 1:].sum(-1)
    codes = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    got = region_average(tf.constant(codes), tf.constant(seg)).numpy()
    small = seg[:, ::2, ::2].argmax(-1)
    for b in range(2):
        for r in range(5):
            inside = codes[b][small[b] == r]
            want = inside.mean(0) if len(inside) else np.zeros(3)
            np.testing.assert_allclose(got[b, r], want, rtol=1e-5, atol=1e-6)


def test_generator_region_swap_is_concentrated_in_the_region():
    """Generator-level: image 0 takes region 2's code from image 1; the change concentrates in region 2. The codes
    are two images' independent draws (the Zencoder's codes of two images are nearly equal at init, so swapping them
    moves the output by ~1e-5 only). Measured at init (ngf 4, 128x128, D 16, eval-mode BN), region 2 covering 0.25
    of the image: 0.59 / 0.61 / 0.72 of the total absolute change lies inside it for seeds 0 / 1 / 2 (the rest leaks
    through the 3x3 convs of the 4x4..16x16 blocks)."""
    tf.keras.utils.set_random_seed(0)
    px, q = 128, 32
    g = SEANGenerator(4, crop_size=px, ngf=4, style_dim=16, spade_hidden=8, name="g")
    g.build((2, px, px, 4))
    labels = np.zeros((2, px, px), np.int64)
    labels[:, q:2 * q, q:3 * q] = 1
    labels[:, 2 * q:, :2 * q] = 2
    labels[:, 3 * q:, 2 * q:] = 3
    seg = np.eye(4, dtype=np.float32)[labels]
    images = np.random.default_rng(8).uniform(-1, 1, (2, px, px, 3)).astype(np.float32)
    assert g.encode_styles(images, seg).shape == (2, 4, 16)
    codes = np.random.default_rng(0).normal(size=(2, 4, 16)).astype(np.float32)
    swapped = codes.copy()
    swapped[0, 2] = codes[1, 2]
    calls = g.noise_calls.numpy()
    out_a = g(seg, style_codes=codes, training=False)
    g.noise_calls.assign(calls)  # the same ACE noise in both calls
    out_b = g(seg, style_codes=swapped, training=False)
    assert out_a["style_codes"].shape == (2, 4, 16) and out_a["image"].shape == (2, px, px, 3)
    np.testing.assert_array_equal(out_a["image"][1], out_b["image"][1])  # image 1 keeps its codes
    delta = np.abs(out_b["image"].numpy() - out_a["image"].numpy())[0].sum(-1)
    region = labels[0] == 2
    share = delta[region].sum() / delta.sum()
    assert delta.sum() > 0 and share > 0.5 and share > 2 * region.mean(), (share, region.mean())


def ace_formula(c, s, regions, hidden=128, d=512, style=True):
    """Per-ACE parameters of sean_official_code.md §3."""
    spade = 9 * hidden * s + hidden + 2 * (9 * hidden * c + c)
    return (regions * (d * d + d) + 2 * (9 * d * c + c) if style else 0) + spade + c + 2


@pytest.mark.parametrize("c,s,regions,style", [(1024, 19, None, True), (64, 19, None, False), (24, 7, 3, True)])
def test_ace_parameters_follow_the_per_ace_formula(c, s, regions, style):
    ace = ACE(use_style=style, num_regions=regions, style_dim=512 if c > 24 else 16, spade_hidden=128 if c > 24 else 8)
    ace.build((1, 4, 4, c), (1, 8, 8, s), (1, s, ace.style_dim))
    n = int(sum(np.prod(w.shape) for w in ace.trainable_weights))
    assert n == ace_formula(c, s, regions or s, ace.spade_hidden, ace.style_dim, style)
    if (c, s) == (1024, 19):
        assert n == 16_814_082  # the reference's worked example


def test_describe_prints_the_official_celebamask_hq_counts():
    """What `python -m lggan_tf.describe --model sean --dataset celebamask_hq` prints (the CLI itself:
    tests/test_describe.py)."""
    from lggan_tf.describe import describe

    counts = json.loads(json.dumps(describe("sean", "celebamask_hq")))
    assert (counts["generator_total"], counts["discriminator_total"]) == (266_907_367, 1_364_098)
    assert counts["encoder"] == 1_568_576 and counts["upsamplers"] == 0


def test_cityscapes_one_fc_mu_per_class_and_sau_sites():
    """Cityscapes (36 channels, `more`): 334,393,831 with one fc_mu per class; SEAN+SAU adds the six §6 sites
    U1, U1b, U2 (C=1024: 123,300 each), U3 (512: 90,532), U4 (256: 74,148), U5 (128: 65,956)."""
    from lggan_tf.describe import describe

    counts = describe("sean", "cityscapes", upsampler="sau")
    assert counts["upsamplers"] == 3 * 123_300 + 90_532 + 74_148 + 65_956 == 600_536
    assert counts["generator_total"] - counts["upsamplers"] == 334_393_831
    assert counts["discriminator_total"] == 1_398_914
