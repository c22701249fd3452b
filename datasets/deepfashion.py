"""DeepFashion human parsing (DAGAN/SMIS custom-mode use): 20 classes, no dontcare, no instances, 256x256.

Layout (chosen, as DAGAN's `--dataset_mode custom` folders): `<data_dir>/{train,test}_img/*.jpg` and
`<data_dir>/{train,test}_label/*.png` (8-bit class indices 0..19), paired by basename; split "val" reads the
`test_*` folders when no `val_*` folders exist. Class order follows LIP's 20 parsing labels, used by the SMIS
DeepFashion parsing maps that DAGAN trains on.
"""

from __future__ import annotations

from datasets.base import DatasetSpec, register_layout
from datasets.files import folder_triplet

CLASS_NAMES = (
    "background", "hat", "hair", "glove", "sunglasses", "upper-clothes", "dress", "coat", "socks", "pants",
    "jumpsuits", "scarf", "skirt", "face", "left-arm", "right-arm", "left-leg", "right-leg", "left-shoe",
    "right-shoe",
)

SPEC = DatasetSpec(
    name="deepfashion", label_nc=20, contain_dontcare=False, use_instance=False,
    preprocess_mode="resize_and_crop", load_size=256, crop_size=256, aspect_ratio=1.0,
    class_names=CLASS_NAMES, default_metrics=("fid", "lpips"), batch_size=32, niter=50, niter_decay=50,
)


@register_layout("deepfashion")
def discover(spec, data_dir, split):
    return folder_triplet(spec, data_dir, split)
