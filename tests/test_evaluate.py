"""evaluate.py end to end on the shared tiny run (in-process): model mode, folder mode, report, errors."""

import json

import numpy as np
import pytest
from PIL import Image

import evaluate


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def evaluated(tiny_run_dir, tiny_segmenter, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_out")
    rc = evaluate.run(["evaluate.py", f"--model_dir={tiny_run_dir}", f"--out_dir={out}", "--num_samples=4",
                       "--batch_size=2", "--metrics=fid,miou,pixel_accuracy,ssim,psnr", "--inception_weights=tiny",
                       f"--segmenter={tiny_segmenter}", "--report", "--report_images=2"])
    assert rc == 0
    return out


def test_model_mode_writes_one_json_line_per_metric(evaluated):
    for name in ("fid_uncalibrated", "miou", "pixel_accuracy", "ssim", "psnr"):
        (record,) = lines(evaluated / f"metric-{name}.jsonl")
        assert record["metric"] == name and record["dataset"] == "synthetic" and record["split"] == "val"
        assert record["num_samples"] == 4 and record["checkpoint"] == "checkpoints/ckpt-2" and record["seed"] == 0
        assert record["seconds"] >= 0 and name in record["results"]
    assert not (evaluated / "metric-fid.jsonl").exists()  # the tiny extractor is never reported as fid
    assert lines(evaluated / "metric-fid_uncalibrated.jsonl")[0]["results"]["fid_uncalibrated"] >= 0
    miou = lines(evaluated / "metric-miou.jsonl")[0]["results"]
    assert 0 <= miou["miou"] <= 100 and "road" in miou["per_class_iou"]
    assert 0 <= lines(evaluated / "metric-ssim.jsonl")[0]["results"]["ssim"] <= 1
    split = evaluated / "eval" / "val-2"
    assert sorted(p.name for p in (split / "fake").iterdir()) == sorted(p.name for p in (split / "real").iterdir())
    assert len(list((split / "label").iterdir())) == 4
    assert len(list((evaluated / "eval" / "fid_stats").glob("synthetic-val-tiny-*.npz"))) == 1


def test_report_has_grid_and_per_class_iou(evaluated):
    split = evaluated / "eval" / "val-2"
    page = (split / "report.html").read_text()
    assert "grid.png" in page and "Per-class IoU" in page and "sidewalk" in page and "fid_uncalibrated" in page
    grid = np.asarray(Image.open(split / "grid.png"))
    assert grid.shape[0] == 2 * (64 + 2) + 2 and grid.shape[1] == 6 * (64 + 2) + 2  # 2 rows x 6 columns


def test_folder_mode_scores_two_directories_with_selectiongan_protocol(evaluated, tmp_path, capsys):
    split = evaluated / "eval" / "val-2"
    rc = evaluate.run(["evaluate.py", f"--real_dir={split / 'real'}", f"--fake_dir={split / 'fake'}",
                       f"--out_dir={tmp_path}", "--metrics=psnr,sharpness_difference,ssim", "--protocol=selectiongan"])
    assert rc == 0
    psnr = lines(tmp_path / "metric-psnr.jsonl")[0]
    standard = lines(evaluated / "metric-psnr.jsonl")[0]["results"]["psnr"]
    assert psnr["results"]["protocol"] == "selectiongan" and psnr["num_samples"] == 4
    assert psnr["results"]["psnr"] == pytest.approx(standard + 20 * np.log10(255 / 128), rel=1e-6)
    assert (tmp_path / "metric-sharpness_difference.jsonl").exists()
    assert '"metric": "ssim"' in capsys.readouterr().out


def test_missing_inputs_give_clear_errors_and_exit_2(evaluated, tmp_path, capsys):
    split = evaluated / "eval" / "val-2"
    fake = tmp_path / "fake"
    fake.mkdir()
    for name in ("val_0_0", "extra_image"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(fake / f"{name}.png")
    cases = [
        ([f"--real_dir={split / 'real'}", f"--fake_dir={fake}"], "unpaired images"),
        ([f"--real_dir={split / 'real'}", f"--fake_dir={tmp_path / 'nope'}"], "--fake_dir"),
        ([f"--real_dir={split / 'real'}", f"--fake_dir={split / 'fake'}", "--metrics=fid,bogus"], "valid metrics"),
        ([f"--real_dir={split / 'real'}", f"--fake_dir={split / 'fake'}", "--metrics=fid",
          f"--inception_weights={tmp_path / 'missing.h5'}"], "--inception_weights"),
        ([f"--real_dir={split / 'real'}", f"--fake_dir={split / 'fake'}", "--metrics=miou"], "--label_dir"),
        ([f"--real_dir={split / 'real'}", f"--fake_dir={split / 'fake'}", "--metrics=kl"], "--classifier"),
        ([f"--real_dir={split / 'real'}", f"--fake_dir={split / 'fake'}", "--metrics=lpips"], "--lpips_weights"),
        ([f"--model_dir={tmp_path}"], "config.json"),
        ([], "either --model_dir"),
    ]
    for args, message in cases:
        assert evaluate.run(["evaluate.py", f"--out_dir={tmp_path / 'out'}", *args]) == 2, args
        assert message in capsys.readouterr().err, args


def test_empty_split_names_the_empty_directory(tmp_path):
    from datasets import DatasetError, get_spec
    from lggan_tf.metrics.generate import generate_split

    (tmp_path / "img").mkdir()
    (tmp_path / "lab").mkdir()
    spec = get_spec("custom", label_nc=3, image_dir=str(tmp_path / "img"), label_dir=str(tmp_path / "lab"))
    with pytest.raises(DatasetError, match="empty directory .*img"):
        generate_split(lambda s, training=False: {"image": s[..., :3]}, spec, "val", str(tmp_path / "out"), None, 2)


def test_saved_model_without_export_is_a_clear_error(tmp_path, capsys):
    assert evaluate.run(["evaluate.py", f"--saved_model={tmp_path}", "--dataset=synthetic", "--metrics=psnr"]) == 2
    assert "saved_model.pb" in capsys.readouterr().err


def test_saved_model_mode_matches_model_mode(evaluated, exported, tmp_path):
    rc = evaluate.run(["evaluate.py", f"--saved_model={exported[0]}", "--dataset=synthetic", "--height=64",
                       "--width=64", "--num_samples=4", "--batch_size=2", "--metrics=psnr", f"--out_dir={tmp_path}"])
    assert rc == 0
    record = lines(tmp_path / "metric-psnr.jsonl")[0]
    assert record["num_samples"] == 4 and record["dataset"] == "synthetic"
    reference = lines(evaluated / "metric-psnr.jsonl")[0]["results"]["psnr"]
    assert record["results"]["psnr"] == pytest.approx(reference, abs=0.05)
