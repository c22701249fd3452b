"""Datasets for semantic image synthesis and cross-view translation (dayton, dayton_g2a, cvusa, sva): per-dataset specs, native-layout tf.data pipelines, checks.

    spec = get_spec("cityscapes")                      # or get_spec("custom", label_nc=20, image_dir=..., ...)
    validate(spec, data_dir, "train")                  # DatasetError naming the file and the fix
    ds = build_dataset(spec, data_dir, "train", batch_size=8, training=True, seed=0)

Dataset modules are imported on first use (datasets.base.MODULES).
"""

from __future__ import annotations

import dataclasses
import importlib

from datasets.base import MODULES, DatasetSpec, Example, build_dataset, discover
from datasets.checks import validate
from datasets.errors import DatasetError

__all__ = ["DatasetError", "DatasetSpec", "Example", "build_dataset", "discover", "get_spec", "list_datasets",
           "validate"]


def list_datasets() -> list[str]:
    """Registered dataset names."""
    return list(MODULES)


def get_spec(name: str, **overrides) -> DatasetSpec:
    """The dataset's `DatasetSpec`, with fields replaced by `overrides` (e.g. label_nc=20, crop_size=128).

    For "custom", passing `instance_dir` turns `use_instance` on unless it is given explicitly.
    """
    if name not in MODULES:
        raise DatasetError(f"unknown dataset {name!r}: expected one of {list_datasets()}")
    module = importlib.import_module(MODULES[name])
    spec = module.SPECS[name] if hasattr(module, "SPECS") else module.SPEC
    fields = {f.name for f in dataclasses.fields(DatasetSpec)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise DatasetError(f"get_spec({name!r}): unknown field(s) {unknown}; expected some of {sorted(fields)}")
    if overrides.get("instance_dir") and "use_instance" not in overrides:
        overrides["use_instance"] = True
    if "label_nc" in overrides and spec.class_names and overrides["label_nc"] != spec.label_nc:
        overrides.setdefault("class_names", ())
        overrides.setdefault("palette", ())
    return dataclasses.replace(spec, **overrides)
