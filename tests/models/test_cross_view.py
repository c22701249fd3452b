"""Cross-view generator and dual discriminator: official parameter counts, Eq. (7)-(8) fusion, branch switches,
SAU variant, init, config round trip."""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.models import (CrossViewGenerator, DualDiscriminator, build_cross_view_generator, parameter_counts)


def inputs(h=32, b=2, seed=0):
    g = tf.random.Generator.from_seed(seed)
    classes = g.uniform([b, h, h], -1, 6, tf.int32)  # -1 = void
    return g.normal([b, h, h, 6]), tf.one_hot(classes, 6)


def test_official_parameter_counts():
    """G: official 12,191,258 less the unused 7th branch (9,411); D_i = D_s = 2,767,809 (lggan_official_code.md §5)."""
    g = build_cross_view_generator()
    g.build((None, 256, 256, 6), (None, 256, 256, 6))
    d = DualDiscriminator()
    d.build((None, 256, 256, 3))
    counts = parameter_counts(g, d)
    assert counts["generator_total"] == 12_181_847 == 12_191_258 - 9_411
    assert (counts["encoder"], counts["resblocks"], counts["local"], counts["global"], counts["weight_map"]) == (
        387_904, 10_621_440, 434_709 - 9_411, 378_243, 368_962)
    assert counts["d_image"] == counts["d_semantic"] == 2_767_809
    assert counts["discriminator_total"] == 5_535_618


def test_fusion_masks_and_shapes():
    g = build_cross_view_generator(ngf=4)
    x, m = inputs()
    out = g(x, m)
    assert out["image"].shape == (2, 32, 32, 3) and out["class_images"].shape == (2, 32, 32, 6, 3)
    w = out["weight_map"].numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)  # Eq. (7)
    expected = w[..., :1] * out["image_local"] + w[..., 1:] * out["image_global"]  # Eq. (8)
    np.testing.assert_allclose(out["image"], expected, atol=1e-6)
    np.testing.assert_allclose(out["image_local"], out["class_images"].numpy().sum(3), atol=1e-6)  # Eq. (4)
    outside = (1.0 - m.numpy())[..., None] * out["class_images"].numpy()
    assert np.abs(outside).max() == 0.0 and np.abs(out["class_images"]).max() > 0  # U_i only inside M_i
    assert np.abs(out["image_global"]).max() <= 1.0


def test_unmasked_official_mode_and_loop_impl_agree():
    x, m = inputs(seed=1)
    a = build_cross_view_generator(ngf=4, mask_class_images=False)
    a.build(x.shape, m.shape)
    b = build_cross_view_generator(ngf=4, mask_class_images=False, class_conv_impl="loop")
    b.build(x.shape, m.shape)
    b.set_weights(a.get_weights())
    oa, ob = a(x, m), b(x, m)
    np.testing.assert_allclose(oa["image"], ob["image"], atol=1e-5)
    void = m.numpy().sum(-1) == 0
    assert np.abs(oa["class_images"].numpy()[void]).max() > 0  # official: absent classes leak tanh(conv) everywhere


@pytest.mark.parametrize("ablation, keys", [("B1", {"image", "image_global"}),
                                            ("B3", {"image", "image_global", "image_local", "class_images",
                                                    "class_masks"}),
                                            ("B5", {"image", "image_global", "image_local", "class_images",
                                                    "class_masks", "class_logits", "class_valid", "weight_map"})])
def test_ablation_switches(ablation, keys):
    g = build_cross_view_generator(ngf=4, ablation=ablation)
    x, m = inputs(h=16)
    out = g(x, m)
    assert set(out) == keys
    if ablation == "B3":
        np.testing.assert_allclose(out["image"], 0.5 * (out["image_local"] + out["image_global"]), atol=1e-6)
    if ablation == "B5":
        assert out["class_logits"].shape == (2, 6, 6)


def test_sau_variant_config_round_trip_and_init():
    g = build_cross_view_generator(ngf=8, upsampler="sau")
    x, m = inputs(h=16)
    g.build(x.shape, m.shape)
    official = build_cross_view_generator(ngf=8)
    official.build(x.shape, m.shape)
    assert g.local_up_0.upsampler == "sau" and official.local_up_0.upsampler == "convtranspose"
    assert parameter_counts(g)["generator_total"] != parameter_counts(official)["generator_total"]
    clone = CrossViewGenerator.from_config(g.get_config())
    clone.build(x.shape, m.shape)
    assert parameter_counts(clone) == parameter_counts(g)
    clone.set_weights(g.get_weights())
    np.testing.assert_allclose(clone(x, m)["image"], g(x, m)["image"], atol=1e-6)
    big = build_cross_view_generator()
    big.build((None, 64, 64, 6), (None, 64, 64, 6))
    kernel = big.res_0.conv_0.kernel.numpy()
    assert 0.018 < kernel.std() < 0.022 and abs(kernel.mean()) < 1e-3  # normal(0, 0.02), official CV init
    with pytest.raises(ValueError, match="multiples of 4"):
        build_cross_view_generator(ngf=4).build((None, 30, 30, 6), (None, 30, 30, 6))


def test_dual_discriminator_sigmoid_and_logits():
    x = tf.random.normal([2, 64, 64, 3])
    for sigmoid in (True, False):
        d = DualDiscriminator(ndf=8, sigmoid=sigmoid)
        d_i, d_s = d(x, x * 0.5, x)
        pred_i, pred_s = d_i[0][-1].numpy(), d_s[0][-1].numpy()
        assert pred_i.shape == pred_s.shape == (2, 6, 6, 1) and len(d_i[0]) == 5
        assert not np.allclose(pred_i, pred_s)  # two separate networks
        assert (pred_i.min() > 0 and pred_i.max() < 1) if sigmoid else (pred_i.min() < 0 < pred_i.max())
    assert DualDiscriminator.from_config(d.get_config()).sigmoid is False


def test_weight_map_head_paper_default_and_official():
    """G_w ends in Conv1x1 -> InstanceNorm -> ReLU before the softmax (paper §3.3) unless weight_map_head='official'
    (the bare 1x1 conv of the official code)."""
    from tests.models.test_generators import numpy_weight_map

    x, masks = inputs()
    for head in ("paper", "official"):
        g = build_cross_view_generator(ngf=4, **({} if head == "paper" else {"weight_map_head": head}))
        out = g(x, masks)
        assert g.weight_map_head == head
        logits = g.weight_conv(g.weight_up_1(g.weight_up_0(g.encode(x)))).numpy()
        np.testing.assert_allclose(out["weight_map"], numpy_weight_map(logits, head), atol=1e-5)
