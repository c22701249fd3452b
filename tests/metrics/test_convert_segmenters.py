"""The convert CLI on bad checkpoints for the segmenters: another network's file and a truncated file each give one
line naming the problem, exit 2, and no output directory."""

import os
import re

import numpy as np
import pytest

from lggan_tf.metrics import convert
from tests.metrics.nets_fixture import write_pth


def _run(capsys, *argv):
    code = convert.main(list(argv))
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("name,foreign,expected_missing", [
    ("drn_d_105", {"Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3)}, r"base\.0\.0\.weight"),
    ("deeplabv2_coco", {"base.0.0.weight": (16, 3, 7, 7), "seg.weight": (19, 512, 1, 1)},
     r"base\.layer1\.conv1\.conv\.weight"),
    ("upernet_101", {"base.layer1.conv1.conv.weight": (64, 3, 7, 7)}, r"encoder\.conv1\.weight"),
])
def test_another_networks_file_exits_2_and_writes_nothing(tmp_path, capsys, name, foreign, expected_missing):
    ckpt, out = tmp_path / "other.pth", tmp_path / "out"
    write_pth(ckpt, {k: np.zeros(s, np.float32) for k, s in foreign.items()})
    code, err = _run(capsys, name, "--pytorch_checkpoint", str(ckpt), "--out", str(out))
    assert code == 2
    assert len(err.splitlines()) == 1 and f"not a {name} checkpoint" in err
    assert re.search(f"missing keys {expected_missing}", err) and "unexpected keys" in err
    assert not out.exists() and os.listdir(tmp_path) == ["other.pth"]


def test_truncated_file_exits_2_and_writes_nothing(tmp_path, capsys):
    ckpt, out = tmp_path / "drn.pth", tmp_path / "out"
    write_pth(ckpt, {"seg.weight": np.ones((19, 512, 1, 1), np.float32), "seg.bias": np.zeros(19, np.float32)})
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])
    code, err = _run(capsys, "drn_d_105", "--pytorch_checkpoint", str(ckpt), "--out", str(out))
    assert code == 2 and len(err.splitlines()) == 1 and "drn.pth" in err
    assert not out.exists()


@pytest.mark.parametrize("cfg,name", [("eval_cityscapes.cfg", "drn_d_105"), ("eval_ade20k.cfg", "upernet_101"),
                                      ("eval_coco_stuff.cfg", "deeplabv2_coco")])
def test_eval_flagfiles_select_the_converted_segmenter(cfg, name):
    """The protocol flagfile points at weights/<name> and its overrides agree with the network's own fields."""
    from lggan_tf.metrics.nets import network

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "flags", cfg), encoding="utf-8") as f:
        flags = dict(line.strip()[2:].split("=", 1) for line in f if line.startswith("--"))
    module = network(name)
    assert module.NAME == name and flags["segmenter"] == f"weights/{name}"
    assert int(flags["segmenter_classes"]) == module.SEGMENTER["num_classes"]
    assert flags["segmenter_input_range"] == module.SEGMENTER["input_range"]
    assert flags.get("label_mapping") == module.SEGMENTER["label_map"]
    assert set(flags["metrics"].split(",")) >= {"miou", "pixel_accuracy"}
