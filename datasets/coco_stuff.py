"""COCO-Stuff (SPADE `coco_dataset.py`): 182 classes + dontcare + instance edges, resize_and_crop 286 -> 256.

Layout: `<data_dir>/{train,val}_img/*.jpg`, `{train,val}_label/*.png` (stuffthingmaps: 0..181 = COCO-Stuff id - 1,
255 = unlabeled -> dontcare index 182) and `{train,val}_inst/*.png` (SPADE's coco_generate_instance_map.py output),
paired by basename. Without instance maps use `get_spec("coco_stuff", use_instance=False)`.
SPADE's optional `*_portrait` folders are not read.
"""

from __future__ import annotations

from datasets.base import DatasetSpec, register_layout
from datasets.files import folder_triplet

# COCO-Stuff labels.md ids 1..182 (index = id - 1); the 11 ids removed from COCO keep their names.
CLASS_NAMES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "street sign", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep",
    "cow", "elephant", "bear", "zebra", "giraffe", "hat", "backpack", "umbrella", "shoe", "eye glasses", "handbag",
    "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove",
    "skateboard", "surfboard", "tennis racket", "bottle", "plate", "wine glass", "cup", "fork", "knife", "spoon",
    "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake",
    "chair", "couch", "potted plant", "bed", "mirror", "dining table", "window", "desk", "toilet", "door", "tv",
    "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator",
    "blender", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush", "hair brush",
    "banner", "blanket", "branch", "bridge", "building-other", "bush", "cabinet", "cage", "cardboard", "carpet",
    "ceiling-other", "ceiling-tile", "cloth", "clothes", "clouds", "counter", "cupboard", "curtain", "desk-stuff",
    "dirt", "door-stuff", "fence", "floor-marble", "floor-other", "floor-stone", "floor-tile", "floor-wood",
    "flower", "fog", "food-other", "fruit", "furniture-other", "grass", "gravel", "ground-other", "hill", "house",
    "leaves", "light", "mat", "metal", "mirror-stuff", "moss", "mountain", "mud", "napkin", "net", "paper",
    "pavement", "pillow", "plant-other", "plastic", "platform", "playingfield", "railing", "railroad", "river",
    "road", "rock", "roof", "rug", "salad", "sand", "sea", "shelf", "sky-other", "skyscraper", "snow",
    "solid-other", "stairs", "stone", "straw", "structural-other", "table", "tent", "textile-other", "towel",
    "tree", "vegetable", "wall-brick", "wall-concrete", "wall-other", "wall-panel", "wall-stone", "wall-tile",
    "wall-wood", "water-other", "waterdrops", "window-blind", "window-other", "wood",
)

SPEC = DatasetSpec(
    name="coco_stuff", label_nc=182, contain_dontcare=True, use_instance=True, ignore_value=255,
    preprocess_mode="resize_and_crop", load_size=286, crop_size=256, test_load_size=256, aspect_ratio=1.0,
    class_names=CLASS_NAMES, default_metrics=("fid", "miou", "pixel_accuracy"), batch_size=32, niter=50, niter_decay=50,
)


@register_layout("coco_stuff")
def discover(spec, data_dir, split):
    return folder_triplet(spec, data_dir, split)
