"""Native layouts written by each test: counts, pairing, dontcare mapping and label ranges."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import datasets
from datasets import celebamask_hq, facades
from datasets.checks import validate

from .conftest import stripes, write_image, write_label

H, W = 24, 32


def labels_of(spec, root, split, n, **kw):
    ds = datasets.build_dataset(spec, str(root), split, n, training=False, height=16, width=16, **kw)
    return [b for b in ds]


def test_ade20k_shift_and_dontcare(tmp_path):
    root = tmp_path / "ADEChallengeData2016"
    for split, folder, count in (("train", "training", 3), ("val", "validation", 2)):
        for i in range(count):
            name = f"ADE_{split}_{i:08d}"
            write_image(root / "images" / folder / f"{name}.jpg", H, W, seed=i)
            write_label(root / "annotations" / folder / f"{name}.png", stripes(H, W, [0, 1, 150]))
    spec = datasets.get_spec("ade20k")
    assert (spec.label_nc, spec.semantic_nc, spec.local_rest_from) == (150, 151, 51)
    assert len(datasets.discover(spec, str(tmp_path), "train")) == 3
    assert len(validate(spec, str(tmp_path), "val")) == 2
    (batch,) = labels_of(spec, tmp_path, "val", 2)
    # raw 0 -> dontcare 150, raw 1 -> class 0, raw 150 -> class 149
    assert set(np.unique(batch["label"].numpy())) == {150, 0, 149}
    np.testing.assert_array_equal(batch["semantic"].numpy()[0, 0, 0], np.eye(151)[150])


def test_deepfashion_test_folder_serves_val(tmp_path):
    for split, count in (("train", 2), ("test", 3)):
        for i in range(count):
            write_image(tmp_path / f"{split}_img" / f"img{i}.jpg", H, W, seed=i)
            write_label(tmp_path / f"{split}_label" / f"img{i}.png", stripes(H, W, [0, 5, 19]))
    spec = datasets.get_spec("deepfashion")
    assert len(datasets.discover(spec, str(tmp_path), "train")) == 2
    batches = labels_of(spec, tmp_path, "val", 3)
    label = batches[0]["label"].numpy()
    assert label.shape == (3, 16, 16) and set(np.unique(label)) == {0, 5, 19}
    assert batches[0]["semantic"].shape[-1] == 20


def _write_cmp(root, n):
    """CMP-style pairs: cmp_bNNNN.jpg + palette PNG whose indices are the classes 1..12."""
    palette = np.random.default_rng(0).integers(0, 256, 768).astype(np.uint8).tolist()
    for i in range(1, n + 1):
        write_image(root / "base" / f"cmp_b{i:04d}.jpg", H, W, seed=i)
        label = Image.fromarray(stripes(H, W, [1, 3, 12]), mode="P")
        label.putpalette(palette)
        label.save(root / "base" / f"cmp_b{i:04d}.png")


def test_facades_cmp_palette_and_deterministic_split(tmp_path):
    _write_cmp(tmp_path, 20)
    spec = datasets.get_spec("facades")
    train = datasets.discover(spec, str(tmp_path), "train")
    val = datasets.discover(spec, str(tmp_path), "val")
    assert (len(train), len(val)) == (18, 2)
    assert [e.name for e in val] == ["cmp_b0010", "cmp_b0020"]  # every 10th in natural order
    validate(spec, str(tmp_path), "val", check_all=True)
    (batch,) = labels_of(spec, tmp_path, "val", 2)
    assert set(np.unique(batch["label"].numpy())) == {1, 3, 12}  # palette indices, not colours
    (tmp_path / "val.txt").write_text("cmp_b0003\ncmp_b0004.jpg\n")
    assert [e.name for e in datasets.discover(spec, str(tmp_path), "val")] == ["cmp_b0003", "cmp_b0004"]


def test_custom_dirs_natural_sort_and_instances(tmp_path):
    for i in (1, 2, 10):
        write_image(tmp_path / "photos" / f"x{i}.png", H, W, seed=i)
        write_label(tmp_path / "maps" / f"x{i}.png", stripes(H, W, [0, 4]))
        write_label(tmp_path / "inst" / f"x{i}.png", stripes(H, W, [7, 8, 9]))
    spec = datasets.get_spec("custom", label_nc=5, image_dir="photos", label_dir="maps", instance_dir="inst")
    assert spec.use_instance and spec.semantic_nc == 6
    assert [e.name for e in datasets.discover(spec, str(tmp_path), "train")] == ["x1", "x2", "x10"]
    (batch,) = labels_of(spec, tmp_path, "train", 3)
    semantic = batch["semantic"].numpy()
    assert set(np.unique(batch["label"].numpy())) == {0, 4}
    assert semantic[..., 5].sum() > 0 and semantic[..., 5].mean() < 0.5  # stripe borders only


def test_custom_unlabeled_255_with_dontcare(tmp_path):
    write_image(tmp_path / "train_img" / "a.jpg", H, W)
    write_label(tmp_path / "train_label" / "a.png", stripes(H, W, [0, 2, 255]))
    spec = datasets.get_spec("custom", label_nc=3, contain_dontcare=True)
    (batch,) = labels_of(spec, tmp_path, "train", 1)
    assert set(np.unique(batch["label"].numpy())) == {0, 2, 3} and spec.semantic_nc == 4


def _write_celeba_parts(root, ids):
    for face_id in ids:
        write_image(root / celebamask_hq.IMAGE_FOLDER / f"{face_id}.jpg", 2 * H, 2 * H, seed=face_id)
        folder = root / celebamask_hq.MASK_FOLDER / str(face_id // 2000)
        folder.mkdir(parents=True, exist_ok=True)
        skin = np.zeros((H, H), np.uint8)
        skin[4:20, 4:20] = 255
        nose = np.zeros((H, H), np.uint8)
        nose[8:12, 8:12] = 255
        Image.fromarray(skin).save(folder / f"{face_id:05d}_skin.png")
        Image.fromarray(np.stack([nose] * 3, -1)).save(folder / f"{face_id:05d}_nose.png")  # RGB mask, as cv2
        if face_id % 2:
            Image.fromarray(nose).save(folder / f"{face_id:05d}_cloth.png")  # later part paints over nose


def test_celebamask_part_masks_combined_on_the_fly_and_prep(tmp_path):
    _write_celeba_parts(tmp_path, [0, 1, 28000])
    spec = datasets.get_spec("celebamask_hq")
    train = datasets.discover(spec, str(tmp_path), "train")
    assert [e.name for e in train] == ["0", "1"] and len(datasets.discover(spec, str(tmp_path), "val")) == 1
    label = celebamask_hq.combine_part_masks(train[1].label_parts)
    assert label[0, 0] == 0 and label[5, 5] == 1 and label[9, 9] == 18  # cloth (18) over nose (2)
    assert celebamask_hq.combine_part_masks(train[0].label_parts)[9, 9] == 2
    ds = datasets.build_dataset(spec, str(tmp_path), "train", 2, training=False, height=H, width=H)
    batch = next(iter(ds))
    np.testing.assert_array_equal(batch["label"].numpy()[1], label)
    out = tmp_path / "combined"
    proc = subprocess.run([sys.executable, "-m", "datasets.celebamask_hq", "--combine", "--data_dir",
                           str(tmp_path), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.array(Image.open(out / "train_label" / "1.png")), label)
    assert sorted(p.name for p in (out / "test_img").iterdir()) == ["28000.jpg"]
    assert len(datasets.discover(spec, str(out), "val")) == 1


def test_get_spec_overrides_and_errors():
    assert datasets.list_datasets() == ["cityscapes", "ade20k", "coco_stuff", "deepfashion", "celebamask_hq",
                                        "facades", "custom", "synthetic", "dayton", "dayton_g2a", "cvusa", "sva"]
    spec = datasets.get_spec("cityscapes", crop_size=256)
    assert spec.output_size(True) == (128, 256) and spec.num_upsampling_layers == "more"
    assert datasets.get_spec("facades").class_names[0] == "unused" and facades.SPEC.label_nc == 13
    assert datasets.get_spec("custom", label_nc=20).palette_array().shape == (20, 3)
    with pytest.raises(datasets.DatasetError, match="unknown dataset 'kitti'"):
        datasets.get_spec("kitti")
    with pytest.raises(datasets.DatasetError, match="preprocess_mode"):
        datasets.get_spec("ade20k", preprocess_mode="zoom")
    with pytest.raises(datasets.DatasetError, match="unknown field"):
        datasets.get_spec("ade20k", labelnc=3)
