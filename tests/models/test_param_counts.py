"""Parameter counts at the official sizes (building without running): lggan_official_code.md §5,
spade_official_code.md §5. The official LGGAN count 111,123,495 includes an unused 332,800-parameter `fc`."""

import pytest

from lggan_tf.models import build_discriminator, build_generator, cross_view_discriminator, parameter_counts

CITYSCAPES = dict(semantic_nc=36, label_channels=35, crop_size=512, aspect_ratio=2.0, num_upsampling_layers="more")
ADE20K = dict(semantic_nc=151, label_channels=151, crop_size=256, aspect_ratio=1.0, num_upsampling_layers="normal")
COCO = dict(semantic_nc=184, label_channels=183, crop_size=256, aspect_ratio=1.0, num_upsampling_layers="normal")


def _built(model, facts, **options):
    g = build_generator(model, **facts, **options)
    h = facts["crop_size"] if facts["aspect_ratio"] == 1.0 else int(facts["crop_size"] / facts["aspect_ratio"])
    g.build((None, h, facts["crop_size"], facts["semantic_nc"]))
    return g


@pytest.mark.parametrize("facts, expected", [(CITYSCAPES, 93_048_003), (ADE20K, 96_492_483), (COCO, 97_480_899)])
def test_gaugan_official_counts(facts, expected):
    assert parameter_counts(_built("gaugan", facts))["generator_total"] == expected


def test_lggan_cityscapes_count_and_breakdown():
    counts = parameter_counts(_built("lggan", CITYSCAPES))
    assert counts["generator_total"] == 110_790_695  # official 111,123,495 less the unused fc (332,800)
    assert counts["encoder"] == 6_381_760
    assert counts["global"] == 93_048_003 - 332_800
    assert counts["local"] == 11_322_495
    assert counts["weight_map"] == 368_962
    assert counts["classifier"] == 2_275
    parts = sum(counts[k] for k in ("encoder", "global", "local", "weight_map", "classifier"))
    assert parts == counts["generator_total"]


def test_gaugan_vae_count():
    counts = parameter_counts(_built("gaugan", CITYSCAPES, use_vae=True))
    assert counts["encoder"] == 10_463_424
    assert counts["generator_total"] - counts["encoder"] == 101_136_579


@pytest.mark.parametrize("channels, expected", [(39, 5_601_410), (154, 5_836_930)])
def test_multiscale_discriminator_counts(channels, expected):
    d = build_discriminator(channels - 3)
    d.build((None, 256, 256, channels))
    assert parameter_counts(_built("gaugan", CITYSCAPES), d)["discriminator_total"] == expected


def test_cross_view_discriminator_count():
    d = cross_view_discriminator()
    d.build((None, 256, 256, 6))
    assert sum(int(v.shape.num_elements()) for v in d.trainable_weights) == 2_767_809
