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
    """The CLI's image equals the generator run on independently mixed codes: the style image's region codes for
    the chosen classes it has, the saved mean codes for the rest (same --seed, so the same ACE noise)."""
    import datasets
    from lggan_tf.inference import load_run

    run = load_run(sean_inputs["run"])
    g = run.generator
    spec = datasets.get_spec("synthetic")
    labels = sean_inputs["labels"]
    style = np.asarray(Image.open(sean_inputs["image_1"]), np.float32)[None] / 127.5 - 1
    seg = [np.eye(spec.semantic_nc, dtype=np.float32)[labels[i]][None] for i in range(2)]
    own = g.encode_styles(tf.constant(style), tf.constant(seg[1])).numpy()[0]
    mean = np.load(f"{sean_inputs['run']}/mean_style_codes.npz")["codes"]
    present = seg[1][0, ::2, ::2].max((0, 1)) > 0
    shared = sorted(set(np.unique(labels[0])) & set(np.unique(labels[1])))
    common = ["--model_dir", sean_inputs["run"], "--label", sean_inputs["label_0"], "--style_image",
              sean_inputs["image_1"], "--style_label", sean_inputs["label_1"], "--seed", "3"]
    for tag, chosen in (("all", None), ("one", [int(shared[-1])])):
        out = tmp_path / f"{tag}.png"
        extra = [] if chosen is None else ["--regions", str(chosen[0])]
        assert style_transfer.main(common + extra + ["--out", str(out)]) == 0
        take = present.copy() if chosen is None else present & np.isin(np.arange(len(present)), chosen)
        codes = np.where(take[:, None], own, mean)[None]
        g.noise_calls.assign(3)
        want = g(tf.constant(seg[0]), style_codes=codes, training=False)["image"].numpy()[0]
        want = np.clip(np.round((want + 1) * 127.5), 0, 255)
        got = np.asarray(Image.open(out))
        assert got.shape == (64, 64, 3) and np.abs(got - want).max() <= 1


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
