"""Shared by the tools/make_*_fixture.py scripts (run by hand in a throwaway venv with torch; never in CI).

Loads lggan_tf/metrics/nets/seeded.py by path (the venv has no TensorFlow, so the lggan_tf package is not
imported) and writes a fixture: <name>.npz (seed, inputs, outputs, a few intermediates) + <name>.json (reference
repository and commit, torch version, the reference state_dict layout in order).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "metrics", "fixtures")


def _load_seeded():
    path = os.path.join(REPO, "lggan_tf", "metrics", "nets", "seeded.py")
    spec = importlib.util.spec_from_file_location("lggan_seeded", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.seeded_state_dict


seeded_state_dict = _load_seeded()


def torch_layout(module) -> list:
    """[(key, shape, dtype)] of a torch module's state_dict, in order."""
    return [(k, tuple(v.shape), str(v.dtype).replace("torch.", "")) for k, v in module.state_dict().items()]


def load_seeded(module, seed: int, layout=None):
    """Fill `module` with seeded_state_dict(its layout, seed) (strict); returns the layout used."""
    import torch

    layout = layout or torch_layout(module)
    state = seeded_state_dict(layout, seed)
    module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}, strict=True)
    return layout


def git_commit(path: str) -> str:
    """HEAD commit of a git checkout or bare mirror (or 'unknown')."""
    for args in (["git", "-C", path, "rev-parse", "HEAD"], ["git", "--git-dir", path, "rev-parse", "HEAD"]):
        try:
            return subprocess.check_output(args, stderr=subprocess.DEVNULL, text=True).strip()
        except (subprocess.CalledProcessError, FileNotFoundError, NotADirectoryError):
            continue
    return "unknown"


def write_fixture(name: str, arrays: dict, meta: dict) -> None:
    import torch
    import torchvision

    os.makedirs(FIXTURES, exist_ok=True)
    path = os.path.join(FIXTURES, name)
    np.savez_compressed(path + ".npz.tmp.npz", **arrays)
    os.replace(path + ".npz.tmp.npz", path + ".npz")
    meta = {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__, **meta}
    meta["layout"] = [[k, list(s), d] for k, s, d in meta.get("layout", [])]
    with open(path + ".json.tmp", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=0)
    os.replace(path + ".json.tmp", path + ".json")
    size = os.path.getsize(path + ".npz") + os.path.getsize(path + ".json")
    print(f"wrote {path}.npz/.json ({size / 1024:.0f} KiB)")


def smooth_images(rng, n: int, size: int, brightness: float = 0.0) -> np.ndarray:
    """n uint8 [size, size, 3] images: random 8x8 colour fields upsampled (nearest) plus pixel noise."""
    coarse = rng.uniform(0, 255, (n, 8, 8, 3)) + brightness
    img = np.repeat(np.repeat(coarse, size // 8, axis=1), size // 8, axis=2)
    img = img + rng.normal(0, 20, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)
