"""`python -m lggan_tf.convert` on bad input (issue 14, item 4): one line naming the file and what would fit, exit 2,
nothing written to --model_dir. Runs the CLI in-process (`run(argv)`, its own flag set); tiny sizes."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lggan_tf.convert.__main__ import run as convert_cli
from tests.convert import torch_format
from tests.convert.conftest import parity_file

CITYSCAPES_SMALL = ["--ngf=4", "--spade_hidden=8", "--ndf=16", "--height=64", "--width=128"]


def _fails(tmp_path, capsys, args) -> str:
    """Run the CLI expecting exit 2; returns the error line after checking nothing was written."""
    model_dir = tmp_path / "out" / "run"
    rc = convert_cli(["lggan_tf.convert", f"--model_dir={model_dir}", *args])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, lines
    assert lines and lines[-1].startswith("error: "), lines
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")  # no run, no temp folder
    return lines[-1]


def test_checkpoint_of_another_dataset_names_keys_and_suggests_the_dataset(tmp_path, capsys):
    line = _fails(tmp_path, capsys, [f"--pytorch_checkpoint={parity_file('lggan_sis_cityscapes_ngf4.pth')}",
                                     "--model=lggan", "--dataset=ade20k", "--ngf=4", "--spade_hidden=8",
                                     "--height=64", "--width=64"])
    # ADE20K needs 52 class sub-generators, the Cityscapes file has 35: deconv5_35..51 (34 keys) are missing.
    assert "lggan_sis_cityscapes_ngf4.pth does not fit the generator of --model=lggan --dataset=ade20k" in line
    assert "34 missing key(s): deconv5_35.bias, deconv5_35.weight, deconv5_36.bias, deconv5_36.weight (and 30 more)" \
        in line
    assert "try --model=lggan --dataset=cityscapes --ngf=4 --spade_hidden=8" in line


def test_checkpoint_of_the_larger_dataset_lists_unexpected_keys(tmp_path, capsys):
    line = _fails(tmp_path, capsys, [f"--pytorch_checkpoint={parity_file('lggan_sis_ade20k_ngf2.pth')}",
                                     "--model=lggan", "--dataset=cityscapes", "--ngf=2", "--spade_hidden=8",
                                     "--height=64", "--width=128"])
    assert "34 unexpected key(s): deconv5_35.bias" in line and "(and 30 more)" in line
    assert "--model=lggan --dataset=ade20k --ngf=2" in line


def test_checkpoint_of_another_model_suggests_the_model(tmp_path, capsys):
    line = _fails(tmp_path, capsys, [f"--pytorch_checkpoint={parity_file('spade_gaugan_cityscapes_ngf4.pth')}",
                                     "--model=lggan", "--dataset=cityscapes", *CITYSCAPES_SMALL])
    assert "missing key(s): conv1.bias, conv1.weight" in line
    assert "official SPADE/GauGAN generator" in line and "try --model=gaugan --dataset=cityscapes --ngf=4" in line


def test_shape_mismatch_names_the_key_and_both_shapes(tmp_path, capsys):
    args = [f"--pytorch_checkpoint={parity_file('lggan_sis_cityscapes_ngf4.pth')}", "--model=lggan",
            "--dataset=cityscapes", *CITYSCAPES_SMALL, "--ngf=8"]
    line = _fails(tmp_path, capsys, args)
    assert "conv1.weight has shape [4, 36, 7, 7] but the model needs [8, 36, 7, 7]" in line
    assert "more shape mismatches" in line and "--ngf=4" in line


def test_truncated_file(tmp_path, capsys):
    data = parity_file("lggan_sis_cityscapes_ngf4.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    line = _fails(tmp_path, capsys, [f"--pytorch_checkpoint={tmp_path / 'cut.pth'}", "--model=lggan",
                                     "--dataset=cityscapes", *CITYSCAPES_SMALL])
    assert "cut.pth" in line and ("truncated" in line or "corrupt" in line)


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_not_a_state_dict_and_a_hostile_global(tmp_path, capsys, fmt):
    torch_format.write(tmp_path / "meta.pth", {"epoch": 3, "lr": 0.1}, {}, fmt)
    line = _fails(tmp_path, capsys, [f"--pytorch_checkpoint={tmp_path / 'meta.pth'}", "--model=lggan",
                                     "--dataset=cityscapes", *CITYSCAPES_SMALL])
    assert "meta.pth" in line and "no dict of tensors" in line
    sentinel = tmp_path / "pwned"
    state = {"conv1.weight": torch_format.Tensor("0", "FloatStorage", 0, (2,), (1,)),
             "evil": torch_format.Call("os", "system", f"touch {sentinel}")}
    torch_format.write(tmp_path / "evil.pth", state, {"0": np.zeros(2, np.float32)}, fmt)
    line = _fails(tmp_path, capsys, [f"--pytorch_checkpoint={tmp_path / 'evil.pth'}", "--model=lggan",
                                     "--dataset=cityscapes", *CITYSCAPES_SMALL])
    assert "evil.pth: refusing pickle global 'os.system'" in line
    assert not sentinel.exists()


def test_flags_and_an_existing_model_dir(tmp_path, capsys):
    pth = f"--pytorch_checkpoint={parity_file('lggan_crossview_ngf8.pth')}"
    assert "--model=lggan does not fit the cross_view dataset --dataset=dayton" in _fails(
        tmp_path, capsys, [pth, "--model=lggan", "--dataset=dayton"])
    assert "--dataset='nowhere'" in _fails(tmp_path, capsys, [pth, "--model=lggan_cv", "--dataset=nowhere"])
    assert "--model_dir is required" in convert_cli_error(capsys, [pth, "--model=lggan_cv", "--dataset=dayton"])
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("x")
    rc = convert_cli(["lggan_tf.convert", pth, "--model=lggan_cv", "--dataset=dayton", f"--model_dir={existing}",
                      "--ngf=8", "--ndf=8", "--height=64", "--width=64"])
    assert rc == 2 and "already exists; choose a new directory or pass --overwrite" in capsys.readouterr().err
    assert os.listdir(existing) == ["keep.txt"]
    rc = convert_cli(["lggan_tf.convert", pth, "--model=lggan_cv", "--dataset=dayton", f"--model_dir={existing}",
                      "--ngf=8", "--ndf=8", "--height=64", "--width=64", "--overwrite"])
    out = capsys.readouterr().out
    assert rc == 0 and "72 keys -> 60 variables, 2 dead keys skipped (deconv5_7)" in out
    assert sorted(os.listdir(existing)) == ["checkpoints", "config.json", "flags.txt", "samples", "tb"]
    assert sorted(os.listdir(tmp_path)) == ["existing"]  # no temp or replaced folder left beside it


def convert_cli_error(capsys, args) -> str:
    assert convert_cli(["lggan_tf.convert", *args]) == 2
    return capsys.readouterr().err
