"""Fixtures laying the shared real samples out in their native layouts (symlinks in tmp_path) and tiny writers."""

import os
import pathlib

import numpy as np
import pytest
from PIL import Image


def link(src: pathlib.Path, dst_dir: pathlib.Path, name: str | None = None) -> pathlib.Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / (name or src.name)
    os.symlink(src, dst)
    return dst


def write_image(path, h=24, w=32, seed=0, mode="RGB"):
    """Random RGB (or other mode) image file; format from the suffix."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(array).convert(mode).save(path)
    return path


def write_label(path, array):
    """8-bit grayscale PNG of class indices."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8), mode="L").save(path)
    return path


def stripes(h, w, values):
    """[h, w] uint8 map of vertical stripes cycling through `values`."""
    cols = np.arange(w) * len(values) // w
    return np.tile(np.asarray(values, np.uint8)[cols], (h, 1))


@pytest.fixture(scope="session")
def cityscapes_root(shared_data, tmp_path_factory):
    """<root>/gtFine/train/aachen/*_{labelIds,instanceIds}.png + leftImg8bit/train/aachen/*_leftImg8bit.png (4)."""
    src = shared_data / "cityscapes_samples"
    root = tmp_path_factory.mktemp("cityscapes")
    for folder in ("train_label", "train_inst"):
        for f in sorted((src / folder).iterdir()):
            link(f, root / "gtFine" / "train" / "aachen")
    for f in sorted((src / "train_img").iterdir()):
        link(f, root / "leftImg8bit" / "train" / "aachen")
    return root


@pytest.fixture(scope="session")
def coco_root(shared_data, tmp_path_factory):
    """SPADE's coco layout {train,val}_{img,label,inst} (the samples already follow it)."""
    src = shared_data / "coco_stuff_samples"
    root = tmp_path_factory.mktemp("coco")
    for folder in ("train_img", "train_label", "train_inst", "val_img", "val_label", "val_inst"):
        os.symlink(src / folder, root / folder)
    return root


@pytest.fixture(scope="session")
def celeba_root(shared_data, tmp_path_factory):
    """Combined CelebAMask-HQ layout: train_img/N.jpg (1024) + train_label/N.png (512)."""
    src = shared_data / "celebamask_hq_samples"
    root = tmp_path_factory.mktemp("celeba")
    for f in sorted((src / "images").iterdir()):
        link(f, root / "train_img")
    for f in sorted((src / "labels").iterdir()):
        link(f, root / "train_label")
    return root


REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
