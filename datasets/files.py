"""File discovery helpers shared by the dataset layouts: natural sort, listing with clear errors, pairing by key."""

from __future__ import annotations

import os
import re
from typing import Callable, Iterable

from datasets.base import Example
from datasets.errors import DatasetError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
LABEL_EXTS = (".png", ".bmp")
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "test"), "test": ("test", "val")}
MAX_LISTED = 10


def natural_key(text: str):
    """Sort key treating digit runs as numbers ("img2" < "img10"), as SPADE's `natsort`."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def require_dir(path: str, what: str) -> str:
    """`path` if it is a directory; DatasetError naming it and what it should hold otherwise."""
    if not os.path.isdir(path):
        raise DatasetError(f"missing directory {path}: expected {what}; check --data_dir and the dataset layout")
    return path


def list_files(folder: str, exts: Iterable[str], what: str, recursive: bool = False, suffix: str = "") -> list[str]:
    """Naturally sorted files in `folder` ending in `suffix` + one of `exts`; DatasetError if missing or empty."""
    require_dir(folder, what)
    exts = tuple(e.lower() for e in exts)
    found = []
    if recursive:
        for root, _, names in os.walk(folder):
            found += [os.path.join(root, n) for n in names]
    else:
        found = [os.path.join(folder, n) for n in os.listdir(folder)]
    found = [f for f in found if f.lower().endswith(exts) and os.path.basename(f)[: -len(os.path.splitext(f)[1])]
             .endswith(suffix) and os.path.isfile(f)]
    if not found:
        want = f"*{suffix}{{{','.join(exts)}}}"
        raise DatasetError(f"empty directory {folder}: no {want} files ({what}); check --data_dir and the layout")
    return sorted(found, key=lambda f: natural_key(os.path.relpath(f, folder)))


def split_folder(root: str, split: str, pattern: str) -> str:
    """First existing `root/pattern.format(s)` for the split's folder names (val falls back to test and back)."""
    candidates = [os.path.join(root, pattern.format(s)) for s in SPLIT_FOLDERS[split]]
    for path in candidates:
        if os.path.isdir(path):
            return path
    return candidates[0]


def unpaired_message(groups: dict[str, dict[str, str]], required: tuple[str, ...]) -> str | None:
    """One-line description of keys missing a required member, or None when everything pairs."""
    problems = []
    for key, members in groups.items():
        missing = [r for r in required if r not in members]
        if missing:
            have = ", ".join(members[m] for m in sorted(members))
            problems.append(f"{have} has no {'/'.join(missing)} file")
    if not problems:
        return None
    shown = "; ".join(problems[:MAX_LISTED])
    more = f"; ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return (f"{len(problems)} unpaired file(s): {shown}{more}. Every image needs a label (and instance map) with "
            f"the same name; remove the strays or add the missing files")


def pair_files(files: dict[str, list[str]], key: Callable[[str], str], required=("image", "label")) -> list[Example]:
    """Pair files of each role ("image", "label", "instance") by `key(path)`; DatasetError lists unpaired files."""
    groups: dict[str, dict[str, str]] = {}
    for role, paths in files.items():
        for path in paths:
            groups.setdefault(key(path), {})[role] = path
    message = unpaired_message(groups, tuple(files) if required is None else required)
    if message:
        raise DatasetError(message)
    out = [Example(name=k, image=os.path.abspath(m["image"]), label=os.path.abspath(m["label"]),
                   instance=os.path.abspath(m["instance"]) if "instance" in m else "")
           for k, m in groups.items()]
    return sorted(out, key=lambda e: natural_key(e.name))


def folder_triplet(spec, root: str, split: str, image_ext=IMAGE_EXTS) -> list[Example]:
    """`{split}_img/`, `{split}_label/` (+ `{split}_inst/` when the spec uses instances), paired by basename."""
    image_dir = split_folder(root, split, "{}_img")
    label_dir = split_folder(root, split, "{}_label")
    files = {"image": list_files(image_dir, image_ext, f"{spec.name} {split} images"),
             "label": list_files(label_dir, LABEL_EXTS, f"{spec.name} {split} label maps")}
    if spec.use_instance:
        inst_dir = split_folder(root, split, "{}_inst")
        files["instance"] = list_files(inst_dir, LABEL_EXTS, f"{spec.name} {split} instance maps "
                                       f"(or pass use_instance=False / --no_instance)")
    return pair_files(files, stem, required=None)
