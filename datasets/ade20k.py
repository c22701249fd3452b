"""ADE20K / ADEChallengeData2016 (SPADE `ade20k_dataset.py`): 150 classes + dontcare, resize_and_crop 286 -> 256.

Layout: `<data_dir>/[ADEChallengeData2016/]images/{training,validation}/*.jpg` and
`annotations/{training,validation}/*.png`, paired by basename. Labels: value - 1, so class k (1..150) -> k - 1 and
0 ("other") -> -1 -> dontcare index 150. LGGAN's ADE20K generator has one local branch for each of classes 0..50 and
one for the rest summed (`local_rest_from=51`, lggan_official_code.md §1.3).
"""

from __future__ import annotations

import os

from datasets.base import DatasetSpec, register_layout
from datasets.files import LABEL_EXTS, list_files, pair_files, stem

CLASS_NAMES = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass", "cabinet",
    "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair", "car", "water",
    "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field", "armchair", "seat", "fence", "desk",
    "rock", "wardrobe", "lamp", "bathtub", "railing", "cushion", "base", "box", "column", "signboard",
    "chest of drawers", "counter", "sand", "sink", "skyscraper", "fireplace", "refrigerator", "grandstand", "path",
    "stairs", "runway", "case", "pool table", "pillow", "screen door", "stairway", "river", "bridge", "bookcase",
    "blind", "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove", "palm",
    "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus", "towel", "light",
    "truck", "tower", "chandelier", "awning", "streetlight", "booth", "television receiver", "airplane",
    "dirt track", "apparel", "pole", "land", "bannister", "escalator", "ottoman", "bottle", "buffet", "poster",
    "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything", "swimming pool", "stool",
    "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven", "ball", "food", "step", "tank",
    "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher", "screen", "blanket", "sculpture",
    "hood", "sconce", "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen", "plate", "monitor",
    "bulletin board", "shower", "radiator", "glass", "clock", "flag",
)

SPEC = DatasetSpec(
    name="ade20k", label_nc=150, contain_dontcare=True, use_instance=False, label_shift=-1,
    preprocess_mode="resize_and_crop", load_size=286, crop_size=256, test_load_size=256, aspect_ratio=1.0,
    class_names=CLASS_NAMES, default_metrics=("fid", "miou", "pixel_accuracy"), local_rest_from=51,
    batch_size=24, niter=100, niter_decay=100,
)

_FOLDERS = {"train": "training", "val": "validation", "test": "validation"}


@register_layout("ade20k")
def discover(spec, data_dir, split):
    nested = os.path.join(data_dir, "ADEChallengeData2016")
    root = nested if os.path.isdir(nested) else data_dir
    folder = _FOLDERS[split]
    files = {
        "image": list_files(os.path.join(root, "images", folder), (".jpg", ".jpeg"), f"ADE20K {split} images"),
        "label": list_files(os.path.join(root, "annotations", folder), LABEL_EXTS, f"ADE20K {split} annotations"),
    }
    return pair_files(files, stem)
