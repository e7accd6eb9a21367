"""Fixtures of the dashboard tests (helpers are in tests/helpers.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.errors import write_errors_project
from tests.helpers import FIXTURES


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    """A writable copy of the project after both models trained and were evaluated."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "finished", root)
    return root


@pytest.fixture
def errors_project(finished: Path) -> Path:
    """The finished project with a small test set and both models' predictions on it."""
    write_errors_project(finished)
    return finished
