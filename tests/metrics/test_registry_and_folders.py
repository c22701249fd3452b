"""Metric registry + JSON lines, folder pairing, LPIPS (uncalibrated) and the scene-classifier metrics in context."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from lggan_tf.metrics import compute_metric, list_metrics, report_metric
from lggan_tf.metrics.definitions import EvalContext, EvalOptions
from lggan_tf.metrics.image_folders import pair_folders
from lggan_tf.metrics.lpips import LPIPS
from lggan_tf.metrics.registry import validate_metrics


def write_set(folder, n, seed, ext=".png", size=(16, 16)):
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"img{i}{ext}")


def test_registry_lists_every_paper_metric_and_validates_names():
    assert {"fid", "kid", "miou", "pixel_accuracy", "inception_score", "accuracy", "kl", "ssim", "psnr",
            "sharpness_difference", "lpips"} <= set(list_metrics())
    assert validate_metrics("psnr, ssim,psnr") == ["psnr", "ssim"]
    with pytest.raises(ValueError, match="valid metrics: accuracy, fid"):
        validate_metrics(["fid", "is"])


def test_report_metric_appends_json_lines(tmp_path, capsys):
    ctx = EvalContext(pair_folders(*_sets(tmp_path)), EvalOptions(batch_size=2))
    for _ in range(2):
        report_metric(compute_metric("psnr", ctx), str(tmp_path), dataset="folder", split="val", num_samples=3,
                      checkpoint=None, seed=0)
    records = [json.loads(line) for line in (tmp_path / "metric-psnr.jsonl").read_text().splitlines()]
    assert len(records) == 2 and records[0]["results"]["psnr"] == records[1]["results"]["psnr"]
    assert set(records[0]) >= {"metric", "results", "dataset", "split", "num_samples", "checkpoint", "seed",
                               "seconds"}
    assert capsys.readouterr().out.count('"metric": "psnr"') == 2


def _sets(tmp_path):
    write_set(tmp_path / "real", 3, 0, ".jpg")
    write_set(tmp_path / "fake", 3, 1)
    return str(tmp_path / "real"), str(tmp_path / "fake")


def test_pairing_by_name_across_extensions_and_listing_unpaired(tmp_path):
    real, fake = _sets(tmp_path)
    pairs = pair_folders(real, fake)
    assert pairs.names == ("img0", "img1", "img2") and pairs.real[0].endswith(".jpg")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "fake" / "orphan.png")
    with pytest.raises(ValueError, match=r"1 missing from --real_dir \(e.g. \['orphan'\]\)"):
        pair_folders(real, fake)


def test_lpips_uncalibrated_is_zero_for_identical_images_and_grows_with_noise():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    noisy = np.clip(x.astype(int) + rng.integers(-40, 41, x.shape), 0, 255).astype(np.uint8)
    lp = LPIPS.uncalibrated()
    assert not lp.calibrated and np.allclose(lp(x, x), 0.0)
    assert (lp(x, noisy) > 0).all() and (lp(x, 255 - x) > lp(x, noisy)).all()
    with pytest.raises(FileNotFoundError, match="network.json"):
        LPIPS.load("/nonexistent")


def test_scene_classifier_metrics_with_a_keras_classifier(tmp_path):
    real, fake = _sets(tmp_path)
    inp = keras.Input((224, 224, 3))
    model = keras.Model(inp, keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(inp)))
    model.save(tmp_path / "clf.keras")
    ctx = EvalContext(pair_folders(real, fake), EvalOptions(classifier=str(tmp_path / "clf.keras"), batch_size=2))
    is_result = compute_metric("inception_score", ctx).results
    assert set(is_result) == {f"{p}is_{t}" for p in ("", "real_") for t in ("all", "top1", "top5")}
    assert 1.0 <= is_result["is_all"] <= 5.0
    acc = compute_metric("accuracy", ctx).results
    assert 0 <= acc["top1_all"] <= acc["top5_all"] == 100.0  # 5 classes: the reference is always in the top 5
    assert compute_metric("kl", ctx).results["kl"] >= 1.0
