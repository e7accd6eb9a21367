"""Fixtures of the dashboard tests (helpers are in tests/helpers.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import FIXTURES


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    """A writable copy of the project after both models trained and were evaluated."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "finished", root)
    return root
