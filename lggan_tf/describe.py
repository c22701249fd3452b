"""Print parameter counts per sub-network as one JSON object, without running the model.

    python -m lggan_tf.describe --model lggan --dataset cityscapes [--upsampler sau] [--ngf 64] [--ablation B5]
    python -m lggan_tf.describe --model lggan_cv --dataset dayton   # cross-view G 12,181,847; D_i, D_s 2,767,809
    python -m lggan_tf.describe --model sean --dataset celebamask_hq  # SEAN G 266,907,367, D 1,364,098

Variables are created (the model is built on the dataset's input shape) but no image is generated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def model_facts(spec, height=None, width=None):
    """Generator keyword arguments and the input shape [H, W, semantic_nc] from a dataset spec.

    label_channels (the class masks of the local branch): one sub-generator per semantic class (§3.3, Eq. (2)); the
    don't-care label is not a class and gets none (COCO-Stuff: 182), except inside ADE20K's merged "rest" mask
    (channels >= 51, as the official ADE20K code). docs/fidelity.md.
    """
    local_dontcare = spec.contain_dontcare and spec.local_rest_from is not None
    facts = dict(semantic_nc=spec.semantic_nc, label_channels=spec.label_nc + int(local_dontcare),
                 crop_size=spec.crop_size, aspect_ratio=spec.aspect_ratio,
                 num_upsampling_layers=spec.num_upsampling_layers)
    h = height or int(round(spec.crop_size / spec.aspect_ratio))
    w = width or spec.crop_size
    return facts, (h, w, spec.semantic_nc)


def describe(model, dataset, upsampler="nearest", ngf=64, ndf=64, ablation=None, **options):
    """Return a dict of parameter counts (see `lggan_tf.models.parameter_counts`) plus the configuration."""
    from datasets import get_spec
    from lggan_tf.models import build_discriminator, build_generator, parameter_counts

    spec = get_spec(dataset)
    if (model == "lggan_cv") != (spec.task == "cross_view"):
        raise ValueError(f"--model {model} does not fit the {spec.task} dataset {dataset!r}; cross-view datasets "
                         "(dayton, dayton_g2a, cvusa, sva) take --model lggan_cv, synthesis datasets gaugan, lggan "
                         "or sean")
    if model == "lggan_cv":
        return _describe_cross_view(spec, upsampler, ngf, ndf, ablation, **options)
    facts, (h, w, c) = model_facts(spec)
    if model in ("lggan",) and spec.local_rest_from is not None:
        options.setdefault("local_rest_from", spec.local_rest_from)
    generator = build_generator(model, ngf=ngf, upsampler=upsampler, ablation=ablation, **facts, **options)
    generator.build((None, h, w, c))
    discriminator = build_discriminator(c, ndf=ndf, model=model)
    discriminator.build((None, h, w, c + 3))
    counts = parameter_counts(generator, discriminator)
    return {"model": model, "dataset": dataset, "upsampler": upsampler, "ngf": ngf, "ablation": ablation,
            "input_shape": [h, w, c], **counts}


def _describe_cross_view(spec, upsampler, ngf, ndf, ablation, **options):
    from lggan_tf.models import DualDiscriminator, build_cross_view_generator, parameter_counts

    h = w = spec.crop_size
    generator = build_cross_view_generator(ngf, upsampler, spec.label_nc, ablation, **options)
    generator.build((None, h, w, 6), (None, h, w, spec.label_nc))
    discriminator = DualDiscriminator(ndf)
    discriminator.build((None, h, w, 3))
    return {"model": "lggan_cv", "dataset": spec.name, "upsampler": generator.branch_upsampler, "ngf": ngf,
            "ablation": ablation, "input_shape": [h, w, 6], **parameter_counts(generator, discriminator)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lggan_tf.describe", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=["gaugan", "lggan", "lggan_cv", "sean"])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--upsampler", default="nearest")
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--ablation", default=None, help="LGGAN Table 9 setting B1..B5")
    args = parser.parse_args(argv)
    try:
        result = describe(args.model, args.dataset, args.upsampler, args.ngf, args.ndf, args.ablation)
    except (ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
