"""Losses against hand-written NumPy references, per-example shapes, weighting and term skipping."""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf import losses
from lggan_tf.layers import classifier
from lggan_tf.losses import LossWeights

B, H, W, N = 3, 16, 16, 4
RNG = np.random.default_rng(0)


def rand(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


def d_output(scales=((8, 8), (4, 4)), feat_channels=(5, 6)):
    """Multi-scale D output: per scale [f_0, f_1, pred] with different patch sizes per scale."""
    return [[rand(B, h, w, c) for c in feat_channels] + [rand(B, h, w, 1, lo=-2, hi=2)] for h, w in scales]


def np_mean(x):
    return x.reshape(x.shape[0], -1).mean(axis=1)


def softplus(x):
    return np.log1p(np.exp(x))


NP_G = {"hinge": lambda p: -p, "ls": lambda p: (p - 1) ** 2, "original": lambda p: softplus(-p), "w": lambda p: -p}
NP_D_REAL = {"hinge": lambda p: np.maximum(0, 1 - p), "ls": lambda p: (p - 1) ** 2,
             "original": lambda p: softplus(-p), "w": lambda p: -p}
NP_D_FAKE = {"hinge": lambda p: np.maximum(0, 1 + p), "ls": lambda p: p ** 2,
             "original": lambda p: softplus(p), "w": lambda p: p}


@pytest.mark.parametrize("mode", losses.GAN_MODES)
def test_gan_losses_match_numpy_with_multiscale_average(mode):
    fake, real = d_output(), d_output()
    g = losses.gan_generator_loss(fake, mode).numpy()
    want_g = np.mean([np_mean(NP_G[mode](s[-1])) for s in fake], axis=0)
    np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=1e-6)
    d = losses.gan_discriminator_loss(real, fake, mode).numpy()
    want_d = (np.mean([np_mean(NP_D_REAL[mode](s[-1])) for s in real], axis=0)
              + np.mean([np_mean(NP_D_FAKE[mode](s[-1])) for s in fake], axis=0))
    np.testing.assert_allclose(d, want_d, rtol=1e-5, atol=1e-6)
    assert g.shape == d.shape == (B,) and g.dtype == d.dtype == np.float32


def test_sigmoid_outputs_bce_on_clipped_probabilities():
    p_fake = rand(B, 6, 6, 1, lo=0.0, hi=1.0)
    p_fake[0, 0, 0, 0], p_fake[1, 0, 0, 0] = 0.0, 1.0  # saturated probabilities must stay finite
    p_real = rand(B, 6, 6, 1, lo=0.0, hi=1.0)
    clip = lambda p: np.clip(p, losses.BCE_EPS, 1 - losses.BCE_EPS)  # noqa: E731
    g = losses.gan_generator_loss(p_fake, "original", sigmoid_outputs=True).numpy()
    np.testing.assert_allclose(g, np_mean(-np.log(clip(p_fake))), rtol=1e-5)
    d = losses.gan_discriminator_loss(p_real, p_fake, "original", sigmoid_outputs=True).numpy()
    np.testing.assert_allclose(d, np_mean(-np.log(clip(p_real))) + np_mean(-np.log(1 - clip(p_fake))), rtol=1e-5)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(d))


def test_bad_gan_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="gan_mode must be one of"):
        losses.gan_generator_loss(d_output(), "lsgan")
    with pytest.raises(ValueError, match="needs gan_mode='original'"):
        losses.gan_generator_loss(d_output(), "hinge", sigmoid_outputs=True)
    with pytest.raises(ValueError, match="list over scales"):
        losses.gan_generator_loss([rand(B, 4, 4, 1), rand(B, 2, 2, 1)], "hinge")


def test_feature_matching_matches_numpy_and_detaches_real():
    fake, real = d_output(), d_output()
    got = losses.feature_matching_loss(fake, real).numpy()
    np.testing.assert_allclose(got, np_feature_matching(fake, real), rtol=1e-5)
    real_vars = [[tf.Variable(t) for t in s] for s in real]
    fake_vars = [[tf.Variable(t) for t in s] for s in fake]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(losses.feature_matching_loss(fake_vars, real_vars))
    grads = tape.gradient(loss, [real_vars[0][0], fake_vars[0][0]])
    assert grads[0] is None and grads[1] is not None


def test_feature_matching_without_features_says_how_to_disable():
    with pytest.raises(ValueError, match="feat=0"):
        losses.feature_matching_loss(rand(B, 4, 4, 1), rand(B, 4, 4, 1))


def np_local_l1(class_images, real, masks):
    """Eq. (3) as the official code: sum_i mean |U_i - I_real * M_i| over the whole image -> [B]."""
    return sum(np_mean(np.abs(class_images[:, :, :, i] - real * masks[:, :, :, i, None]))
               for i in range(masks.shape[-1]))


def np_feature_matching(fake, real):
    """Mean over D scales of the sum over intermediate features of the per-example mean |f - r| -> [B]."""
    return sum(np_mean(np.abs(f - r)) for sf, sr in zip(fake, real) for f, r in zip(sf[:-1], sr[:-1])) / len(fake)


def np_kl(mu, logvar):
    return -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=1)


def np_tv(x):
    return np.abs(np.diff(x, axis=1)).sum(axis=(1, 2, 3)) + np.abs(np.diff(x, axis=2)).sum(axis=(1, 2, 3))


def test_local_l1_is_eq3_as_official_with_unmasked_class_images():
    class_images, real = rand(B, H, W, N, 3), rand(B, H, W, 3)
    masks = (RNG.uniform(size=(B, H, W, N)) > 0.5).astype(np.float32)
    got = losses.local_l1_loss(class_images, real, masks).numpy()
    np.testing.assert_allclose(got, np_local_l1(class_images, real, masks), rtol=1e-5)
    with pytest.raises(ValueError, match="N=4 classes but masks has 3"):
        losses.local_l1_loss(class_images, real, masks[..., :3])


def test_image_l1_kl_and_total_variation_match_numpy():
    x, y = rand(B, H, W, 3), rand(B, H, W, 3)
    np.testing.assert_allclose(losses.image_l1_loss(x, y).numpy(), np_mean(np.abs(x - y)), rtol=1e-5)
    mu, logvar = rand(B, 8), rand(B, 8)
    np.testing.assert_allclose(losses.kl_divergence(mu, logvar).numpy(), np_kl(mu, logvar), rtol=1e-5)
    np.testing.assert_allclose(losses.total_variation_loss(x).numpy(), np_tv(x), rtol=1e-5)


def test_mixed_precision_inputs_give_float32_per_example_losses():
    x = tf.cast(rand(B, H, W, 3), tf.bfloat16)
    for value in (losses.image_l1_loss(x, x), losses.total_variation_loss(x),
                  losses.gan_generator_loss([[x]], "hinge")):
        assert value.dtype == tf.float32 and value.shape == (B,)


def test_loss_weights_defaults_flags_and_validation():
    w = LossWeights()
    assert (w.gan, w.feat, w.vgg, w.l1_local, w.class_ce, w.l1_image, w.kld, w.tv) == (1, 10, 10, 1, 1, 0, 0.05, 0)
    assert w.use_vgg and not w.use_l1_image and not w.use_tv
    cv = LossWeights.cross_view()
    assert (cv.l1_image, cv.l1_local, cv.vgg, cv.tv, cv.feat, cv.class_ce) == (100, 100, 10, 1e-6, 0, 0)
    with pytest.raises(ValueError, match="LossWeights.vgg"):
        LossWeights(vgg=-1)


class SpyVGG:
    """Stands in for VGGPerceptual: per-example mean |x - y| * 3, counting calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, fake, real):
        self.calls += 1
        return 3.0 * losses.image_l1_loss(fake, real)


def sis_batch(with_local=True):
    outputs = {"image": rand(B, H, W, 3), "image_global": rand(B, H, W, 3), "mu": rand(B, 8), "logvar": rand(B, 8)}
    if with_local:
        outputs.update(image_local=rand(B, H, W, 3), class_images=rand(B, H, W, N, 3),
                       weight_map=rand(B, H, W, 2, lo=0, hi=1))
    keys = losses.judged_keys(outputs, "all")
    masks = (RNG.uniform(size=(B, H, W, N)) > 0.5).astype(np.float32)
    return outputs, rand(B, H, W, 3), masks, {k: d_output() for k in keys}, d_output()


def test_generator_loss_total_is_weighted_sum_of_terms():
    outputs, real, masks, d_fakes, d_real = sis_batch()
    weights = LossWeights(l1_image=2.0, tv=0.5, class_ce=0.0)
    vgg = SpyVGG()
    total, terms = losses.generator_loss(outputs, real, masks, d_fakes, d_real, weights, vgg=vgg)
    assert set(terms) == {"g_gan", "g_feat", "g_vgg", "g_local_l1", "g_l1", "g_kld", "g_tv"}
    assert vgg.calls == 3  # once per fake image (I_C, I_G, I_L)
    keys = list(d_fakes)
    want = {  # NumPy, summed over the fake images I_C, I_G, I_L
        "g_gan": sum(np.mean([np_mean(NP_G["hinge"](s[-1])) for s in d_fakes[k]], axis=0) for k in keys),
        "g_feat": sum(np_feature_matching(d_fakes[k], d_real) for k in keys),
        "g_vgg": sum(3 * np_mean(np.abs(outputs[k] - real)) for k in keys),
        "g_local_l1": np_local_l1(outputs["class_images"], real, masks),
        "g_l1": sum(np_mean(np.abs(outputs[k] - real)) for k in keys),
        "g_kld": np_kl(outputs["mu"], outputs["logvar"]),
        "g_tv": sum(np_tv(outputs[k]) for k in keys),
    }
    for name, value in want.items():
        np.testing.assert_allclose(terms[name], value, rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(total.numpy(), 1 * want["g_gan"] + 10 * want["g_feat"] + 10 * want["g_vgg"]
                               + 1 * want["g_local_l1"] + 2 * want["g_l1"] + 0.05 * want["g_kld"]
                               + 0.5 * want["g_tv"], rtol=1e-5)
    assert total.shape == (B,) and all(t.shape == (B,) for t in terms.values())


def test_zero_weights_remove_terms_and_skip_their_work(monkeypatch):
    outputs, real, masks, d_fakes, _ = sis_batch()

    def must_not_run(*args, **kwargs):
        raise AssertionError("a zero-weight term was computed")

    for name in ("local_l1_loss", "kl_divergence", "feature_matching_loss", "total_variation_loss", "image_l1_loss"):
        monkeypatch.setattr(losses, name, must_not_run)
    weights = LossWeights(feat=0, vgg=0, l1_local=0, class_ce=0, kld=0)
    vgg = SpyVGG()
    # d_real=None and masks=None are fine: nothing that needs them runs.
    total, terms = losses.generator_loss(outputs, real, None, d_fakes, None, weights, vgg=vgg)
    assert set(terms) == {"g_gan"} and vgg.calls == 0
    np.testing.assert_allclose(total, terms["g_gan"])


def test_global_only_ablation_drops_local_terms():
    """B1 (Table 9): I_C is I_G, so every term counts that one image once, as B2-B5 count each of their images."""
    outputs, real, masks, _, d_real = sis_batch(with_local=False)
    outputs["image"] = outputs["image_global"]  # what the B1 generator returns
    for d_judges in losses.D_JUDGES:
        assert losses.judged_keys(outputs, d_judges) == ["image"]
    d_fakes = {"image": d_output()}
    vgg = SpyVGG()
    total, terms = losses.generator_loss(outputs, real, masks, d_fakes, d_real, LossWeights(l1_image=1.0), vgg=vgg)
    assert "g_local_l1" not in terms and "g_class" not in terms and vgg.calls == 1
    pred = [s[-1] for s in d_fakes["image"]]
    np.testing.assert_allclose(terms["g_gan"], np.mean([np_mean(-p) for p in pred], axis=0), rtol=1e-5)
    fm = sum(np_mean(np.abs(f - r)) for fs, rs in zip(d_fakes["image"], d_real) for f, r in zip(fs[:-1], rs[:-1]))
    np.testing.assert_allclose(terms["g_feat"], fm / 2, rtol=1e-5)
    np.testing.assert_allclose(terms["g_l1"], np_mean(np.abs(outputs["image"] - real)), rtol=1e-5)
    np.testing.assert_allclose(terms["g_vgg"], 3 * np_mean(np.abs(outputs["image"] - real)), rtol=1e-5)
    np.testing.assert_allclose(total, terms["g_gan"] + 10 * terms["g_feat"] + 10 * terms["g_vgg"] + terms["g_l1"]
                               + 0.05 * terms["g_kld"], rtol=1e-5)
    with pytest.raises(ValueError, match="same image; judge it once"):
        losses.generator_loss(outputs, real, masks, {"image": d_real, "image_global": d_real}, d_real,
                              LossWeights(vgg=0))


def test_d_judges_fused_is_eq9_and_all_is_the_official_three_images():
    outputs, real, masks, d_fakes, d_real = sis_batch()
    assert losses.judged_keys(outputs) == ["image"]  # default: the paper's Eq. (9) names only I_C
    assert losses.judged_keys(outputs, "all") == ["image", "image_global", "image_local"]
    with pytest.raises(ValueError, match="d_judges"):
        losses.judged_keys(outputs, "both")
    vgg = SpyVGG()
    _, terms = losses.generator_loss(outputs, real, masks, {"image": d_fakes["image"]}, d_real,
                                     LossWeights(class_ce=0), vgg=vgg)
    assert vgg.calls == 3  # VGG stays on I_C, I_G and I_L (official; the paper is silent), only D's view changes
    np.testing.assert_allclose(terms["g_gan"], losses.gan_generator_loss(d_fakes["image"]), rtol=1e-6)


def test_generator_loss_rejects_missing_inputs_and_falls_back_to_class_masks():
    outputs, real, masks, d_fakes, d_real = sis_batch()
    with pytest.raises(ValueError, match="needs a `vgg` callable"):
        losses.generator_loss(outputs, real, masks, d_fakes, d_real, LossWeights())
    with pytest.raises(ValueError, match="needs the class masks"):
        losses.generator_loss(outputs, real, None, d_fakes, d_real, LossWeights(vgg=0))
    _, terms = losses.generator_loss(dict(outputs, class_masks=masks), real, None, d_fakes, d_real, LossWeights(vgg=0))
    np.testing.assert_allclose(terms["g_local_l1"], np_local_l1(outputs["class_images"], real, masks), rtol=1e-5)
    with pytest.raises(ValueError, match="non-empty subset"):
        losses.generator_loss(outputs, real, masks, {"fused": d_real}, d_real, LossWeights(vgg=0))


def test_class_cross_entropy_term_uses_the_classifier_loss():
    outputs, real, masks, d_fakes, d_real = sis_batch()
    outputs.update(class_logits=rand(B, N, N, lo=-3, hi=3), class_valid=np.array([[1, 0, 1, 1]] * B, np.float32))
    total, terms = losses.generator_loss(outputs, real, masks, d_fakes, d_real, LossWeights(vgg=0, feat=0, kld=0))
    want = classifier.per_example_class_cross_entropy(outputs["class_logits"], outputs["class_valid"])
    np.testing.assert_allclose(terms["g_class"], want, rtol=1e-6)
    np.testing.assert_allclose(total, terms["g_gan"] + terms["g_local_l1"] + terms["g_class"], rtol=1e-5)


def test_discriminator_loss_counts_real_term_once_per_fake():
    _, _, _, d_fakes, d_real = sis_batch()
    total, terms = losses.discriminator_loss(d_fakes, d_real, "hinge")
    real = np.mean([np_mean(np.maximum(0, 1 - s[-1])) for s in d_real], axis=0)
    fake = sum(np.mean([np_mean(np.maximum(0, 1 + s[-1])) for s in d_fakes[k]], axis=0) for k in d_fakes)
    np.testing.assert_allclose(terms["d_real"], 3 * real, rtol=1e-5)
    np.testing.assert_allclose(terms["d_fake"], fake, rtol=1e-5)
    np.testing.assert_allclose(total, 3 * real + fake, rtol=1e-5)


def prob_map():
    return [[rand(B, 3, 3, 4), rand(B, 2, 2, 1, lo=0.05, hi=0.95)]]


def test_cross_view_generator_total_is_weighted_sum():
    outputs, real, masks, _, _ = sis_batch()
    keys = losses.IMAGE_KEYS
    d_i, d_s = {k: prob_map() for k in keys}, {k: prob_map() for k in keys}
    total, terms = losses.cross_view_generator_loss(outputs, real, masks, d_i, d_s, vgg=SpyVGG())
    assert set(terms) == {"g_gan_di", "g_gan_ds", "g_l1", "g_local_l1", "g_vgg", "g_tv"}
    want_di = sum(np_mean(-np.log(d_i[k][0][-1])) for k in keys)
    np.testing.assert_allclose(terms["g_gan_di"], want_di, rtol=1e-5)
    np.testing.assert_allclose(terms["g_l1"], sum(np_mean(np.abs(outputs[k] - real)) for k in keys), rtol=1e-5)
    want = (terms["g_gan_di"] + terms["g_gan_ds"] + 100 * terms["g_l1"] + 100 * terms["g_local_l1"]
            + 10 * terms["g_vgg"] + 1e-6 * terms["g_tv"])
    np.testing.assert_allclose(total, want, rtol=1e-5)


def test_cross_view_discriminator_is_half_of_fake_plus_real_per_image_per_d():
    keys = losses.IMAGE_KEYS
    d_i, d_s = {k: prob_map() for k in keys}, {k: prob_map() for k in keys}
    r_i, r_s = prob_map(), prob_map()
    total, terms = losses.cross_view_discriminator_loss(d_i, r_i, d_s, r_s)
    bce_real = lambda d: np_mean(-np.log(d[0][-1]))  # noqa: E731
    bce_fake = lambda d: np_mean(-np.log(1 - d[0][-1]))  # noqa: E731
    want = sum(0.5 * (bce_fake(d_i[k]) + bce_real(r_i) + bce_fake(d_s[k]) + bce_real(r_s)) for k in keys)
    np.testing.assert_allclose(total, want, rtol=1e-5)
    np.testing.assert_allclose(total, 0.5 * sum(terms.values()), rtol=1e-6)
    np.testing.assert_allclose(terms["d_ds_real"], 3 * bce_real(r_s), rtol=1e-5)


def test_generator_loss_traces_in_tf_function_and_gives_gradients():
    outputs, real, masks, d_fakes, d_real = sis_batch()
    image = tf.Variable(outputs["image"])

    @tf.function
    def step(real, masks):
        with tf.GradientTape() as tape:
            outs = dict(outputs, image=image)
            total, _ = losses.generator_loss(outs, real, masks, d_fakes, d_real, LossWeights(vgg=0, l1_image=1))
            mean = tf.reduce_mean(total)
        return total, tape.gradient(mean, image)

    total, grad = step(real, masks)
    assert total.shape == (B,) and float(tf.reduce_sum(tf.abs(grad))) > 0
