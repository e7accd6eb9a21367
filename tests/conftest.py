"""Shared fixtures: real DVC pipelines in throw-away git repositories.

Every pipeline test runs the real `dvc` in a temporary copy of the project. All
copies share one DVC cache per test session, so the download stage runs once and
later copies get it from DVC's run-cache instead of re-verifying MNIST each time.

Tests on the real MNIST files take them from MNIST_MIRROR (no public host is
reachable here). On a user's machine they skip without it, and the skip's reason
is printed (`-rs` in pyproject.toml); in CI (`CI=true`) a run that selected such
tests stops before the first one, in one line, since a green run that skipped
them would not have tested training at all.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import BIN, new_project, run

MIRROR_ENV = "MNIST_MIRROR"
MIRROR_HINT = f"set {MIRROR_ENV} to a folder holding the four MNIST .gz files"


def mirror_problem() -> str | None:
    """Why the real MNIST files cannot be used, or None when MNIST_MIRROR names a folder."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return f"{MIRROR_ENV} is not set"
    if not Path(mirror).is_dir():
        return f"{MIRROR_ENV}={mirror} is not a folder"
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In CI, stop before running anything when selected tests need a mirror that is not there."""
    problem = mirror_problem()
    if not problem or not in_ci():
        return
    needing = [item for item in items if "mnist_mirror" in getattr(item, "fixturenames", ())]
    if needing:
        raise pytest.UsageError(f"CI=true but {problem}: {len(needing)} selected tests need the real "
                                f"MNIST files and would be skipped; {MIRROR_HINT}")


@pytest.fixture(scope="session")
def mnist_mirror() -> Path:
    """The local MNIST mirror named by MNIST_MIRROR; tests that need real data skip without it."""
    problem = mirror_problem()
    if problem:
        pytest.skip(f"needs the real MNIST files: {problem}; {MIRROR_HINT}")
    return Path(os.environ[MIRROR_ENV])


@pytest.fixture(scope="session")
def shared_dvc_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dvc-cache")


@pytest.fixture
def make_repo(tmp_path: Path, shared_dvc_cache: Path) -> Callable[..., Path]:
    """Factory: a fresh git+DVC copy of the project, with optional params overrides, committed."""

    def make(overrides: dict[str, Any] | None = None, name: str = "repo") -> Path:
        return new_project(tmp_path / name, shared_dvc_cache, overrides)

    return make


@pytest.fixture
def dvc() -> Callable[..., subprocess.CompletedProcess]:
    """Run the real dvc CLI in a repo: dvc(repo, "repro", check=False)."""

    def call(repo: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        return run([str(BIN / "dvc"), *args], repo, check=check, **env)

    return call
