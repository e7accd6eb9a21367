"""A run without the MNIST mirror: skipped with its reason on a user's machine, a one-line failure in CI.

Each check runs the real thing in a subprocess (pytest on a test that needs the mirror,
or `.ci/run` copied into an empty folder) with the environment it would meet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

NEEDS_MIRROR = "tests/unit/test_download.py::test_the_canonical_digests_are_those_of_the_real_files"
NEEDS_NOTHING = "tests/unit/test_comparison.py::test_mcnemar_is_symmetric_in_the_two_models"


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without the mirror, CI flags or pytest options from outside."""
    env = {k: v for k, v in os.environ.items() if k not in {"MNIST_MIRROR", "CI", "PYTEST_ADDOPTS"}}
    return {**env, **extra}


def pytest_run(node: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
        cwd=ROOT, env=environment(**env), capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("mirror", [None, "/no/such/mirror"], ids=["unset", "not a folder"])
def test_in_ci_a_missing_mirror_fails_the_run_in_one_line(mirror: str | None) -> None:
    proc = pytest_run(NEEDS_MIRROR, CI="true", **({"MNIST_MIRROR": mirror} if mirror else {}))
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    problem = "MNIST_MIRROR is not set" if mirror is None else f"MNIST_MIRROR={mirror} is not a folder"
    assert proc.stderr.strip().splitlines() == [
        f"ERROR: CI=true but {problem}: 1 selected tests need the real MNIST files and would be skipped; "
        "set MNIST_MIRROR to a folder holding the four MNIST .gz files"
    ]
    assert "passed" not in proc.stdout and "skipped" not in proc.stdout


def test_on_a_users_machine_the_skip_says_why() -> None:
    proc = pytest_run(NEEDS_MIRROR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout
    assert ("needs the real MNIST files: MNIST_MIRROR is not set; "
            "set MNIST_MIRROR to a folder holding the four MNIST .gz files") in proc.stdout


def test_in_ci_tests_that_need_no_mirror_still_run() -> None:
    proc = pytest_run(NEEDS_NOTHING, CI="true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


@pytest.mark.parametrize("mirror", [None, "/no/such/mirror"], ids=["unset", "not a folder"])
def test_ci_script_stops_in_one_line_before_anything_else(tmp_path: Path, mirror: str | None) -> None:
    """`.ci/run` in a clone with no mirror beside it: one line, exit 2, no venv set up, no test run."""
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci/run", clone / ".ci/run")
    proc = subprocess.run([str(clone / ".ci/run")], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=environment(**({"MNIST_MIRROR": mirror} if mirror else {})))
    assert proc.returncode == 2
    assert proc.stdout == ""
    why = ("MNIST_MIRROR is not set and there is no ../shared/datasets/mnist" if mirror is None
           else f"MNIST_MIRROR={mirror} is not a folder")
    assert proc.stderr.splitlines() == [
        f"error: CI needs the real MNIST files: {why}; "
        "set MNIST_MIRROR to a folder holding the four .gz files"
    ]
    assert sorted(p.name for p in clone.iterdir()) == [".ci"]
