"""The built-in synthetic street scenes: determinism, layout, class statistics, image/label coupling, instances."""

import numpy as np
import pytest

from datasets import synthetic as syn

N_VAL = 64


@pytest.fixture(scope="module")
def val_scenes():
    """The first 64 val scenes at 64x64 (about 0.3 s)."""
    return [syn.render_scene(0, "val", i, 64, 64) for i in range(N_VAL)]


def test_class_table_is_consistent():
    assert 10 <= syn.LABEL_NC <= 14 and syn.LABEL_NC == len(set(syn.CLASS_NAMES))
    assert syn.PALETTE.shape == (syn.LABEL_NC, 3) and syn.PALETTE.dtype == np.uint8
    assert len({tuple(c) for c in syn.PALETTE}) == syn.LABEL_NC
    assert syn.PALETTE[syn.CLASS_NAMES.index("road")].tolist() == [128, 64, 128]  # Cityscapes colour
    assert set(syn.LARGE_CLASSES) | set(syn.SMALL_CLASSES) == set(syn.CLASS_NAMES)
    assert set(syn.THING_CLASSES) <= set(syn.SMALL_CLASSES)
    assert set(syn.DEFAULT_SPLIT_SIZES) == {"train", "val"} and min(syn.DEFAULT_SPLIT_SIZES.values()) > 0


@pytest.mark.parametrize("height,width", [(32, 32), (64, 64), (64, 128)])
def test_shapes_dtypes_and_label_range(height, width):
    scene = syn.render_scene(3, "train", 5, height, width)
    assert scene["image"].shape == (height, width, 3) and scene["image"].dtype == np.uint8
    assert scene["label"].shape == (height, width) and scene["label"].dtype == np.uint8
    assert scene["instance"].shape == (height, width) and scene["instance"].dtype == np.int32
    assert scene["label"].max() < syn.LABEL_NC


def test_deterministic_and_seed_index_split_sensitive():
    a = syn.render_scene(1, "train", 7, 64, 64)
    b = syn.render_scene(1, "train", 7, 64, 64)
    for key in ("image", "label", "instance"):
        assert a[key].tobytes() == b[key].tobytes()
    for other in (syn.render_scene(2, "train", 7, 64, 64), syn.render_scene(1, "train", 8, 64, 64),
                  syn.render_scene(1, "val", 7, 64, 64)):
        assert not np.array_equal(a["label"], other["label"])
        assert not np.array_equal(a["image"], other["image"])


def test_train_and_val_streams_differ():
    train = {syn.render_scene(0, "train", i, 32, 32)["label"].tobytes() for i in range(16)}
    val = {syn.render_scene(0, "val", i, 32, 32)["label"].tobytes() for i in range(16)}
    assert not train & val


def test_same_scene_at_two_sizes():
    # Pixel centres of a 64 grid coincide with every third centre of a 192 grid.
    for i in range(4):
        small = syn.render_scene(0, "val", i, 64, 64)["label"]
        large = syn.render_scene(0, "val", i, 192, 192)["label"][1::3, 1::3]
        assert (small == large).mean() > 0.97


def test_every_class_appears(val_scenes):
    present = np.zeros(syn.LABEL_NC, bool)
    for scene in val_scenes:
        present[np.unique(scene["label"])] = True
    missing = [n for n, p in zip(syn.CLASS_NAMES, present) if not p]
    assert not missing, f"classes never drawn in {N_VAL} val scenes: {missing}"


def test_class_frequencies_small_and_large():
    freq = syn.class_frequencies("val", 24, 64, 64)
    assert freq.shape == (syn.LABEL_NC,) and np.isclose(freq.sum(), 1.0)
    by_name = dict(zip(syn.CLASS_NAMES, freq))
    assert all(by_name[n] > 0.05 for n in syn.LARGE_CLASSES), by_name
    assert all(0 < by_name[n] < 0.10 for n in syn.SMALL_CLASSES), by_name


def test_image_is_predictable_from_label(val_scenes):
    image = np.concatenate([s["image"].reshape(-1, 3) for s in val_scenes]).astype(np.float64)
    label = np.concatenate([s["label"].ravel() for s in val_scenes])
    means = np.stack([image[label == c].mean(0) for c in range(syn.LABEL_NC)])
    stds = np.array([image[label == c].std(0).mean() for c in range(syn.LABEL_NC)])
    dist = np.linalg.norm(means[:, None] - means[None], axis=-1) + np.diag(np.full(syn.LABEL_NC, np.inf))
    assert dist.min() > 15, "two classes share a mean colour"
    assert stds.max() < 80
    large = [syn.CLASS_NAMES.index(n) for n in syn.LARGE_CLASSES]
    assert stds[large].max() < 35, "large classes should have a tight colour distribution"
    explained = 1 - ((image - means[label]) ** 2).sum() / ((image - image.mean(0)) ** 2).sum()
    assert explained > 0.5, f"per-class mean colour explains only {explained:.2f} of the image variance"


def test_instances(val_scenes):
    things = {syn.CLASS_NAMES.index(n) for n in syn.THING_CLASSES}
    n_objects = 0
    for scene in val_scenes:
        label, inst = scene["label"], scene["instance"]
        is_thing = np.isin(label, list(things))
        np.testing.assert_array_equal(inst[~is_thing], label[~is_thing])  # stuff: id == class id
        ids = np.unique(inst[is_thing])
        assert (ids >= 1000).all()
        for i in ids:
            classes = np.unique(label[inst == i])
            assert classes.tolist() == [i // 1000], f"instance {i} spans classes {classes}"
        n_objects += len(ids)
    assert n_objects > N_VAL  # most scenes hold several cars / persons


def test_touching_things_are_separated():
    # Somewhere in the val scenes two different thing instances share a pixel edge.
    for i in range(N_VAL):
        inst = syn.render_scene(0, "val", i, 128, 128)["instance"]
        horizontal = (inst[:, 1:] != inst[:, :-1]) & (inst[:, 1:] >= 1000) & (inst[:, :-1] >= 1000)
        vertical = (inst[1:] != inst[:-1]) & (inst[1:] >= 1000) & (inst[:-1] >= 1000)
        if horizontal.any() or vertical.any():
            return
    pytest.fail("no two thing instances ever touch")


def test_colorize():
    label = syn.render_scene(0, "val", 0, 32, 32)["label"]
    colours = syn.colorize(label)
    assert colours.shape == label.shape + (3,)
    np.testing.assert_array_equal(colours[label == 0], np.tile(syn.PALETTE[0], (np.sum(label == 0), 1)))


@pytest.mark.parametrize("kwargs,message", [
    (dict(split="test"), "split must be one of"),
    (dict(height=16), "height must be an integer >= 32"),
    (dict(width=64.0), "width must be an integer >= 32"),
    (dict(index=-1), "index must be a non-negative integer"),
    (dict(seed=0.5), "seed must be an integer"),
])
def test_bad_arguments_are_named(kwargs, message):
    args = dict(seed=0, split="train", index=0, height=64, width=64) | kwargs
    with pytest.raises(ValueError, match=message):
        syn.render_scene(**args)


def test_class_frequencies_rejects_no_scenes():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        syn.class_frequencies("val", 0, 32, 32)
