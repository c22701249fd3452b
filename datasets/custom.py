"""Custom datasets (SPADE `custom_dataset.py`): any image/label folders, basenames paired, natural sort.

Either `get_spec("custom", label_nc=N, image_dir=..., label_dir=..., instance_dir=...)` (relative paths are taken
under data_dir; the split is then ignored, as SPADE's custom mode) or the folder layout
`<data_dir>/{split}_img`, `{split}_label` (+ `{split}_inst` with use_instance=True). Labels must be 8-bit class
indices 0..label_nc-1 (255 = unlabeled needs contain_dontcare=True, ignore_value=255).
"""

from __future__ import annotations

import os

from datasets.base import DatasetSpec, register_layout
from datasets.errors import DatasetError
from datasets.files import IMAGE_EXTS, LABEL_EXTS, folder_triplet, list_files, pair_files, stem

SPEC = DatasetSpec(
    name="custom", label_nc=13, contain_dontcare=False, use_instance=False, ignore_value=255,
    preprocess_mode="resize_and_crop", load_size=286, crop_size=256, aspect_ratio=1.0,
    default_metrics=("fid",), batch_size=1, niter=50, niter_decay=0,
)


def _under(data_dir, path):
    return path if os.path.isabs(path) or not data_dir else os.path.join(data_dir, path)


@register_layout("custom")
def discover(spec, data_dir, split):
    if not spec.image_dir and not spec.label_dir:
        return folder_triplet(spec, data_dir, split)
    if not (spec.image_dir and spec.label_dir):
        raise DatasetError("custom dataset: pass both --image_dir and --label_dir (or neither, to use "
                           "<data_dir>/{split}_img and {split}_label)")
    files = {"image": list_files(_under(data_dir, spec.image_dir), IMAGE_EXTS, "custom images (--image_dir)"),
             "label": list_files(_under(data_dir, spec.label_dir), LABEL_EXTS, "custom label maps (--label_dir)")}
    if spec.use_instance:
        if not spec.instance_dir:
                raise DatasetError("custom dataset: use_instance=True needs --instance_dir")
        files["instance"] = list_files(_under(data_dir, spec.instance_dir), LABEL_EXTS,
                                       "custom instance maps (--instance_dir)")
    return pair_files(files, stem, required=None)
