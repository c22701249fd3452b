"""Per-region style transfer with a SEAN run: a label map rendered with the styles of a reference image's regions.

    python -m lggan_tf.style_transfer --model_dir R --label L.png --style_image S.jpg [--style_label SL.png]
        [--regions 11,21] [--mean_codes PATH] [--seed 0] --out O.png

Codes come from the style image's regions (Zencoder + region-wise average pooling over --style_label, or over
--label when the style image is aligned with it). --regions limits the transferred classes; every other class of
--label, and any class the style image lacks, takes the run's mean code (`python -m lggan_tf.mean_style_codes`,
default <model_dir>/mean_style_codes.npz). The official code has no such command (sean_official_code.md §4).
Inputs: label maps are 8-bit class-id PNGs (the dataset's raw values); the style image is RGB of the style label's
size. Both are resized to the run's size (nearest for labels, bicubic for the image). Bad input: one line naming the
flag or file, exit 2, nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def read_label(path, spec, flag):
    """8-bit class-id PNG -> int32 [h, w] class indices (label_shift, dontcare as the pipeline); ValueError names
    the flag and file for unreadable files or classes the model does not know."""
    import numpy as np
    from PIL import Image

    from datasets.checks import remap_np

    try:
        with Image.open(path) as img:
            if img.mode not in ("L", "P", "I", "I;16"):
                raise ValueError(f"{flag}={path}: expected an 8-bit class-id PNG (mode L or P), got mode {img.mode}")
            raw = np.asarray(img).astype(np.int64)
    except OSError as err:
        raise ValueError(f"{flag}={path}: cannot read the label map ({err})") from err
    label = remap_np(raw, spec)  # the dataset's shift and don't-care rule, as the input pipeline
    bad = np.unique(label[(label < 0) | (label >= spec.onehot_nc)])
    if bad.size:
        raise ValueError(f"{flag}={path}: class ids {sorted(set((bad - spec.label_shift).tolist()))[:10]} unknown "
                         f"to the model ({spec.name}: 0..{spec.label_nc - 1}"
                         f"{', dontcare ' + str(spec.ignore_value) if spec.contain_dontcare else ''})")
    return label.astype(np.int32)


def read_image(path, flag):
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except OSError as err:
        raise ValueError(f"{flag}={path}: cannot read the image ({err})") from err


def parse_regions(text, semantic_nc):
    """'11,21' -> [11, 21]; ValueError naming --regions for non-integers or unknown ids."""
    if not text:
        return None
    try:
        ids = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--regions={text!r}: expected comma-separated class ids, e.g. --regions=11,21") from None
    unknown = [i for i in ids if not 0 <= i < semantic_nc]
    if unknown or not ids:
        raise ValueError(f"--regions={text!r}: unknown class ids {unknown}; the model knows 0..{semantic_nc - 1}")
    return ids


def mix_codes(style_codes, style_present, mean_codes, regions):
    """Per-class codes [S, D]: the style image's code where it has the class (and the class is in `regions`, when
    given), else the mean code. Returns (codes, from_style bool [S])."""
    import numpy as np

    take = style_present.copy()
    if regions is not None:
        chosen = np.zeros_like(take)
        chosen[regions] = True
        take &= chosen
    if mean_codes is None:
        mean_codes = np.zeros_like(style_codes)
    return np.where(take[:, None], style_codes, mean_codes), take


def transfer(run, label, style_image, style_label, regions, mean_codes_path, seed=0):
    """uint8 [H, W, 3] image of `label` with the per-region styles (see module docstring)."""
    import tensorflow as tf

    from datasets.transforms import semantic_from_labels
    from lggan_tf.layers.common import nearest_resize_to
    from lggan_tf.mean_style_codes import load_mean_codes
    from lggan_tf.metrics.generate import to_uint8

    spec, h, w = run.plan.spec, run.plan.height, run.plan.width
    g = run.generator

    def semantic(lab):
        return nearest_resize_to(semantic_from_labels(tf.constant(lab[None]), None, spec), h, w)

    target = semantic(label)
    style_seg = semantic(style_label)
    image = tf.image.resize(tf.constant(style_image[None], tf.float32) / 127.5 - 1.0, [h, w], method="bicubic")
    style_codes = g.encode_styles(tf.clip_by_value(image, -1.0, 1.0), style_seg).numpy()[0]
    present = tf.reduce_max(nearest_resize_to(style_seg, h // 2, w // 2), axis=[1, 2]).numpy()[0] > 0
    needed = tf.reduce_max(target, axis=[1, 2]).numpy()[0] > 0
    codes, take = mix_codes(style_codes, present, None, regions)
    if (needed & ~take).any():
        mean = load_mean_codes(mean_codes_path, g.semantic_nc, g.style_dim)
        codes, take = mix_codes(style_codes, present, mean, regions)
    g.noise_calls.assign(seed)  # the ACE noise of this call is a function of --seed
    out = g(target, style_codes=codes[None], training=False)["image"]
    return to_uint8(out)[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lggan_tf.style_transfer", description=__doc__.split("\n")[0])
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--label", required=True, help="target label map (class-id PNG)")
    parser.add_argument("--style_image", required=True, help="reference RGB image")
    parser.add_argument("--style_label", default=None, help="label map of the style image (default: --label)")
    parser.add_argument("--regions", default="", help="class ids to transfer, e.g. 11,21 (default: all present)")
    parser.add_argument("--mean_codes", default=None, help="default <model_dir>/mean_style_codes.npz")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--seed", type=int, default=0, help="ACE noise seed")
    parser.add_argument("--out", required=True, help="output PNG")
    args = parser.parse_args(argv)
    from lggan_tf.inference import RunLoadError, load_run
    from lggan_tf.mean_style_codes import MEAN_CODES_FILE, require_sean

    try:
        if not args.out.lower().endswith(".png"):
            raise ValueError(f"--out={args.out}: expected a .png path")
        run = load_run(args.model_dir, args.checkpoint)
        require_sean(run)
        spec = run.plan.spec
        label = read_label(args.label, spec, "--label")
        style_image = read_image(args.style_image, "--style_image")
        style_label = label if args.style_label is None else read_label(args.style_label, spec, "--style_label")
        ref_flag = "--label" if args.style_label is None else "--style_label"
        if style_image.shape[:2] != style_label.shape:
            raise ValueError(f"--style_image={args.style_image}: {style_image.shape[1]}x{style_image.shape[0]} but "
                             f"{ref_flag} is {style_label.shape[1]}x{style_label.shape[0]}; the style image and its "
                             "label map must have one size")
        regions = parse_regions(args.regions, run.generator.semantic_nc)
        mean_path = args.mean_codes or os.path.join(args.model_dir, MEAN_CODES_FILE)
        result = transfer(run, label, style_image, style_label, regions, mean_path, args.seed)
    except (ValueError, RunLoadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from PIL import Image

    tmp = args.out + ".tmp.png"
    Image.fromarray(result).save(tmp)
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
