"""`python -m lggan_tf.metrics.convert`: a seeded FID Inception written as a real .pth goes through the torch-free
reader, the converter and the saved directory into evaluate.py's fid / kid; wrong and truncated files exit 2 and
write nothing."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from lggan_tf.metrics import convert
from lggan_tf.metrics.extractors import make_fid_extractor
from lggan_tf.metrics.nets import inception_fid
from lggan_tf.metrics.nets.seeded import seeded_state_dict
from tests.metrics.nets_fixture import load_fixture, relative_error, write_pth

FIXTURE, META = load_fixture("inception_fid")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """(checkpoint .pth of the fixture's seeded weights, wrapped with DataParallel keys; converted directory)."""
    root = tmp_path_factory.mktemp("convert")
    state = seeded_state_dict(META["layout"], int(FIXTURE["seed"]))
    pth = root / "pt_inception.pth"
    write_pth(pth, {f"module.{k}": v for k, v in state.items()}, wrap="state_dict")
    assert convert.main(["inception_fid", "--pytorch_checkpoint", str(pth), "--out", str(root / "inception")]) == 0
    return pth, root / "inception"


def test_converted_directory_reproduces_pytorch_fid_features(converted):
    pth, out = converted
    meta = json.loads((out / "network.json").read_text())
    assert meta["name"] == "inception_fid" and meta["sources"][0]["file"] == "pt_inception.pth"
    assert len(meta["sources"][0]["sha256"]) == 64 and sorted(os.listdir(out)) == ["network.json",
                                                                                   "weights.weights.h5"]
    extractor = make_fid_extractor(str(out))
    assert extractor.suffix == "" and extractor.name == f"inception_fid-{meta['sources'][0]['sha256'][:10]}"
    assert relative_error(extractor(FIXTURE["images"][:2]), FIXTURE["pool3"][:2]) <= 1e-4


@pytest.mark.cost(10)
def test_evaluate_reports_fid_and_kid_only_with_the_converted_network(converted, tmp_path, capsys):
    import evaluate

    for side, seed in (("real", 0), ("fake", 1)):
        (tmp_path / side).mkdir()
        for i, image in enumerate(np.random.default_rng(seed).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)):
            Image.fromarray(image).save(tmp_path / side / f"{i}.png")
    argv = ["evaluate.py", f"--real_dir={tmp_path / 'real'}", f"--fake_dir={tmp_path / 'fake'}",
            f"--out_dir={tmp_path / 'out'}", "--metrics=fid,kid", "--kid_subsets=2"]
    assert evaluate.run(argv + [f"--inception_weights={converted[1]}"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["metric"] for r in records] == ["fid", "kid"] and records[0]["results"]["fid"] > 0
    assert records[0]["results"]["extractor"].startswith("inception_fid-")


def _run(args, capsys):
    code = convert.main(args)
    return code, capsys.readouterr().err.strip()


def test_another_networks_file_exits_2_naming_the_keys_and_writes_nothing(tmp_path, capsys):
    pth = tmp_path / "alexnet_places365.pth.tar"
    write_pth(pth, {"features.0.weight": np.zeros((64, 3, 11, 11), np.float32),
                    "classifier.6.weight": np.zeros((365, 4096), np.float32)}, wrap="state_dict")
    code, err = _run(["inception_fid", "--pytorch_checkpoint", str(pth), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and err.count("\n") == 0
    assert "not a inception_fid checkpoint: missing keys Conv2d_1a_3x3.conv.weight" in err
    assert "unexpected keys features.0.weight, classifier.6.weight" in err and "(+468 more; 472 in all)" in err
    assert not (tmp_path / "out").exists() and sorted(os.listdir(tmp_path)) == ["alexnet_places365.pth.tar"]


def test_truncated_file_exits_2_and_writes_nothing(converted, tmp_path, capsys):
    data = converted[0].read_bytes()
    cut = tmp_path / "pt_inception.pth"
    cut.write_bytes(data[: len(data) // 2])
    code, err = _run(["inception_fid", "--pytorch_checkpoint", str(cut), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and str(cut) in err and "truncated" in err and err.count("\n") == 0
    assert sorted(os.listdir(tmp_path)) == ["pt_inception.pth"]


def test_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        convert.main(["resnet50", "--pytorch_checkpoint", "x", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "invalid choice: 'resnet50'" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    code, err = _run(["inception_fid", "--pytorch_checkpoint", str(tmp_path / "busy" / "notes.txt"),
                      "--out", str(tmp_path / "busy")], capsys)
    assert code == 2 and "not a converted-network directory" in err
    assert inception_fid.NAME in convert.NETWORKS


@pytest.mark.parametrize("cfg", ["eval_cityscapes.cfg", "eval_ade20k.cfg", "eval_coco_stuff.cfg", "eval_cross_view.cfg"])
def test_protocol_flagfiles_select_the_converted_fid_network(cfg):
    """The paper's protocols report `fid` (pytorch-fid's Inception), the cross-view one its Places365 classifier."""
    with open(os.path.join(os.path.dirname(convert.__file__), "..", "..", "flags", cfg), encoding="utf-8") as f:
        flags = dict(line.strip()[2:].split("=", 1) for line in f if line.startswith("--"))
    assert flags["inception_weights"] == "weights/inception_fid" and "fid" in flags["metrics"].split(",")
    if cfg == "eval_cross_view.cfg":
        assert flags["classifier"] == "weights/alexnet_places365" and flags["lpips_weights"] == "weights/lpips_alex"
