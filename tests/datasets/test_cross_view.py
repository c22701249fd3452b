"""Cross-view six-panel datasets on the real Dayton / SVA samples and a JPEG fixture: panel split, class masks,
nearest label resize, deterministic test crop, JPEG label noise, g2a swap, bad-input checks and the inspect CLI."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from datasets import build_dataset, get_spec, validate
from datasets.cross_view import CLASS_VALUES, label_to_class, label_to_class_np
from datasets.errors import DatasetError


def lay_out(src, root, limit=None):
    """Symlink <src>/{train,test}/* into <root>/{train,test}/ (the LGGAN layout)."""
    for split in ("train", "test"):
        (root / split).mkdir(parents=True)
        for f in sorted((src / split).iterdir())[:limit]:
            os.symlink(f, root / split / f.name)
    return root


@pytest.fixture(scope="module")
def dayton_root(shared_data, tmp_path_factory):
    return lay_out(shared_data / "dayton_samples", tmp_path_factory.mktemp("dayton"))


@pytest.fixture(scope="module")
def sva_root(shared_data, tmp_path_factory):
    return lay_out(shared_data / "sva_samples", tmp_path_factory.mktemp("sva"))


def panels(path):
    array = np.asarray(Image.open(path).convert("RGB"))
    w = array.shape[1] // 6
    return [array[:, i * w:(i + 1) * w] for i in range(6)]


def first_batch(spec, root, split, batch, training=False, **kw):
    return {k: v.numpy() for k, v in next(iter(build_dataset(spec, str(root), split, batch, training, **kw))).items()}


def to_unit(panel):
    """uint8 -> [-1, 1] in float32 arithmetic, as the pipeline."""
    return np.asarray(panel, np.float32) / np.float32(127.5) - np.float32(1.0)


def one_hot_np(classes):
    return (classes[..., None] == np.arange(6)).astype(np.float32)


@pytest.mark.parametrize("name, direction", [("dayton", (0, 1, 3, 5)), ("dayton_g2a", (1, 0, 2, 4))])
def test_panel_split_and_masks_match_numpy(dayton_root, name, direction):
    """At load = crop (no resize, no crop) every tensor is exactly its panel; g2a swaps the views."""
    spec = get_spec(name, load_size=256, test_load_size=256)
    batch = first_batch(spec, dayton_root, "test", 3)
    i_in, i_target, i_sem, i_label = direction
    for b, raw in enumerate(batch["name"]):
        p = panels(next((dayton_root / "test").glob(raw.decode() + ".*")))
        np.testing.assert_array_equal(batch["input_image"][b], to_unit(p[i_in]))
        np.testing.assert_array_equal(batch["image"][b], to_unit(p[i_target]))
        np.testing.assert_array_equal(batch["semantic"][b], to_unit(p[i_sem]))
        np.testing.assert_array_equal(batch["masks"][b], one_hot_np(label_to_class_np(p[i_label][..., 0])))
    assert batch["masks"].shape == (3, 256, 256, 6) and batch["masks"].sum() > 0


@pytest.mark.parametrize("root_name", ["dayton_root", "sva_root"])
def test_label_resize_is_nearest_and_test_crop_is_centred(request, root_name):
    """286 -> centre 256: masks stay one-hot (no in-between class values at borders); classes come only from the
    native panel; two passes are identical; the target image is bicubic-286 cropped at offset 15."""
    root = request.getfixturevalue(root_name)
    spec = get_spec("dayton" if root_name == "dayton_root" else "sva")
    a = first_batch(spec, root, "test", 4)
    b = first_batch(spec, root, "test", 4)
    for key in ("input_image", "image", "semantic", "masks"):
        np.testing.assert_array_equal(a[key], b[key])
    for i, raw in enumerate(a["name"]):
        p = panels(next((root / "test").glob(raw.decode() + ".*")))
        native = label_to_class_np(p[5][..., 0])
        assert set(np.flatnonzero(a["masks"][i].sum((0, 1)))) <= set(np.unique(native[native >= 0]))
        void_native, void_out = np.mean(native < 0), np.mean(a["masks"][i].sum(-1) == 0)
        assert abs(void_native - void_out) < 0.02  # bicubic label resizing would add void border pixels
        big = tf.image.resize(tf.constant(p[1], tf.float32)[None], (286, 286), "bicubic", antialias=True)
        expected = to_unit(np.round(np.clip(big.numpy()[0], 0, 255))[15:271, 15:271])
        np.testing.assert_allclose(a["image"][i], expected, atol=1e-6)
    assert set(np.unique(a["masks"].sum(-1))) <= {0.0, 1.0}
    if root_name == "dayton_root":  # Dayton ground labels have no void: every pixel in exactly one class
        assert np.all(a["masks"].sum(-1) == 1.0)


def test_training_crop_is_random_seeded_and_64_setting(dayton_root):
    spec = get_spec("dayton")
    a = first_batch(spec, dayton_root, "train", 2, training=True, seed=1, height=64, width=64, deterministic=True)
    b = first_batch(spec, dayton_root, "train", 2, training=True, seed=1, height=64, width=64, deterministic=True)
    c = first_batch(spec, dayton_root, "train", 2, training=True, seed=2, height=64, width=64, deterministic=True)
    assert a["image"].shape == (2, 64, 64, 3) and a["masks"].shape == (2, 64, 64, 6)
    np.testing.assert_array_equal(a["image"], b["image"])
    assert not np.array_equal(a["image"], c["image"])
    assert spec.no_flip and spec.output_size(True, 64, 64) == (64, 64)


def test_label_values_within_tolerance_or_void():
    near = np.array([6, 10, 14, 16, 24, 26, 34, 36, 44, 46, 54, 56, 64], np.uint8)
    np.testing.assert_array_equal(label_to_class_np(near), [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    far = np.array([0, 3, 5, 15, 25, 35, 45, 55, 65, 128, 255], np.uint8)
    np.testing.assert_array_equal(label_to_class_np(far), -1)
    values = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(label_to_class(tf.constant(values)).numpy(), label_to_class_np(values))


def test_jpeg_label_noise_lands_in_the_right_class(tmp_path):
    """A JPEG six-panel file (as CVUSA): 5-px label stripes 10..60 plus far values 0 and 128 (off the 8x8 JPEG grid,
    so the edges ring); noisy values within 4 of their class keep it, the far values stay void."""
    h = 64
    stripe_values = np.array(list(CLASS_VALUES) + [0, 128], np.uint8)  # 0 (void) and 128 (no class)
    label = np.tile(stripe_values[(np.arange(h) // 5) % len(stripe_values)], (h, 1))
    rng = np.random.default_rng(0)
    rgb = [rng.integers(0, 256, (h, h, 3), dtype=np.uint8) for _ in range(4)]
    grey = np.repeat(label[..., None], 3, -1)
    (tmp_path / "train").mkdir()
    Image.fromarray(np.concatenate(rgb + [grey, grey], 1)).save(tmp_path / "train" / "0000001.jpg", quality=90)
    raw = tf.io.decode_jpeg(tf.io.read_file(str(tmp_path / "train" / "0000001.jpg")), channels=3).numpy()
    decoded = raw[:, 5 * h:, 0].astype(int)  # TF's decoder, as the pipeline (PIL's differs by a value or two)
    spec = get_spec("cvusa", crop_size=h, load_size=h, test_load_size=h)
    got = first_batch(spec, tmp_path, "train", 1)["masks"][0]
    truth = label_to_class_np(label)
    error = np.abs(decoded - label)
    noisy = (truth >= 0) & (error > 0) & (error <= 4)
    assert noisy.sum() > 50, "the fixture should carry JPEG noise on class pixels"
    rows, cols = np.nonzero(noisy)
    assert np.all(got[rows, cols, truth[noisy]] == 1.0)
    far = (truth < 0) & (error <= 4)
    assert far.sum() > 500 and np.all(got[far].sum(-1) == 0.0)
    assert np.mean(got.argmax(-1)[truth >= 0] == truth[truth >= 0]) > 0.97


def write_panel_file(path, width=1536, height=256, coloured_label=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.full((height, width, 3), 100, np.uint8)  # grey, but no class value
    if coloured_label:
        array[:, -width // 6:] = [200, 10, 90]
    Image.fromarray(array).save(path)


def test_bad_input_names_the_file_and_fix(tmp_path):
    spec = get_spec("dayton")
    with pytest.raises(DatasetError, match="missing directory .*train"):
        validate(spec, str(tmp_path), "train")
    write_panel_file(tmp_path / "train" / "wide.png", width=1000)
    with pytest.raises(DatasetError, match=r"wide.png: image is 1000x256, expected six panels"):
        validate(spec, str(tmp_path), "train")
    os.remove(tmp_path / "train" / "wide.png")
    write_panel_file(tmp_path / "train" / "colour.png", coloured_label=True)
    with pytest.raises(DatasetError, match=r"colour.png: panel 6 \(target label L\) is not grey"):
        validate(spec, str(tmp_path), "train")
    # g2a reads the label of panel 5 (grey here): fine, but it holds no class value
    with pytest.raises(DatasetError, match="holds no class value"):
        validate(get_spec("dayton_g2a"), str(tmp_path), "train")


def test_split_file_filters_and_unknown_names_fail(dayton_root, tmp_path):
    root = lay_out(dayton_root, tmp_path / "d")
    names = sorted(p.stem for p in (root / "train").iterdir())
    (root / "dayton_train.txt").write_text(f"{names[3]}.png\n{names[1]}.png\n")
    assert [e.name for e in validate(get_spec("dayton"), str(root), "train")] == [names[1], names[3]]
    (root / "dayton_train.txt").write_text("nope.png\n")
    with pytest.raises(DatasetError, match="dayton_train.txt lists 1 name"):
        validate(get_spec("dayton"), str(root), "train")


def test_inspect_cli_summary(sva_root, capsys):
    from datasets.report import main

    assert main(["--dataset", "sva", "--data_dir", str(sva_root), "--split", "train"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["task"], summary["panel_size"], summary["num_examples"]) == ("cross_view", [256, 256], 11)
    assert set(summary["classes_present"]) <= set(range(6)) and summary["semantic_nc"] == 3
    assert main(["--dataset", "sva", "--data_dir", str(sva_root / "missing")]) == 2
    assert "missing" in capsys.readouterr().err
