"""Pieces of tools/make_{drn,deeplabv2,upernet}_fixture.py beyond tools/fixture_io.py (run by hand with the torch
venv, never in CI): export the reference files of a fetched mirror at a commit, NCHW -> NHWC."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np


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


def nhwc(t) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().transpose(0, 2, 3, 1)).astype(np.float32)
