"""Model factory: generators and discriminators by name, and per-sub-network parameter counts.

`build_generator("gaugan" | "lggan", ...)` and `build_discriminator(...)` take the dataset facts explicitly
(semantic_nc, label_channels, crop_size, aspect_ratio, num_upsampling_layers), so nothing is hard-coded to a class
count. `parameter_counts(generator, discriminator)` counts trainable parameters (what PyTorch's `numel` of
`parameters()` counts; running statistics and spectral-norm vectors are buffers there).
"""

from __future__ import annotations

import numpy as np

from lggan_tf.models.cross_view import (CrossViewGenerator, DualDiscriminator, build_cross_view_generator,
                                       cross_view_parameter_counts)
from lggan_tf.models.discriminator import MultiscaleDiscriminator, cross_view_discriminator
from lggan_tf.models.gaugan import GauGANGenerator
from lggan_tf.models.lggan import ABLATIONS, LGGANGenerator
from lggan_tf.models.sean import SEANGenerator

GENERATORS = ("gaugan", "lggan", "sean")


def build_generator(model, *, semantic_nc, label_channels, crop_size, aspect_ratio=1.0,
                    num_upsampling_layers="normal", ngf=64, upsampler="nearest", ablation=None, **options):
    """Generator by model name. `ablation` (B1..B5, Table 9) sets LGGAN's branch switches; explicit options win."""
    if model == "gaugan":
        if ablation is not None:
            raise ValueError("ablation applies to --model lggan only (Table 9); GauGAN has no local branch")
        return GauGANGenerator(semantic_nc, crop_size, aspect_ratio, num_upsampling_layers, ngf,
                               upsampler=upsampler, name="generator", **options)
    if model == "lggan":
        if ablation is not None:
            if ablation not in ABLATIONS:
                raise ValueError(f"unknown ablation {ablation!r}; expected one of {sorted(ABLATIONS)}")
            options = {**ABLATIONS[ablation], **options}
        return LGGANGenerator(semantic_nc, label_channels, crop_size, aspect_ratio, num_upsampling_layers, ngf,
                              upsampler=upsampler, name="generator", **options)
    if model == "sean":
        if ablation is not None:
            raise ValueError("ablation applies to --model lggan only (Table 9); SEAN has no local branch")
        return SEANGenerator(semantic_nc, crop_size, aspect_ratio, num_upsampling_layers, ngf, upsampler=upsampler,
                             name="generator", **options)
    raise ValueError(f"unknown model {model!r}; expected one of {GENERATORS}")


def build_discriminator(semantic_nc, ndf=64, num_d=2, n_layers=4, model=None):
    """Semantic-guided multiscale D_s on concat(seg, image): semantic_nc + 3 input channels. model='sean': SEAN's
    older SPADE D (3 layers, the last feature conv at stride 2; sean_official_code.md §2.4)."""
    if model == "sean":
        return MultiscaleDiscriminator(ndf, num_d, 3, last_stride=2, name="discriminator")
    return MultiscaleDiscriminator(ndf, num_d, n_layers, name="discriminator")


def count_trainable(layer) -> int:
    return int(sum(np.prod(v.shape) for v in layer.trainable_weights))


def parameter_counts(generator, discriminator=None) -> dict:
    """Trainable parameters per sub-network of a built generator (and discriminator)."""
    if isinstance(generator, CrossViewGenerator):
        return cross_view_parameter_counts(generator, discriminator)
    if isinstance(generator, SEANGenerator):
        parts = {"encoder": [generator.zencoder], "global": [], "local": [], "weight_map": [], "classifier": []}
    elif isinstance(generator, LGGANGenerator):
        parts = {"encoder": [generator.encoder], "global": [generator.global_generator]}
        local = [getattr(generator, f"local_res_{i}") for i in range(generator.num_resblocks)] if generator.has_local else []
        for name in ("local_up_0", "local_up_1", "class_generators", "local_fusion_conv"):
            if hasattr(generator, name):
                local.append(getattr(generator, name))
        parts["local"] = local
        parts["weight_map"] = [getattr(generator, n) for n in ("weight_up_0", "weight_up_1", "weight_conv")
                               if hasattr(generator, n)]
        parts["classifier"] = [generator.classifier] if hasattr(generator, "classifier") else []
    else:
        parts = {"encoder": [generator.encoder] if generator.use_vae else [],
                 "global": [generator.fc, generator.decoder], "local": [], "weight_map": [], "classifier": []}
    counts = {name: sum(count_trainable(layer) for layer in layers) for name, layers in parts.items()}
    counts["generator_total"] = count_trainable(generator)
    if isinstance(generator, SEANGenerator):  # everything but the style encoder
        counts["global"] = counts["generator_total"] - counts["encoder"]
        upsamplers = [getattr(generator, f"upsample_{n}", None) for n in generator.up_positions]
        counts["upsamplers"] = sum(count_trainable(u) for u in upsamplers if u is not None)
    if discriminator is not None:
        counts["discriminator_total"] = count_trainable(discriminator)
    return counts


__all__ = ["ABLATIONS", "GENERATORS", "build_generator", "build_discriminator", "cross_view_discriminator",
           "CrossViewGenerator", "DualDiscriminator", "SEANGenerator", "build_cross_view_generator",
           "count_trainable", "parameter_counts"]
