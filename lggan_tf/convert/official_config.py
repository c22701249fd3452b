"""The training config of a converted official checkpoint: the dataset's official flagfile (flags/<dataset>.cfg),
the requested sizes, then OFFICIAL_OVERRIDES, so the converted run computes what the official model computes."""

from __future__ import annotations

import dataclasses
import os

from lggan_tf.train_config import TrainConfig

CONVERTED_MODELS = ("lggan", "gaugan", "lggan_cv")
# Dataset -> its official training flagfile in flags/ (Dayton a2g / g2a have their own names).
FLAGFILES = {"dayton": "dayton_a2g.cfg", "dayton_g2a": "dayton_g2a.cfg"}

# What a converted run must set so that it computes what the official model computes (TrainConfig fields; they
# reach the models through resolve_run, the path train.py takes). Keys this TrainConfig does not have are skipped
# (converted_config), so the dict can name the paper-or-official options of newer code.
#   upsampler: the official models use nearest (SPADE decoder) and ConvTranspose2d (LGGAN G_l, G_w, cross-view):
#     'nearest' builds exactly those for synthesis, 'convtranspose' for cross-view (our defaults: LGGAN++ SAU).
#   mask_class_images: the official class images U_i are tanh(conv) everywhere, not only inside M_i
#     (docs/fidelity.md row 4); our default masks them.
#   weight_map_head / class_pooling / d_judges: the official G_w is a bare 1x1 conv, the classifier pools over the
#     whole image, and D judges I_C, I_G and I_L (where the paper's text differs, our defaults follow the paper).
#   ablation / cross_view_classifier: the full official model; the official cross-view code has no classifier.
_LGGAN_OFFICIAL = {"ablation": "", "mask_class_images": False, "weight_map_head": "official",
                   "class_pooling": "official", "d_judges": "all"}
OFFICIAL_OVERRIDES = {
    "lggan": {"task": "synthesis", "model": "lggan", "upsampler": "nearest", **_LGGAN_OFFICIAL},
    "gaugan": {"task": "synthesis", "model": "gaugan", "upsampler": "nearest", "ablation": ""},
    "lggan_cv": {"task": "cross_view", "model": "lggan", "upsampler": "convtranspose", **_LGGAN_OFFICIAL,
                 "cross_view_classifier": False, "lambda_feat": 0.0},
}


class ConversionError(ValueError):
    """A conversion that cannot go ahead (bad arguments, a checkpoint that does not fit); one line."""


def _parse_value(field: dataclasses.Field, text: str):
    kind = type(field.default)
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"expected true/false, got {text!r}")
        return text.lower() in ("true", "1")
    return kind(text)


def config_from_flagfile(path: str) -> dict:
    """TrainConfig fields set by a train.py flagfile (`--name=value` lines, `#` comments, `--no_ttur`)."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    values = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, text = line[2:].partition("=") if line.startswith("--") else ("", "", "")
            if name == "no_ttur":
                name, text = "ttur", str(text.lower() not in ("true", "1", ""))
            if name not in fields:
                raise ConversionError(f"{path}:{number}: unknown flag line {line!r}")
            try:
                values[name] = _parse_value(fields[name], text)
            except ValueError as err:
                raise ConversionError(f"{path}:{number}: {line!r}: {err}") from err
    return values


def base_config(dataset: str, model: str, flags_dir: str | None = None) -> TrainConfig:
    """The official training config of `dataset` (flags_dir/<dataset>.cfg when it exists), else the paper's sizes
    (ngf = ndf = 64, SPADE hidden 128, the dataset's own image size)."""
    path = os.path.join(flags_dir, FLAGFILES.get(dataset, f"{dataset}.cfg")) if flags_dir else None
    if path and os.path.isfile(path):
        values = {**config_from_flagfile(path), "dataset": dataset}
        return TrainConfig.cross_view(**values) if model == "lggan_cv" else TrainConfig(**values)
    sizes = dict(dataset=dataset, ngf=64, ndf=64, height=0, width=0, crop_size=0, num_examples=0)
    return TrainConfig.cross_view(**sizes) if model == "lggan_cv" else TrainConfig(spade_hidden=128, **sizes)


def converted_config(model: str, base: TrainConfig, use_vae: bool = False, **changes) -> TrainConfig:
    """`base` with `changes` (sizes, data_dir) and OFFICIAL_OVERRIDES[model] (+ the VAE when an encoder is
    converted). Keys a TrainConfig does not have are left out, so the dict can name options of newer code."""
    from datasets import get_spec

    if model not in CONVERTED_MODELS:
        raise ConversionError(f"--model={model!r}: expected one of {CONVERTED_MODELS}")
    task = get_spec(base.dataset).task
    if (model == "lggan_cv") != (task == "cross_view"):
        raise ConversionError(f"--model={model} does not fit the {task} dataset --dataset={base.dataset}; "
                              "cross-view datasets (dayton, dayton_g2a, cvusa, sva) take --model=lggan_cv, "
                              "synthesis datasets gaugan or lggan")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    overrides = {k: v for k, v in OFFICIAL_OVERRIDES[model].items() if k in known}
    if model == "gaugan":
        overrides["use_vae"] = bool(use_vae)
    if "crop_size" in changes and "height" not in changes:
        changes.update(height=0, width=0)
    try:
        return base.replace(**changes, **overrides)
    except ValueError as err:
        raise ConversionError(str(err)) from err


def model_name(config: TrainConfig) -> str:
    """The converter's --model of a config: lggan_cv for cross-view, else config.model."""
    return "lggan_cv" if config.task == "cross_view" else config.model
