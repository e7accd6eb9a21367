"""The `backprop` stage as a user runs it: under `dvc repro` in a fresh copy of the project,
failing loudly when its checks disagree or the expression is bad, and `--explain`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ROOT, run

GRADS = {
    "x1": 0.345, "w1": -0.161, "x2": 0.0805, "w2": -0.0782,
    "x3": 0.29225, "w3": -0.2338, "x4": -0.2338, "w4": 1.0521,
}
VALUES = {"p": -1.05, "q": -0.119, "r": -0.05, "s": -0.18, "a": -1.169, "b": -0.23}


def stage(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "stages.backprop", *args], repo, check=False)


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


@pytest.mark.slow
def test_dvc_repro_writes_the_checked_metrics(make_repo: Callable[..., Path], dvc: Callable) -> None:
    repo = make_repo()
    dvc(repo, "repro", "backprop")
    headline = json.loads((repo / "metrics" / "backprop.json").read_text())
    metrics = json.loads((repo / "reports" / "backprop.json").read_text())
    assert set(headline) == {"f", "grads"}, "the DVC metric holds only the headline"
    assert headline == {"f": metrics["f"], "grads": metrics["grads"]}
    assert metrics["expression"] == "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
    assert metrics["inputs"]["w1"] == -1.5
    assert metrics["f"] == pytest.approx(0.26887, abs=1e-12)
    assert metrics["values"] == pytest.approx(VALUES, abs=1e-12)
    assert metrics["grads"] == pytest.approx(GRADS, abs=1e-12)
    for key, tolerance in (("tensorflow", 1e-9), ("finite_difference", 1e-6)):
        check = metrics["check"][key]
        assert check["tolerance"] == tolerance
        assert check["ok"] is True
        assert 0 <= check["max_abs_diff"] <= tolerance
    # The last line is the JSON (a line before it says the other stages' metrics are not there yet).
    (shown,) = json.loads(dvc(repo, "metrics", "show", "--json").stdout.splitlines()[-1]).values()
    assert shown["data"]["metrics/backprop.json"] == {"data": headline}
    assert "up to date" in dvc(repo, "status", "backprop").stdout


def test_stage_fails_when_finite_differences_disagree(make_repo: Callable[..., Path]) -> None:
    # relu has a kink at 0: the engine and TensorFlow both take relu'(0) = 0, while central
    # differences straddle the kink and see 1/2, so the stage must refuse to pass.
    repo = make_repo({"backprop.expression": "relu(x) + x", "backprop.inputs": {"x": 0.0}})
    proc = stage(repo)
    assert proc.returncode == 2
    [line] = error_lines(proc.stdout)
    assert "differs from central finite differences by 0.5 > 1e-06" in line
    assert "reports/backprop.json" in line
    check = json.loads((repo / "reports" / "backprop.json").read_text())["check"]
    assert check["tensorflow"]["ok"] is True
    assert check["finite_difference"]["ok"] is False


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("__import__('os').system('echo pwned')", "attribute access `__import__('os').system`"),
        ("(x1*w1 + x2*w2) * (x3*w3 + x5*w4)", "unknown name `x5`"),
    ],
)
def test_bad_expression_fails_in_one_line_before_any_work(
    make_repo: Callable[..., Path], expression: str, fragment: str
) -> None:
    repo = make_repo({"backprop.expression": expression})
    proc = stage(repo)
    assert proc.returncode == 2
    assert proc.stdout.startswith("error: params.yaml: backprop.expression = ")  # the params loader's check
    assert len(proc.stdout.strip().splitlines()) == 1
    assert fragment in proc.stdout
    assert "pwned\n" not in proc.stdout
    assert not (repo / "metrics" / "backprop.json").exists()
    assert not (repo / "reports" / "backprop.json").exists()


def test_explain_prints_the_walkthrough_without_colour_when_piped(make_repo: Callable[..., Path]) -> None:
    repo = make_repo()
    proc = stage(repo, "--explain")
    assert proc.returncode == 0, proc.stdout
    out = proc.stdout
    assert "\x1b[" not in out
    forward = out.index("   1. p = x1 · w1 = 0.7 · (−1.5) = −1.05")
    backward = out.index("  14. ∂f/∂x1 = ∂f/∂a · ∂a/∂p · ∂p/∂x1 = (−0.23)(1)(−1.5) = 0.345")
    assert out.index("Forward pass") < forward < out.index("Backward pass") < backward
    assert (ROOT / "tests" / "golden" / "backprop_default.txt").read_text() in out
    assert not (repo / "metrics" / "backprop.json").exists()
    assert not (repo / "reports" / "backprop.json").exists()
    coloured = run([sys.executable, "-m", "stages.backprop", "--explain"], repo, FORCE_COLOR="1").stdout
    assert "\x1b[32m" in coloured and "\x1b[31m" in coloured
