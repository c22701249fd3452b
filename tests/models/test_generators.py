"""Generators at a tiny size: every ablation (Table 9) and every upsampler (Table 12), fusion, class terms, one step."""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf import losses
from lggan_tf.layers.classifier import per_example_class_cross_entropy
from lggan_tf.layers.upsampling import UPSAMPLERS
from lggan_tf.models import ABLATIONS, build_discriminator, build_generator

LABEL_NC = 5  # + 1 instance-edge channel
H = W = 32


def tiny_facts():
    return dict(semantic_nc=LABEL_NC + 1, label_channels=LABEL_NC, crop_size=W, aspect_ratio=1.0,
                num_upsampling_layers="normal")


def label_batch(seed=0, size=H):
    """Two label maps of blocky regions; class 4 is absent from sample 0, class 3 from both."""
    rng = np.random.default_rng(seed)
    cells = rng.choice([0, 1, 2], size=(2, 4, 4))
    cells[1, 0, 0] = 4
    labels = np.kron(cells, np.ones((size // 4, size // 4), dtype=np.int64))
    onehot = np.eye(LABEL_NC, dtype=np.float32)[labels]
    edges = np.zeros(labels.shape + (1,), np.float32)
    return tf.constant(np.concatenate([onehot, edges], -1)), labels


def build(model="lggan", size=H, **options):
    facts = {**tiny_facts(), "crop_size": size}
    g = build_generator(model, ngf=4, **facts, spade_hidden=8, **options)
    g.build((None, size, size, LABEL_NC + 1))
    return g


@pytest.mark.parametrize("ablation", sorted(ABLATIONS))
def test_ablation_outputs(ablation):
    seg, _ = label_batch()
    out = build(ablation=ablation)(seg, training=True)
    assert out["image"].shape == (2, H, W, 3)
    assert out["image_global"].shape == (2, H, W, 3)
    has_local = ablation != "B1"
    assert ("image_local" in out) == has_local
    assert ("class_logits" in out) == (ablation in ("B4", "B5"))
    assert ("weight_map" in out) == (ablation == "B5")
    if has_local:
        assert out["class_images"].shape == (2, H, W, LABEL_NC, 3)
    if ablation in ("B2", "B3", "B4"):  # no weight map: the mean of the two branches
        np.testing.assert_allclose(out["image"], 0.5 * (out["image_local"] + out["image_global"]), atol=1e-6)
    if ablation == "B1":
        np.testing.assert_array_equal(out["image"], out["image_global"])


@pytest.mark.parametrize("model", ["gaugan", "lggan"])
@pytest.mark.parametrize("upsampler", UPSAMPLERS)
def test_every_upsampler(model, upsampler):
    seg, _ = label_batch()
    out = build(model, upsampler=upsampler)(seg, training=False)
    assert out["image"].shape == (2, H, W, 3)
    assert np.all(np.isfinite(out["image"].numpy()))
    assert np.abs(out["image"].numpy()).max() <= 1.0


def test_lggan_plus_plus_uses_sau_everywhere():
    g = build(upsampler="sau")
    assert g.branch_upsampler == "sau"
    names = {type(layer).__name__ for layer in g._flatten_layers()}
    assert "SemanticAwareUpsampling" in names
    assert "ConvTranspose" not in names  # G_l and G_w upsample with SAU too


def test_weight_map_fusion_eq8():
    """W from G_w's features by a NumPy 1x1 conv, the paper's InstanceNorm + ReLU (§3.3, the default
    weight_map_head) and a channel softmax (Eq. (7)); I_C = W_l I_L + W_g I_G (Eq. (8))."""
    seg, _ = label_batch()
    g = build(upsampler="sau")
    out = g(seg, training=True)
    features = g.weight_up_1(g.weight_up_0(g.encoder(seg)["x_enc"])).numpy()  # G_w before its 1x1 conv
    logits = features @ g.weight_conv.kernel.numpy()[0, 0] + g.weight_conv.bias.numpy()
    assert g.weight_map_head == "paper"
    mean, var = logits.mean((1, 2), keepdims=True), logits.var((1, 2), keepdims=True)
    logits = np.maximum((logits - mean) / np.sqrt(var + 1e-5), 0.0)  # param-free InstanceNorm (eps 1e-5), ReLU
    w = np.exp(logits - logits.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    assert np.ptp(w[..., 0]) > 1e-3  # a spatially varying map, not a constant 1/2
    np.testing.assert_allclose(out["weight_map"], w, atol=1e-5)
    expected = w[..., :1] * out["image_local"].numpy() + w[..., 1:] * out["image_global"].numpy()
    np.testing.assert_allclose(out["image"], expected, atol=1e-5)


def test_absent_class_contributes_nothing():
    seg, labels = label_batch()
    g = build(local_fusion="sum")
    before = g(seg, training=False)["image_local"].numpy()
    cls = g.class_generators
    kernel, bias = cls.kernel.numpy(), cls.bias.numpy()
    kernel[3], bias[3] = 5.0, 3.0  # class 3 is absent from both samples
    cls.kernel.assign(kernel)
    cls.bias.assign(bias)
    after = g(seg, training=False)["image_local"].numpy()
    np.testing.assert_array_equal(before, after)
    kernel[0], bias[0] = 5.0, 3.0  # class 0 is present: its sub-generator must matter
    cls.kernel.assign(kernel)
    cls.bias.assign(bias)
    assert np.abs(g(seg, training=False)["image_local"].numpy() - before).max() > 1e-3


def test_class_validity_and_loss_per_sample():
    seg, labels = label_batch()
    out = build()(seg, training=True)
    valid = out["class_valid"].numpy()
    expected_valid = np.stack([[float((labels[b] == c).any()) for c in range(LABEL_NC)] for b in range(2)])
    np.testing.assert_array_equal(valid, expected_valid)
    logits = out["class_logits"].numpy().astype(np.float64)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.stack([[logp[b, i, i] for i in range(LABEL_NC)] for b in range(2)])
    per_sample = (ce * expected_valid).sum(1) / expected_valid.sum(1)
    np.testing.assert_allclose(per_example_class_cross_entropy(out["class_logits"], out["class_valid"]),
                               per_sample, rtol=1e-5)


@pytest.mark.cost(12)
def test_one_gradient_step_decreases_each_loss():
    """A small gradient step on each term alone lowers that term on a fixed batch (G terms and the D loss).

    64x64 and batch norm with running statistics (training=False): at 32x32 the decoder starts at 1x1, where an
    instance norm has zero variance and its (correct) gradient is valid only for vanishing steps. training=False
    also keeps the spectral-norm vectors fixed, so the function is the same before and after the step.
    """
    tf.random.set_seed(1)
    size = 64
    seg, _ = label_batch(size=size)
    real = tf.random.uniform((2, size, size, 3), -1, 1, seed=2)
    g = build(upsampler="sau", norm="batch", size=size)
    d = build_discriminator(LABEL_NC + 1, ndf=8)
    d.build((None, size, size, LABEL_NC + 4))

    def g_terms():
        out = g(seg, training=False)
        d_fakes = {k: d(tf.concat([seg, out[k]], -1)) for k in ("image", "image_global", "image_local")}
        d_real = d(tf.concat([seg, real], -1))
        _, terms = losses.generator_loss(out, real, out["class_masks"], d_fakes, d_real,
                                         losses.LossWeights(vgg=0.0, l1_image=1.0))
        return terms

    def d_total():
        out = g(seg, training=False)
        d_fakes = {k: d(tf.concat([seg, tf.stop_gradient(out[k])], -1)) for k in ("image",)}
        return losses.discriminator_loss(d_fakes, d(tf.concat([seg, real], -1)))[0]

    for name in ("g_gan", "g_feat", "g_local_l1", "g_class", "g_l1"):
        snapshot = [v.numpy() for v in g.trainable_weights]
        with tf.GradientTape() as tape:
            before = tf.reduce_mean(g_terms()[name])
        grads = tape.gradient(before, g.trainable_weights)
        norm = tf.linalg.global_norm([x for x in grads if x is not None])
        assert float(norm) > 0, name
        for v, grad in zip(g.trainable_weights, grads):
            if grad is not None:  # a short normalised step: first-order decrease is guaranteed for a small step
                v.assign_sub(1e-3 * grad / norm)
        after = tf.reduce_mean(g_terms()[name])
        assert float(after) < float(before), name
        for v, s in zip(g.trainable_weights, snapshot):
            v.assign(s)
    with tf.GradientTape() as tape:
        before = tf.reduce_mean(d_total())
    grads = tape.gradient(before, d.trainable_weights)
    norm = tf.linalg.global_norm(grads)
    for v, grad in zip(d.trainable_weights, grads):
        v.assign_sub(1e-3 * grad / norm)
    assert float(tf.reduce_mean(d_total())) < float(before)


def test_gaugan_vae_style_encoder_and_kl():
    """use_vae: z from the image's (mu, logvar) when a style image is given, z ~ N(0, I) otherwise; KL is positive."""
    seg, _ = label_batch()
    g = build("gaugan", use_vae=True, vae_input_size=32)
    style = tf.random.uniform((2, H, W, 3), -1, 1, seed=3)
    out = g(seg, style, training=True)
    assert out["image"].shape == (2, H, W, 3)
    assert out["mu"].shape == out["logvar"].shape == (2, 256)
    assert np.all(losses.kl_divergence(out["mu"], out["logvar"]).numpy() >= 0)
    a = g(seg, training=False)["image"].numpy()
    b = g(seg, training=False)["image"].numpy()
    assert "mu" not in g(seg, training=False)
    assert np.abs(a - b).max() > 0  # a fresh z per call without a style image


def numpy_weight_map(logits, head):
    """Eq. (7) on G_w's 1x1-conv output: paper = softmax(ReLU(InstanceNorm(z))) (§3.3), official = softmax(z)."""
    z = logits.astype(np.float64)
    if head == "paper":
        mean, var = z.mean(axis=(1, 2), keepdims=True), z.var(axis=(1, 2), keepdims=True)
        z = np.maximum((z - mean) / np.sqrt(var + 1e-5), 0.0)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_weight_map_head_paper_default_and_official():
    seg, _ = label_batch()
    generators = {"paper": build(), "official": build(weight_map_head="official")}
    assert generators["paper"].weight_map_head == "paper"  # the default follows the paper
    for head, g in generators.items():
        assert g.get_config()["weight_map_head"] == head
        out = g(seg, training=False)
        logits = g.weight_conv(g.weight_up_1(g.weight_up_0(g.encoder(seg)["x_enc"]))).numpy()
        np.testing.assert_allclose(out["weight_map"], numpy_weight_map(logits, head), atol=1e-5)
    counts = [int(sum(np.prod(v.shape) for v in g.trainable_weights)) for g in generators.values()]
    assert counts[0] == counts[1]  # the paper's InstanceNorm is parameter-free


def test_lggan_plus_plus_decoder_placement():
    """LGGAN++: SAU at the decoder's four width-changing ups and in G_l, G_w; the ups in front of G_middle_0/1 stay
    nearest, the placement whose count matches the paper's SAU row of Table 12 (docs/fidelity.md); upsample_all
    makes them SAU too."""
    facts = dict(semantic_nc=LABEL_NC + 1, label_channels=LABEL_NC, crop_size=128, aspect_ratio=2.0,
                 num_upsampling_layers="more")
    for upsample_all, sau_ups in ((False, {"up_0", "up_1", "up_2", "up_3"}),
                                  (True, {"G_middle_0", "G_middle_1", "up_0", "up_1", "up_2", "up_3"})):
        g = build_generator("lggan", ngf=4, spade_hidden=8, upsampler="sau", upsample_all=upsample_all, **facts)
        g.build((None, 64, 128, LABEL_NC + 1))
        decoder = g.global_generator
        placed = {n for n in decoder.block_names if hasattr(decoder, f"upsample_{n}")}
        assert placed == sau_ups
        assert {type(getattr(decoder, f"upsample_{n}")).__name__ for n in placed} == {"SemanticAwareUpsampling"}
        assert type(g.local_up_0.up).__name__ == type(g.weight_up_1.up).__name__ == "SemanticAwareUpsampling"
