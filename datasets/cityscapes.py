"""Cityscapes (SPADE `cityscapes_dataset.py`): 35 labelIds + instance edges, fixed 512x256, 'more' upsampling.

Layout: `<data_dir>/gtFine/{train,val}/<city>/*_gtFine_labelIds.png` and `*_gtFine_instanceIds.png` (16-bit),
`<data_dir>/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png`; paired by the first three `_` fields
(city_seq_frame). Split "test" reads val, as SPADE. label_nc 35 leaves id 34 (license plate, -1 upstream) unused.
"""

from __future__ import annotations

import os

from datasets.base import DatasetSpec, register_layout
from datasets.files import list_files, pair_files

# cityscapesScripts labels.py, ids 0..33, plus 'license plate' (id -1 upstream) at 34.
_LABELS = (
    ("unlabeled", (0, 0, 0)), ("ego vehicle", (0, 0, 0)), ("rectification border", (0, 0, 0)),
    ("out of roi", (0, 0, 0)), ("static", (0, 0, 0)), ("dynamic", (111, 74, 0)), ("ground", (81, 0, 81)),
    ("road", (128, 64, 128)), ("sidewalk", (244, 35, 232)), ("parking", (250, 170, 160)),
    ("rail track", (230, 150, 140)), ("building", (70, 70, 70)), ("wall", (102, 102, 156)),
    ("fence", (190, 153, 153)), ("guard rail", (180, 165, 180)), ("bridge", (150, 100, 100)),
    ("tunnel", (150, 120, 90)), ("pole", (153, 153, 153)), ("polegroup", (153, 153, 153)),
    ("traffic light", (250, 170, 30)), ("traffic sign", (220, 220, 0)), ("vegetation", (107, 142, 35)),
    ("terrain", (152, 251, 152)), ("sky", (70, 130, 180)), ("person", (220, 20, 60)), ("rider", (255, 0, 0)),
    ("car", (0, 0, 142)), ("truck", (0, 0, 70)), ("bus", (0, 60, 100)), ("caravan", (0, 0, 90)),
    ("trailer", (0, 0, 110)), ("train", (0, 80, 100)), ("motorcycle", (0, 0, 230)), ("bicycle", (119, 11, 32)),
    ("license plate", (0, 0, 142)),
)

SPEC = DatasetSpec(
    name="cityscapes", label_nc=35, contain_dontcare=False, use_instance=True,
    preprocess_mode="fixed", load_size=512, crop_size=512, aspect_ratio=2.0, num_upsampling_layers="more",
    class_names=tuple(n for n, _ in _LABELS), palette=tuple(c for _, c in _LABELS),
    default_metrics=("fid", "miou", "pixel_accuracy"), batch_size=8, niter=100, niter_decay=100,
)


def pair_key(path: str) -> str:
    """city_seq_frame of a Cityscapes file name (`aachen_000000_000019_leftImg8bit.png` -> `aachen_000000_000019`)."""
    return "_".join(os.path.basename(path).split("_")[:3])


@register_layout("cityscapes")
def discover(spec, data_dir, split):
    folder = "val" if split == "test" else split
    gt = os.path.join(data_dir, "gtFine", folder)
    left = os.path.join(data_dir, "leftImg8bit", folder)
    files = {
        "image": list_files(left, (".png",), f"Cityscapes {split} images <city>/*_leftImg8bit.png", True,
                            "_leftImg8bit"),
        "label": list_files(gt, (".png",), f"Cityscapes {split} <city>/*_gtFine_labelIds.png", True, "_labelIds"),
    }
    if spec.use_instance:
        files["instance"] = list_files(gt, (".png",), f"Cityscapes {split} <city>/*_gtFine_instanceIds.png", True,
                                       "_instanceIds")
    return pair_files(files, pair_key, required=None)
