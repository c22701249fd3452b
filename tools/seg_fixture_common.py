"""Shared pieces of tools/make_{drn,deeplabv2,upernet}_fixture.py (run by hand with the torch venv, never in CI).

Each script builds the full-size reference network from the fetched reference repository (files exported from the
`fetch` mirror at a recorded commit), fills it with `seeded_state_dict(layout, seed)` in the checkpoint's key order,
runs fixed inputs and writes tests/metrics/fixtures/<net>.npz (+ .json: seed, layout, repo, commit, versions).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "metrics", "fixtures")


def load_seeded():
    """lggan_tf/metrics/nets/seeded.py by path (NumPy only; the package __init__ would import TensorFlow)."""
    path = os.path.join(REPO, "lggan_tf", "metrics", "nets", "seeded.py")
    spec = importlib.util.spec_from_file_location("seeded", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.seeded_state_dict


def export_reference(mirror: str, commit: str, paths) -> str:
    """Write `paths` of the mirror's commit into a temp dir (added to sys.path) and return the dir."""
    out = tempfile.mkdtemp(prefix="ref-")
    for path in paths:
        dst = os.path.join(out, path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(subprocess.check_output(["git", "--git-dir", mirror, "show", f"{commit}:{path}"]))
    sys.path.insert(0, out)
    return out


def torch_layout(module) -> list:
    """[(key, shape, dtype)] of a module's state_dict in its order."""
    return [(k, list(v.shape), str(v.dtype).replace("torch.", "")) for k, v in module.state_dict().items()]


def fill_seeded(module, seed: int, prefix: str = "") -> list:
    """Load seeded weights (drawn in the state_dict's key order) into `module`; returns the layout."""
    import torch

    layout = [(prefix + k, s, d) for k, s, d in torch_layout(module)]
    state = load_seeded()(layout, seed)
    module.load_state_dict({k[len(prefix):]: torch.from_numpy(v) for k, v in state.items()})
    return layout


def nhwc(t) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().transpose(0, 2, 3, 1)).astype(np.float32)


def write_fixture(name: str, arrays: dict, meta: dict) -> None:
    import torch

    os.makedirs(FIXTURES, exist_ok=True)
    np.savez_compressed(os.path.join(FIXTURES, f"{name}.npz"), **arrays)
    meta = {**meta, "torch": torch.__version__, "numpy": np.__version__,
            "arrays": {k: list(np.shape(v)) for k, v in arrays.items()}}
    with open(os.path.join(FIXTURES, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    size = os.path.getsize(os.path.join(FIXTURES, f"{name}.npz"))
    print(f"wrote {name}.npz ({size / 1e6:.2f} MB) and {name}.json")
