"""Fixtures of the dashboard tests (helpers are in tests/helpers.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.errors import write_errors_project
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
def fresh_clone(finished: Path) -> Path:
    """The finished project as `git clone` gives it, with no DVC cache: no training log
    (metrics/train/ is a DVC output), the committed reports (reports/history/ among them) only."""
    shutil.rmtree(finished / "metrics/train")
    return finished


@pytest.fixture
def finished_seeds(finished: Path) -> Path:
    """The finished project trained and evaluated with 5 seeds (42-46), as `write_seeds` writes it."""
    write_seeds(finished, SEEDS)
    return finished


@pytest.fixture(scope="session")
def experiments_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git + DVC repository with a baseline commit and three saved experiments (no training);
    read it only: tests that change it use `experiments_copy`."""
    from bench.experiment_repo import make_repo

    return make_repo(tmp_path_factory.mktemp("experiments") / "repo")


@pytest.fixture
def experiments_copy(experiments_repo: Path, tmp_path: Path) -> Path:
    """A writable copy of `experiments_repo` (git refs, DVC's folder and all)."""
    copy = tmp_path / "repo"
    shutil.copytree(experiments_repo, copy, symlinks=True)
    return copy


@pytest.fixture
def errors_project(finished: Path) -> Path:
    """The finished project with a small test set and both models' predictions on it."""
    write_errors_project(finished)
    return finished
