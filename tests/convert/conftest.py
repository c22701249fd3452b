"""Fixtures for the PyTorch-checkpoint tests: the official parity fixtures in ../shared/parity."""

import os
import pathlib

import pytest

from tests.conftest import REPO

SHARED_PARITY = pathlib.Path(os.environ.get("LGGAN_SHARED_PARITY", REPO.parent / "shared" / "parity"))


def parity_file(name: str) -> pathlib.Path:
    """Path of one official fixture file; skips the calling test with the reason when it is absent."""
    path = SHARED_PARITY / name
    if not path.is_file():
        pytest.skip(f"official parity fixture not found at {path} (set LGGAN_SHARED_PARITY to the folder)")
    return path


@pytest.fixture(scope="session")
def shared_parity() -> pathlib.Path:
    """../shared/parity (official PyTorch fixtures, see its README); skips the test when it is absent."""
    if not SHARED_PARITY.is_dir():
        pytest.skip(f"official parity fixtures not found at {SHARED_PARITY} (set LGGAN_SHARED_PARITY to the folder)")
    return SHARED_PARITY
