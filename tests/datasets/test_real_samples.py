"""Pipelines on the real samples laid out natively: counts, label ranges, one-hot and edge maps against NumPy."""

import numpy as np
import pytest
from PIL import Image

import datasets
from datasets.checks import validate


def numpy_edges(inst):
    """SPADE get_edges in NumPy: both pixels of every 4-neighbour id change."""
    e = np.zeros(inst.shape, bool)
    d = inst[:, 1:] != inst[:, :-1]
    e[:, 1:] |= d
    e[:, :-1] |= d
    d = inst[1:] != inst[:-1]
    e[1:] |= d
    e[:-1] |= d
    return e


def test_cityscapes_fixed_pipeline_matches_numpy(cityscapes_root):
    spec = datasets.get_spec("cityscapes")
    assert len(validate(spec, str(cityscapes_root), "train")) == 4
    ds = datasets.build_dataset(spec, str(cityscapes_root), "train", 2, training=False, height=64, width=128)
    gt = cityscapes_root / "gtFine" / "train" / "aachen"
    names = []
    for batch in ds:
        assert batch["semantic"].shape[1:] == (64, 128, 36)
        for i, name in enumerate(batch["name"].numpy()):
            name = name.decode()
            names.append(name)
            label = np.array(Image.open(gt / f"{name}_gtFine_labelIds.png").resize((128, 64), Image.NEAREST))
            inst = np.array(Image.open(gt / f"{name}_gtFine_instanceIds.png").resize((128, 64), Image.NEAREST))
            image = Image.open(cityscapes_root / "leftImg8bit" / "train" / "aachen" / f"{name}_leftImg8bit.png")
            image = np.array(image.resize((128, 64), Image.BICUBIC), np.float32) / 127.5 - 1
            semantic = batch["semantic"].numpy()[i]
            np.testing.assert_array_equal(batch["label"].numpy()[i], label)
            np.testing.assert_array_equal(semantic[..., :35], np.eye(35, dtype=np.float32)[label])
            np.testing.assert_array_equal(semantic[..., 35], numpy_edges(inst.astype(np.int64)))
            assert semantic[..., 35].mean() > 0.01  # the instance map really has boundaries
            assert np.abs(batch["image"].numpy()[i] - image).max() <= 8 / 127.5  # antialiased bicubic vs PIL
    assert names == [f"aachen_{i:06d}_000019" for i in range(4)]


def test_cityscapes_default_size_and_training_batches(cityscapes_root):
    spec = datasets.get_spec("cityscapes")
    ds = datasets.build_dataset(spec, str(cityscapes_root), "train", 2, training=True, seed=0)
    batch = next(iter(ds))
    assert batch["label"].shape == (2, 256, 512) and batch["image"].shape == (2, 256, 512, 3)
    assert ds.element_spec["semantic"].shape == (2, 256, 512, 36)  # static, drop_remainder
    image = batch["image"].numpy()
    assert -1.0 <= image.min() < 0 < image.max() <= 1.0


def test_coco_stuff_counts_dontcare_and_edges(coco_root):
    spec = datasets.get_spec("coco_stuff")
    assert spec.semantic_nc == 184
    assert len(datasets.discover(spec, str(coco_root), "train")) == 13
    val = datasets.discover(spec, str(coco_root), "val")
    assert len(val) == 8
    ds = datasets.build_dataset(spec, str(coco_root), "val", 4, training=False, height=64, width=64)
    labels, unlabeled = [], 0
    for batch in ds:
        label = batch["label"].numpy()
        labels.append(label)
        semantic = batch["semantic"].numpy()
        np.testing.assert_array_equal(semantic[..., :183].argmax(-1), label)
        np.testing.assert_array_equal(semantic[..., :183].sum(-1), 1.0)
        assert set(np.unique(semantic[..., 183])) <= {0.0, 1.0}
    for ex in val:
        raw = np.array(Image.open(ex.label).resize((64, 64), Image.NEAREST))
        unlabeled += int((raw == 255).sum())
    labels = np.concatenate(labels)
    assert labels.min() >= 0 and labels.max() == 182  # 255 -> dontcare index 182
    assert int((labels == 182).sum()) == unlabeled > 0


def test_celebamask_combined_layout_counts_and_range(celeba_root):
    spec = datasets.get_spec("celebamask_hq")
    assert len(validate(spec, str(celeba_root), "train", check_all=True)) == 4  # 1024 image vs 512 label is fine
    ds = datasets.build_dataset(spec, str(celeba_root), "train", 4, training=False, height=64, width=64)
    batch = next(iter(ds))
    label = batch["label"].numpy()
    assert batch["semantic"].shape == (4, 64, 64, 19)
    assert label.min() == 0 and 12 <= label.max() <= 18
    expected = np.array(Image.open(celeba_root / "train_label" / "0.png").resize((64, 64), Image.NEAREST))
    np.testing.assert_array_equal(label[0], expected)


@pytest.mark.parametrize("split", ["val"])
def test_cityscapes_missing_split_is_named(cityscapes_root, split):
    with pytest.raises(datasets.DatasetError, match=r"leftImg8bit/val"):
        datasets.build_dataset(datasets.get_spec("cityscapes"), str(cityscapes_root), split, 1, training=False)
