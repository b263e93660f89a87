"""Shared test fixtures: where the official material lives (``../shared``), skipping when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MOCK_REMD_SHARED_DIR", ROOT.parent / "shared"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"official material not found at {path} (set MOCK_REMD_SHARED_DIR to the shared/ folder)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _need(SHARED)


@pytest.fixture(scope="session")
def packs_dir() -> Path:
    return _need(SHARED / "packs")


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return _need(SHARED / "examples")


@pytest.fixture(scope="session")
def nsi_export_dir() -> Path:
    return _need(SHARED / "data" / "nsi")


@pytest.fixture(scope="session")
def valid_119_bytes(examples_dir: Path) -> bytes:
    return (examples_dir / "consultation-119-valid.xml").read_bytes()
