"""Shared fixtures: real DVC pipelines in throw-away git repositories.

Every pipeline test runs the real `dvc` in a temporary copy of the project. All
copies share one DVC cache per test session, so the download stage runs once and
later copies get it from DVC's run-cache instead of re-verifying MNIST each time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What a pipeline copy needs from the project; never the data, models or metrics.
PROJECT_FILES = ("dvc.yaml", "params.yaml", ".dvcignore", "mnist_dvc", "stages", "tui", "tools", "bench")

# Small enough that a 2-epoch run of both models takes seconds.
TINY = {
    "data.train_limit": 1024,
    "data.test_limit": 512,
    "train.epochs": 2,
    "train.checkpoint_every": 1,
}


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for subprocesses: the venv first on PATH so DVC's `python` is ours."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        DVC_NO_ANALYTICS="1",
        GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@localhost",
        GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@localhost",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run(cmd: list[str], cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run a command, returning stdout+stderr merged; on failure show them in the assertion."""
    proc = subprocess.run(
        cmd, cwd=cwd, env=tool_env(**env), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}")
    return proc


def set_params(repo: Path, overrides: dict[str, Any]) -> None:
    """Set dotted keys (`train.epochs`) in a copy's params.yaml."""
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for dotted, value in overrides.items():
        node = params
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


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
        repo = tmp_path / name
        repo.mkdir()
        for item in PROJECT_FILES:
            src = ROOT / item
            if src.is_dir():
                shutil.copytree(src, repo / item, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, repo / item)
        shutil.copy2(ROOT / ".gitignore", repo / ".gitignore")
        run(["git", "init", "-q", "-b", "main"], repo)
        run([str(BIN / "dvc"), "init", "-q"], repo)
        run([str(BIN / "dvc"), "config", "cache.dir", str(shared_dvc_cache)], repo)
        if overrides:
            set_params(repo, overrides)
        run(["git", "add", "-A"], repo)
        run(["git", "commit", "-q", "-m", "init"], repo)
        return repo

    return make


@pytest.fixture
def dvc() -> Callable[..., subprocess.CompletedProcess]:
    """Run the real dvc CLI in a repo: dvc(repo, "repro", check=False)."""

    def call(repo: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        return run([str(BIN / "dvc"), *args], repo, check=check, **env)

    return call
