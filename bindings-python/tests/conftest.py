"""Shared fixtures: the repository's sample data and vectors, and a fixed key."""

from __future__ import annotations

from pathlib import Path

import pytest

import phiguard

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = ROOT / "tests" / "data" / "patients.csv"
VECTORS = sorted((ROOT / "tests" / "vectors").glob("*.json"))


@pytest.fixture(scope="session")
def engine() -> phiguard.Engine:
    return phiguard.Engine()


@pytest.fixture(scope="session")
def key() -> phiguard.Key:
    return phiguard.Key.from_bytes(bytes([5] * 32))


@pytest.fixture()
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "phiguard.key"
    phiguard.Key.generate(path)
    return path
