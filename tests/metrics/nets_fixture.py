"""Loading the reference fixtures written by tools/make_<net>_fixture.py (PyTorch reference runs, no torch here)."""

from __future__ import annotations

import json
import os

import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def load_fixture(name: str) -> tuple[dict, dict]:
    """(arrays, metadata) of tests/metrics/fixtures/<name>.{npz,json}."""
    with np.load(os.path.join(FIXTURES, f"{name}.npz")) as f:
        arrays = {k: f[k] for k in f.files}
    with open(os.path.join(FIXTURES, f"{name}.json"), encoding="utf-8") as f:
        meta = json.load(f)
    meta["layout"] = [(k, tuple(s), d) for k, s, d in meta["layout"]]
    return arrays, meta


def relative_error(ours, ref) -> float:
    """max |ours - ref| / max |ref| (the fixtures' tolerance is 1e-4 of the output's scale)."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


def write_pth(path, state: dict, wrap: str | None = None) -> None:
    """torch.save(state) (zip format) of NumPy arrays, without torch (tests/convert/torch_format.py); `wrap` nests
    it as {wrap: state, 'epoch': 1} like a training checkpoint."""
    import collections

    from tests.convert import torch_format

    obj, storages = collections.OrderedDict(), {}
    for i, (key, value) in enumerate(state.items()):
        value = np.array(value, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        strides = tuple(s // value.itemsize for s in value.strides)
        obj[key] = torch_format.Tensor(str(i), torch_format.STORAGE_TYPES[value.dtype], 0, value.shape, strides)
        storages[str(i)] = value.reshape(-1)
    if wrap:
        obj = {wrap: obj, "epoch": 1}
    torch_format.write_zip(str(path), obj, storages)
