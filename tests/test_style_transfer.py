"""Mean style codes and per-region style transfer on the shared tiny SEAN+SAU run (tests/conftest.py sean_runs)."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lggan_tf import mean_style_codes, style_transfer


@pytest.fixture(scope="module")
def sean_inputs(sean_runs, tmp_path_factory):
    """Two synthetic val scenes as files: label_0/1.png (class ids), image_1.png, plus the saved mean codes."""
    import datasets

    root = tmp_path_factory.mktemp("style_inputs")
    batch = next(iter(datasets.build_dataset(datasets.get_spec("synthetic"), None, "val", 2, training=False,
                                             height=64, width=64)))
    labels = batch["label"].numpy().astype(np.uint8)
    images = ((batch["image"].numpy() + 1) * 127.5).round().astype(np.uint8)
    paths = {}
    for i in range(2):
        paths[f"label_{i}"] = str(root / f"label_{i}.png")
        Image.fromarray(labels[i]).save(paths[f"label_{i}"])
        paths[f"image_{i}"] = str(root / f"image_{i}.png")
        Image.fromarray(images[i]).save(paths[f"image_{i}"])
    run_dir = str(sean_runs["straight"])
    assert mean_style_codes.main(["--model_dir", run_dir, "--split", "val", "--num_samples", "4"]) == 0
    return {"run": run_dir, "root": root, "labels": labels, **paths}


def test_mean_codes_average_each_class_over_the_images_that_have_it(sean_inputs):
    """Independent check: Zencoder code maps averaged with NumPy masks per (image, class), then per class."""
    import datasets
    from lggan_tf.inference import load_run

    run = load_run(sean_inputs["run"])
    saved = np.load(f"{sean_inputs['run']}/mean_style_codes.npz")
    batch = next(iter(datasets.build_dataset(run.plan.spec, None, "val", 4, training=False, num_examples=4,
                                             height=64, width=64)))
    maps = run.generator.zencoder.code_map(batch["image"]).numpy()  # [4, 32, 32, D]
    small = batch["semantic"].numpy()[:, ::2, ::2, :]  # PyTorch-nearest 64 -> 32
    s = small.shape[-1]
    per_image = [[maps[b][small[b, ..., c] > 0].mean(0) for b in range(4) if small[b, ..., c].any()] for c in range(s)]
    want = np.stack([np.mean(v, 0) if v else np.zeros(maps.shape[-1]) for v in per_image])
    np.testing.assert_allclose(saved["codes"], want, atol=1e-5)
    assert list(saved["counts"]) == [len(v) for v in per_image]


def test_style_transfer_takes_the_chosen_regions_from_the_style_image(sean_inputs, tmp_path):
    common = ["--model_dir", sean_inputs["run"], "--label", sean_inputs["label_0"], "--style_image",
              sean_inputs["image_1"], "--style_label", sean_inputs["label_1"]]
    shared = sorted(set(np.unique(sean_inputs["labels"][0])) & set(np.unique(sean_inputs["labels"][1])))
    outs = {}
    for tag, extra in (("all", []), ("one", ["--regions", str(shared[-1])]), ("again", [])):
        outs[tag] = tmp_path / f"{tag}.png"
        assert style_transfer.main(common + extra + ["--out", str(outs[tag])]) == 0
    images = {k: np.asarray(Image.open(v)) for k, v in outs.items()}
    assert images["all"].shape == (64, 64, 3) and images["all"].dtype == np.uint8
    np.testing.assert_array_equal(images["all"], images["again"])  # seeded noise: reproducible
    assert not np.array_equal(images["all"], images["one"])  # the other classes fell back to the mean codes


def test_mix_codes_falls_back_to_the_mean_for_missing_and_unchosen_regions():
    style, mean = np.full((4, 2), 1.0), np.full((4, 2), -1.0)
    codes, take = style_transfer.mix_codes(style, np.array([True, True, False, True]), mean, [1, 2])
    np.testing.assert_array_equal(codes[:, 0], [-1, 1, -1, -1])
    np.testing.assert_array_equal(take, [False, True, False, False])


@pytest.mark.parametrize("case", ["size", "unknown_class", "regions", "missing_run"])
def test_bad_input_is_one_clear_line_and_writes_nothing(sean_inputs, tmp_path, capsys, case):
    out = tmp_path / "o.png"
    args = ["--model_dir", sean_inputs["run"], "--label", sean_inputs["label_0"], "--style_image",
            sean_inputs["image_1"], "--style_label", sean_inputs["label_1"], "--out", str(out)]
    if case == "size":
        small = tmp_path / "small.png"
        Image.open(sean_inputs["image_1"]).resize((32, 32)).save(small)
        args[5], expect = str(small), "--style_image"
    elif case == "unknown_class":
        bad = sean_inputs["labels"][1].copy()
        bad[:4, :4] = 200
        Image.fromarray(bad).save(tmp_path / "bad.png")
        args[7], expect = str(tmp_path / "bad.png"), "--style_label"
    elif case == "regions":
        args += ["--regions", "3,99"]
        expect = "--regions"
    else:
        args[1], expect = str(tmp_path / "missing_run"), "--model_dir"
    assert style_transfer.main(args) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and expect in err[0], err
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))
