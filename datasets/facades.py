"""CMP Facades: 12 classes indexed 1..12 (index 0 unused), label_nc 13, no dontcare, no instances.

Two layouts: (1) SPADE's facades mode `<data_dir>/{train,val}_img/*.jpg` + `{train,val}_label/*.png`;
(2) the CMP release as downloaded: `cmp_b*.jpg`/`cmp_b*.png` (base) and `cmp_x*` (extended) anywhere under
`<data_dir>` (e.g. `base/`, `extended/`). For (2) the split comes from `<data_dir>/{split}.txt` (one basename per
line) when present, otherwise it is deterministic: in natural order, every 10th pair (index % 10 == 9) is val,
the rest train. CMP label PNGs are palette images whose palette indices are the classes, so labels are decoded
with PIL (`palette_labels=True`); plain 8-bit index PNGs work too.
"""

from __future__ import annotations

import os

from datasets.base import DatasetSpec, register_layout
from datasets.errors import DatasetError
from datasets.files import folder_triplet, list_files, natural_key, pair_files, split_folder, stem

CLASS_NAMES = ("unused", "background", "facade", "window", "door", "cornice", "sill", "balcony", "blind", "deco",
               "molding", "pillar", "shop")

SPEC = DatasetSpec(
    name="facades", label_nc=13, contain_dontcare=False, use_instance=False, palette_labels=True,
    preprocess_mode="resize_and_crop", load_size=286, crop_size=256, aspect_ratio=1.0,
    class_names=CLASS_NAMES, default_metrics=("fid",), batch_size=4, niter=50, niter_decay=50,
)
VAL_EVERY = 10


@register_layout("facades")
def discover(spec, data_dir, split):
    if os.path.isdir(split_folder(data_dir, split, "{}_img")):
        return folder_triplet(spec, data_dir, split)
    files = list_files(data_dir, (".jpg", ".png"), "CMP facades cmp_b*.jpg/.png (or {split}_img/_label folders)",
                       recursive=True)
    files = [f for f in files if os.path.basename(f).startswith(("cmp_b", "cmp_x"))]
    if not files:
        raise DatasetError(f"empty directory {data_dir}: no cmp_b*/cmp_x* files and no {split}_img folder; "
                           f"point --data_dir at the CMP facades release (base/, extended/)")
    pairs = pair_files({"image": [f for f in files if f.endswith(".jpg")],
                        "label": [f for f in files if f.endswith(".png")]}, stem)
    split_file = os.path.join(data_dir, f"{'val' if split == 'test' else split}.txt")
    if os.path.isfile(split_file):
        with open(split_file) as fh:
            wanted = {stem(line.strip()) for line in fh if line.strip()}
        unknown = sorted(wanted - {p.name for p in pairs}, key=natural_key)
        if unknown:
            raise DatasetError(f"{split_file} lists {len(unknown)} name(s) with no image/label pair, e.g. "
                               f"{unknown[:5]}; fix the split file")
        return [p for p in pairs if p.name in wanted]
    is_val = split in ("val", "test")
    return [p for i, p in enumerate(pairs) if (i % VAL_EVERY == VAL_EVERY - 1) == is_val]
