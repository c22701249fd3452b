"""Paired image folders: real/, generated/ (and label/) matched by file name, loaded in uint8 batches.

    pairs = pair_folders("eval/real", "eval/fake", "eval/label")     # FileNotFoundError/ValueError naming the problem
    for batch in iterate_batches(pairs, 8): batch["real"], batch["fake"], batch["label"], batch["names"]

Files pair by name without extension (`a.png` generated pairs with `a.jpg` real). Within a batch, images of one
size are stacked; a size change starts a new batch.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
from PIL import Image

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclasses.dataclass(frozen=True)
class ImagePairs:
    names: tuple[str, ...]
    real: tuple[str, ...]
    fake: tuple[str, ...]
    label: tuple[str, ...] | None = None

    def __len__(self):
        return len(self.names)


def list_images(folder: str, flag: str) -> dict[str, str]:
    """{name without extension: path} of the images directly in `folder`."""
    if not folder or not os.path.isdir(folder):
        raise FileNotFoundError(f"{flag}={folder!r} is not a directory: pass the folder holding the images")
    found = {}
    for entry in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(entry)
        if ext.lower() in IMAGE_EXTS:
            if stem in found:
                raise ValueError(f"{flag}={folder!r}: two images named {stem!r} ({os.path.basename(found[stem])}, "
                                 f"{entry}); keep one")
            found[stem] = os.path.join(folder, entry)
    if not found:
        raise FileNotFoundError(f"{flag}={folder!r} holds no images ({', '.join(IMAGE_EXTS)})")
    return found


def pair_folders(real_dir: str, fake_dir: str, label_dir: str | None = None) -> ImagePairs:
    """Match the three folders by file name; ValueError listing the names missing from each side."""
    folders = {"--real_dir": list_images(real_dir, "--real_dir"), "--fake_dir": list_images(fake_dir, "--fake_dir")}
    if label_dir:
        folders["--label_dir"] = list_images(label_dir, "--label_dir")
    every = set().union(*[set(f) for f in folders.values()])
    missing = {flag: sorted(every - set(found)) for flag, found in folders.items() if every - set(found)}
    if missing:
        detail = "; ".join(f"{len(names)} missing from {flag} (e.g. {names[:8]})" for flag, names in missing.items())
        raise ValueError(f"unpaired images: {detail}. Every generated image needs a real image (and a label map) "
                         "with the same file name")
    names = tuple(sorted(every))
    return ImagePairs(names, tuple(folders["--real_dir"][n] for n in names),
                      tuple(folders["--fake_dir"][n] for n in names),
                      tuple(folders["--label_dir"][n] for n in names) if label_dir else None)


def load_rgb(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), np.uint8)


def load_label(path: str) -> np.ndarray:
    """Label map int32 [H, W] (class ids stored as 8/16-bit grey PNG values; palette PNGs give their indices)."""
    with Image.open(path) as img:
        arr = np.asarray(img)
    if arr.ndim != 2:
        raise ValueError(f"label map {path!r} has shape {arr.shape}; expected a single-channel image of class ids")
    return arr.astype(np.int32)


def iterate_batches(pairs: ImagePairs, batch_size: int, with_labels: bool = False):
    """Yield {"names", "real", "fake"[, "label"]} with uint8 [B, H, W, 3] (int32 [B, H, W] labels)."""
    pending = []

    def flush():
        batch = {"names": [p["name"] for p in pending], "real": np.stack([p["real"] for p in pending]),
                 "fake": np.stack([p["fake"] for p in pending])}
        if with_labels:
            batch["label"] = np.stack([p["label"] for p in pending])
        pending.clear()
        return batch

    for i, name in enumerate(pairs.names):
        item = {"name": name, "real": load_rgb(pairs.real[i]), "fake": load_rgb(pairs.fake[i])}
        if with_labels:
            if pairs.label is None:
                raise ValueError("this metric needs label maps: pass --label_dir (folder mode) or evaluate a run")
            item["label"] = load_label(pairs.label[i])
        if pending and any(item[k].shape != pending[0][k].shape for k in item if k != "name"):
            yield flush()
        pending.append(item)
        if len(pending) == batch_size:
            yield flush()
    if pending:
        yield flush()


__all__ = ["IMAGE_EXTS", "ImagePairs", "iterate_batches", "list_images", "load_label", "load_rgb", "pair_folders"]
