"""Fixtures of the dashboard tests (helpers are in tests/helpers.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.runs import write_seeds
from tests.helpers import FIXTURES

SEEDS = [42, 43, 44, 45, 46]


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    """A writable copy of the project after both models trained and were evaluated."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "finished", root)
    return root


@pytest.fixture
def finished_seeds(finished: Path) -> Path:
    """The finished project trained and evaluated with 5 seeds (42-46), as `write_seeds` writes it.

    Its training logs are in the per-seed layout; the one-seed log of `finished` stays beside them,
    since the Training tab still reads that layout (the seeds branch moves it)."""
    write_seeds(finished, SEEDS)
    return finished
