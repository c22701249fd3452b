"""Convert the official parity fixtures (../shared/parity) into run directories through the converter's library
entry point (what `python -m lggan_tf.convert` calls) and read back what the official code computed."""

from __future__ import annotations

import json

import numpy as np

from lggan_tf.convert.official_config import base_config, converted_config
from lggan_tf.convert.run_writer import convert_checkpoints
from tests.conftest import REPO
from tests.convert.conftest import parity_file

# fixture name -> (--model, --dataset, sizes as the CLI flags give them)
FIXTURES = {
    "lggan_sis_cityscapes_ngf4": ("lggan", "cityscapes", dict(ngf=4, spade_hidden=8, ndf=16, height=64, width=128)),
    "lggan_sis_ade20k_ngf2": ("lggan", "ade20k", dict(ngf=2, spade_hidden=8, ndf=16, height=64, width=64)),
    "spade_gaugan_cityscapes_ngf4": ("gaugan", "cityscapes", dict(ngf=4, spade_hidden=8, ndf=16, height=64,
                                                                   width=128)),
    "lggan_crossview_ngf8": ("lggan_cv", "dayton", dict(ngf=8, ndf=8, height=64, width=64)),
}


def fixture_arrays(name: str) -> dict:
    """The fixture's non-state arrays (input, outputs, intermediates) as {name: np.ndarray}."""
    with np.load(parity_file(f"{name}.npz")) as z:
        return {k: z[k] for k in z.files if not k.startswith("state/")}


def fixture_json(name: str) -> dict:
    return json.loads(parity_file(f"{name}.json").read_text())


def convert_fixture(name: str, model_dir, discriminator=None, discriminator2=None, generator_file=None) -> dict:
    """Convert fixture `name` (its .pth, or `generator_file`) into model_dir as the CLI would; returns the result."""
    model, dataset, sizes = FIXTURES[name]
    config = converted_config(model, base_config(dataset, model, str(REPO / "flags")), **sizes)
    generator = generator_file or parity_file(f"{name}.pth")
    return convert_checkpoints(model, config, str(model_dir), str(generator),
                               discriminator and str(parity_file(f"{discriminator}.pth")),
                               discriminator2 and str(parity_file(f"{discriminator2}.pth")))


def nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def max_abs(ours, official) -> float:
    ours, official = np.asarray(ours), np.asarray(official)
    assert ours.shape == official.shape, (ours.shape, official.shape)
    return float(np.max(np.abs(ours.astype(np.float64) - official)))


def generator_differences(outputs: dict, expected: dict) -> dict:
    """max |ours - official| per generator output; ours NHWC dict, official NCHW arrays (official layouts:
    class_images [B,N,3,H,W], class_logits [N*B, K] class-major)."""
    diffs = {}
    for key in ("image", "image_global", "image_local", "weight_map"):
        if key in expected:
            diffs[key] = max_abs(outputs[key], nhwc(expected[key]))
    if "class_images" in expected:
        diffs["class_images"] = max_abs(np.asarray(outputs["class_images"]).transpose(0, 3, 4, 1, 2),
                                        expected["class_images"])
    if "class_logits" in expected:
        logits = np.asarray(outputs["class_logits"])
        b, k, _ = logits.shape
        diffs["class_logits"] = max_abs(logits.transpose(1, 0, 2).reshape(k * b, k), expected["class_logits"])
    return diffs


def cross_view_masks(mask) -> np.ndarray:
    """The official cross-view class masks: (mask[:, 0] == 10 i) for i = 1..6 -> [B, H, W, 6]."""
    return np.stack([(mask[:, 0] == 10 * i).astype(np.float32) for i in range(1, 7)], -1)
