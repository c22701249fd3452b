"""Every bad input is caught before training: `python -m datasets` exit codes and messages naming the file."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import datasets

from .conftest import REPO_ROOT, stripes, write_image, write_label

H, W = 24, 32


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "datasets", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT)
    return proc.returncode, proc.stdout, proc.stderr


def good_pairs(root, n=3, label_values=(0, 1, 2)):
    for i in range(n):
        write_image(root / "train_img" / f"p{i}.jpg", H, W, seed=i)
        write_label(root / "train_label" / f"p{i}.png", stripes(H, W, label_values))
    return root


def summary_args(root, *extra):
    return ("--dataset", "custom", "--label_nc", "3", "--data_dir", str(root), "--split", "train", "--summary",
            *extra)


def assert_one_line_error(code, err, expected_code, *needles):
    assert code == expected_code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_good_dataset_summary(tmp_path):
    code, out, err = run_cli(*summary_args(good_pairs(tmp_path)))
    assert code == 0, err
    summary = json.loads(out)
    assert summary["num_examples"] == 3 and summary["image_size"] == [H, W]
    assert (summary["label_min"], summary["label_max"], summary["classes_present"]) == (0, 2, [0, 1, 2])
    assert summary["label_nc"] == summary["semantic_nc"] == 3
    assert summary["pairs"][0] == {"name": "p0", "image": "train_img/p0.jpg", "label": "train_label/p0.png",
                                   "instance": ""}


def test_missing_directory(tmp_path):
    code, _, err = run_cli(*summary_args(tmp_path / "nowhere"))
    assert_one_line_error(code, err, 2, str(tmp_path / "nowhere"))
    (tmp_path / "train_label").mkdir()
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, "missing directory", str(tmp_path / "train_img"))


def test_empty_directory(tmp_path):
    (tmp_path / "train_img").mkdir()
    (tmp_path / "train_label").mkdir()
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, "empty directory", str(tmp_path / "train_img"))


def test_unpaired_files_are_listed(tmp_path):
    good_pairs(tmp_path)
    write_image(tmp_path / "train_img" / "stray_a.jpg", H, W)
    write_label(tmp_path / "train_label" / "stray_b.png", stripes(H, W, [0]))
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, "2 unpaired", "stray_a.jpg has no label", "stray_b.png has no image")


def test_label_value_out_of_range(tmp_path):
    good_pairs(tmp_path)
    bad = write_label(tmp_path / "train_label" / "p1.png", stripes(H, W, [0, 7]))
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, str(bad), "[7]", "--label_nc 8")
    code, _, err = run_cli(*summary_args(tmp_path, "--label_nc", "8"))
    assert code == 0, err
    write_label(tmp_path / "train_label" / "p2.png", stripes(H, W, [0, 255]))
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, "p2.png", "255 = unlabeled", "contain_dontcare")


def test_colour_label_and_16bit_label(tmp_path):
    good_pairs(tmp_path)
    colour = tmp_path / "train_label" / "p0.png"
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(colour)
    deep = tmp_path / "train_label" / "p1.png"
    Image.fromarray(stripes(H, W, [0, 1]).astype(np.uint16)).save(deep)  # mode I;16
    code, out, err = run_cli(*summary_args(tmp_path, "--check"))
    assert code == 1, err
    problems = json.loads(out)["problems"]
    assert any(str(colour) in p and "RGB channels" in p for p in problems), problems
    assert any(str(deep) in p and "bit depth 16" in p for p in problems), problems
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, str(colour), str(deep))


def test_wrong_image_channels(tmp_path):
    good_pairs(tmp_path)
    rgba = write_image(tmp_path / "train_img" / "p0.png", H, W, mode="RGBA")
    (tmp_path / "train_img" / "p0.jpg").unlink()
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, str(rgba), "4 channel(s)")


def test_corrupt_and_truncated_images(tmp_path):
    good_pairs(tmp_path, n=20)
    truncated = tmp_path / "train_img" / "p3.jpg"
    truncated.write_bytes(truncated.read_bytes()[:200])
    garbage = tmp_path / "train_img" / "p5.jpg"
    garbage.write_bytes(b"not an image at all")
    code, out, err = run_cli(*summary_args(tmp_path, "--check"))
    assert code == 1
    problems = json.loads(out)["problems"]
    assert len(problems) == 2 and "corrupt or truncated" in problems[0]
    assert str(truncated) in problems[0] and str(garbage) in problems[1]
    # without --check only 16 of the 20 are read (evenly spaced indices 0, 1, 3, 4, 5, ...): p3 is among them
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, str(truncated))


def test_image_label_size_mismatch(tmp_path):
    good_pairs(tmp_path)
    write_label(tmp_path / "train_label" / "p2.png", stripes(H + 2, W, [0]))
    code, _, err = run_cli(*summary_args(tmp_path))
    assert_one_line_error(code, err, 2, str(tmp_path / "train_img" / "p2.jpg"), f"{W}x{H}", f"{W}x{H + 2}")


def test_pipeline_stops_on_out_of_range_label_with_the_file_name(tmp_path):
    good_pairs(tmp_path, n=2)
    write_label(tmp_path / "train_label" / "p1.png", stripes(H, W, [0, 9]))
    spec = datasets.get_spec("custom", label_nc=3)
    ds = datasets.build_dataset(spec, str(tmp_path), "train", 1, training=False, height=16, width=16)
    with pytest.raises(tf.errors.InvalidArgumentError, match="p1"):
        list(ds)
