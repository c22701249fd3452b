"""A converted official checkpoint is a normal run directory (issue 14, item 6): the real CLI
(`python -m lggan_tf.convert`, here on the legacy-format .pth) writes it, `exports.export_saved_model` exports it
and the SavedModel reproduces the official image, `evaluate.py` scores it, and `train.py --flagfile=<run>/flags.txt`
fine-tunes it (resumes from ckpt-0). Tiny sizes; the Cityscapes samples of ../shared/data stand in for the dataset."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO
from tests.convert.conftest import parity_file
from tests.convert.parity_runs import fixture_arrays, nhwc

FIXTURE = "lggan_sis_cityscapes_ngf4"


def _run(args, timeout=600):
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def _cityscapes_layout(shared_data, root):
    """gtFine/{train,val}/aachen + leftImg8bit/{train,val}/aachen linking the 4 sample triples."""
    src = shared_data / "cityscapes_samples"
    names = sorted(p.name[: -len("_leftImg8bit.png")] for p in (src / "train_img").glob("*_leftImg8bit.png"))
    if not names:
        pytest.skip(f"no Cityscapes sample images in {src}")
    for split in ("train", "val"):
        gt, left = root / "gtFine" / split / "aachen", root / "leftImg8bit" / split / "aachen"
        gt.mkdir(parents=True)
        left.mkdir(parents=True)
        for n in names:
            (left / f"{n}_leftImg8bit.png").symlink_to(src / "train_img" / f"{n}_leftImg8bit.png")
            for kind, folder in (("labelIds", "train_label"), ("instanceIds", "train_inst")):
                (gt / f"{n}_gtFine_{kind}.png").symlink_to(src / folder / f"{n}_gtFine_{kind}.png")
    return root


@pytest.fixture(scope="module")
def converted(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("converted")
    data_dir = _cityscapes_layout(shared_data, root / "cityscapes")
    model_dir = root / "official-lggan-cityscapes"
    out = _run(["-m", "lggan_tf.convert", f"--pytorch_checkpoint={parity_file(FIXTURE + '_legacy.pth')}",
                "--model=lggan", "--dataset=cityscapes", f"--model_dir={model_dir}", f"--data_dir={data_dir}",
                "--ngf=4", "--spade_hidden=8", "--ndf=16", "--height=64", "--width=128"])
    return model_dir, data_dir, out


def test_cli_writes_a_run_that_computes_the_official_outputs(converted):
    """The real CLI on the legacy (torch < 1.6) .pth: summary line, run files, and every output within 1e-4."""
    from lggan_tf.inference import load_run
    from tests.convert.parity_runs import generator_differences

    model_dir, _, out = converted
    assert "364 keys -> 276 variables, 20 dead keys skipped (fc, num_batches_tracked)" in out
    arrays = fixture_arrays(FIXTURE)
    outputs = load_run(str(model_dir)).generator(tf.constant(nhwc(arrays["input"])), training=False)
    diffs = generator_differences({k: v.numpy() for k, v in outputs.items()}, arrays)
    assert len(diffs) == 6 and max(diffs.values()) <= 1e-4, diffs
    record = json.loads((model_dir / "config.json").read_text())
    assert record["config"]["mask_class_images"] is False and record["config"]["upsampler"] == "nearest"
    assert (model_dir / "checkpoints" / "ckpt-0.index").is_file() and (model_dir / "flags.txt").is_file()
    assert not list(model_dir.parent.glob(".*converting*"))


@pytest.mark.cost(20)
def test_export_reproduces_the_official_image(converted, tmp_path):
    model_dir, _, _ = converted
    _run(["-m", "exports.export_saved_model", f"--model_dir={model_dir}", f"--export_dir={tmp_path / 'export'}"])
    (version,) = [p for p in (tmp_path / "export").iterdir() if not p.name.startswith(".")]
    loaded = tf.saved_model.load(str(version))
    arrays = fixture_arrays(FIXTURE)
    image = loaded.signatures["generate_onehot"](onehot=tf.constant(nhwc(arrays["input"])))["image"].numpy()
    official = np.clip(np.round((nhwc(arrays["image"]) + 1.0) * 127.5), 0, 255)
    assert image.dtype == np.uint8 and image.shape == official.shape
    assert np.abs(image.astype(np.int32) - official).max() <= 1  # float difference ~1e-6 may flip one rounding


def test_evaluate_scores_the_converted_run(converted, tmp_path):
    model_dir, _, _ = converted
    out = _run(["evaluate.py", f"--model_dir={model_dir}", f"--out_dir={tmp_path}", "--num_samples=2",
                "--batch_size=2", "--metrics=psnr,ssim"])
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert {line["metric"] for line in lines} == {"psnr", "ssim"}
    assert all(line["checkpoint"].endswith("ckpt-0") and line["num_samples"] == 2 for line in lines)


@pytest.mark.cost(40)
def test_train_fine_tunes_from_the_converted_checkpoint(converted):
    model_dir, _, _ = converted
    _run(["train.py", f"--flagfile={model_dir / 'flags.txt'}", "--train_steps=2", "--batch_size=2",
          "--lambda_vgg=0", "--vgg_weights=none", "--log_every_steps=1", "--save_every_steps=2"])
    from lggan_tf.inference import load_run

    assert tf.train.load_checkpoint(str(model_dir / "checkpoints" / "ckpt-2")).get_tensor(
        "step/.ATTRIBUTES/VARIABLE_VALUE") == 2
    before, after = (load_run(str(model_dir), str(model_dir / "checkpoints" / f"ckpt-{s}")).generator
                     .encoder.conv1.conv.kernel.numpy() for s in (0, 2))
    # Two Adam steps (G lr 1e-4 with TTUR) move each weight by at most ~2e-4: the run resumed from the converted
    # weights (a fresh initialisation would differ by about the weights' own size, 0.02).
    assert 0 < np.abs(after - before).max() < 1e-3 < np.abs(before).max()
