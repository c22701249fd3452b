"""CelebAMask-HQ: 19 classes (background + 18 face parts), no dontcare, no instances (DAGAN custom-mode use).

Three layouts (the third: `<data_dir>/images/` + `labels/`, paired by name for every split, as the official SEAN
README's --image_dir/--label_dir and the MaskGAN demo samples):
- combined label maps: `<data_dir>/{train,test}_img/*.jpg` + `{train,test}_label/*.png` (values 0..18), e.g. the
  output of `python -m datasets.celebamask_hq --combine --data_dir D --out O`;
- as distributed: `<data_dir>/CelebA-HQ-img/<id>.jpg` (1024x1024) and
  `<data_dir>/CelebAMask-HQ-mask-anno/<id // 2000>/<id:05d>_<part>.png` (512x512 binary masks), combined on the
  fly exactly as the official `g_mask.py`: parts painted in `PART_NAMES` order with value index + 1, later parts
  over earlier ones. Split: ids < 28000 train, the last 2000 val/test (SEAN/DAGAN convention).
Images are twice the label size: both are resized to the load size independently (image_label_same_size=False).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys

import numpy as np

from datasets.base import DatasetSpec, Example, register_layout
from datasets.errors import DatasetError
from datasets.files import (IMAGE_EXTS, LABEL_EXTS, folder_triplet, list_files, natural_key, pair_files, require_dir,
                            split_folder, stem, unpaired_message)

PART_NAMES = ("skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear", "mouth", "u_lip",
              "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth")
NUM_TRAIN = 28000
IMAGE_FOLDER, MASK_FOLDER = "CelebA-HQ-img", "CelebAMask-HQ-mask-anno"
_MASK_RE = re.compile(r"^(\d+)_(" + "|".join(PART_NAMES) + r")\.png$")

SPEC = DatasetSpec(
    name="celebamask_hq", label_nc=19, contain_dontcare=False, use_instance=False, image_label_same_size=False,
    preprocess_mode="resize_and_crop", load_size=286, crop_size=256, aspect_ratio=1.0,
    class_names=("background",) + PART_NAMES, default_metrics=("fid", "lpips"), batch_size=16, niter=50,
    niter_decay=50,
)


def combine_part_masks(paths) -> np.ndarray:
    """Per-part binary masks (class order of PART_NAMES, "" = absent) -> uint8 [H, W] label map (g_mask.py)."""
    from PIL import Image

    label = None
    for index, path in enumerate(paths):
        if not path:
            continue
        mask = np.asarray(Image.open(path))
        mask = mask[..., 2] if mask.ndim == 3 else mask  # cv2.imread(...)[:, :, 0] is the blue channel
        if label is None:
            label = np.zeros(mask.shape, np.uint8)
        if mask.shape != label.shape:
            raise DatasetError(f"{path}: part mask is {mask.shape[1]}x{mask.shape[0]}, the other parts are "
                               f"{label.shape[1]}x{label.shape[0]}; all parts of a face must have one size")
        label[mask != 0] = index + 1
    if label is None:
        raise DatasetError("combine_part_masks: no part mask given")
    return label


def _distributed(data_dir, split):
    images = list_files(os.path.join(data_dir, IMAGE_FOLDER), (".jpg", ".png"), "CelebA-HQ images <id>.jpg")
    mask_root = require_dir(os.path.join(data_dir, MASK_FOLDER), "CelebAMask-HQ part masks <k>/<id:05d>_<part>.png")
    parts: dict[int, dict[str, str]] = {}
    for root, _, names in os.walk(mask_root):
        for name in names:
            match = _MASK_RE.match(name)
            if match:
                parts.setdefault(int(match.group(1)), {})[match.group(2)] = os.path.join(root, name)
    if not parts:
        raise DatasetError(f"empty directory {mask_root}: no <id:05d>_<part>.png masks; check --data_dir")
    groups = {}
    for path in images:
        stem = os.path.splitext(os.path.basename(path))[0]
        if not stem.isdigit():
            continue
        groups[int(stem)] = {"image": path}
    for face_id, masks in parts.items():
        groups.setdefault(face_id, {})["label"] = sorted(masks.values())[0]
    message = unpaired_message(groups, ("image", "label"))
    if message:
        raise DatasetError(message)
    want_train = split == "train"
    return [Example(name=f"{i}", image=os.path.abspath(groups[i]["image"]), label="",
                    label_parts=tuple(os.path.abspath(parts[i][p]) if p in parts[i] else "" for p in PART_NAMES))
            for i in sorted(groups) if (i < NUM_TRAIN) == want_train]


def _images_labels(data_dir):
    """`<data_dir>/images/*.jpg` + `<data_dir>/labels/*.png` (the official SEAN README's --image_dir/--label_dir
    folders, and the MaskGAN demo samples); one folder pair serves every split, as SPADE's custom mode."""
    files = {"image": list_files(os.path.join(data_dir, "images"), IMAGE_EXTS, "celebamask_hq images"),
             "label": list_files(os.path.join(data_dir, "labels"), LABEL_EXTS, "celebamask_hq label maps")}
    return pair_files(files, stem, required=None)


@register_layout("celebamask_hq")
def discover(spec, data_dir, split):
    if (os.path.isdir(os.path.join(data_dir, "images")) and os.path.isdir(os.path.join(data_dir, "labels"))
            and not os.path.isdir(split_folder(data_dir, split, "{}_img"))):
        return _images_labels(data_dir)
    if os.path.isdir(os.path.join(data_dir, IMAGE_FOLDER)) and not os.path.isdir(split_folder(data_dir, split,
                                                                                               "{}_img")):
        return _distributed(data_dir, split)
    return folder_triplet(spec, data_dir, split)


def combine(data_dir: str, out: str) -> dict:
    """Write the combined layout `out/{train,test}_img/<id>.jpg` + `out/{train,test}_label/<id>.png`."""
    from PIL import Image

    counts = {}
    for split, folder in (("train", "train"), ("val", "test")):
        examples = _distributed(data_dir, split)
        os.makedirs(os.path.join(out, f"{folder}_img"), exist_ok=True)
        os.makedirs(os.path.join(out, f"{folder}_label"), exist_ok=True)
        for ex in sorted(examples, key=lambda e: natural_key(e.name)):
            shutil.copyfile(ex.image, os.path.join(out, f"{folder}_img", os.path.basename(ex.image)))
            Image.fromarray(combine_part_masks(ex.label_parts)).save(os.path.join(out, f"{folder}_label",
                                                                                  f"{ex.name}.png"))
        counts[folder] = len(examples)
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Combine CelebAMask-HQ per-part masks into label maps.")
    parser.add_argument("--combine", action="store_true", required=True, help="write combined label maps")
    parser.add_argument("--data_dir", required=True, help="folder holding CelebA-HQ-img/ and CelebAMask-HQ-mask-anno/")
    parser.add_argument("--out", required=True, help="output root for {train,test}_img and {train,test}_label")
    args = parser.parse_args(argv)
    try:
        counts = combine(args.data_dir, args.out)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
