"""Shared fixtures: real DVC pipelines in throw-away git repositories.

Every pipeline test runs the real `dvc` in a temporary copy of the project. All
copies share one DVC cache per test session, so the download stage runs once and
later copies get it from DVC's run-cache instead of re-verifying MNIST each time.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import BIN, new_project, run


@pytest.fixture(scope="session")
def mnist_mirror() -> Path:
    """The local MNIST mirror named by MNIST_MIRROR; tests that need real data skip without it."""
    mirror = os.environ.get("MNIST_MIRROR")
    if not mirror or not Path(mirror).is_dir():
        pytest.skip("needs the real MNIST files: set MNIST_MIRROR to a folder holding them")
    return Path(mirror)


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
