"""tui.report: every line the dashboard and `python -m tui --once` say about the project."""

from __future__ import annotations

import json
import os

from mnist_dvc.backprop.engine import trace
from tests.helpers import FIXTURES
from tui import report
from tui.data import Dashboard, DataSource
from tui.repro import ReproRun

EXPRESSION = "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
INPUTS = {"x1": 0.7, "w1": -1.5, "x2": 0.34, "w2": -0.35, "x3": 0.2, "w3": -0.25, "x4": -0.9, "w4": 0.2}


def finished_data() -> Dashboard:
    source = DataSource(FIXTURES / "finished")
    source.poll()
    return source.snapshot


def test_a_panel_title_and_its_metric_rows() -> None:
    run = finished_data().run("model_b")
    assert report.run_title(run) == "model_b  784→256→512→128→10"
    rows = {row.label: row for row in report.metric_rows(run)}
    assert list(rows) == ["train accuracy", "test accuracy", "train loss", "test loss"]
    assert (rows["test accuracy"].latest, rows["test accuracy"].best, rows["test accuracy"].note) == (
        "98.15%", "98.37%", "at epoch 8")
    assert rows["test loss"].note == "", "only the best test accuracy says when it was reached"


def test_backprop_check_lines() -> None:
    backprop = json.loads((FIXTURES / "finished/metrics/backprop.json").read_text())
    lines = report.check_lines(backprop)
    assert [(line.mark, line.text) for line in lines] == [
        ("✓", "finite differences: max |Δ| 2.1e-10 ≤ 1e-06"),
        ("✓", "TensorFlow: max |Δ| 5.96e-08 ≤ 1e-06"),
    ]
    failed = {"check": {"tensorflow": {"ok": False, "max_abs_diff": 0.25, "tolerance": 1e-9},
                        "finite_difference": {"ok": "yes"}, "something_else": "not an object"}}
    assert [(line.mark, line.text) for line in report.check_lines(failed)] == [
        ("✗", "TensorFlow: max |Δ| 0.25 > 1e-09"),
        ("✗", "finite differences"),
    ]
    assert report.check_lines({}) == []


def test_the_check_note_says_when_the_inputs_were_edited() -> None:
    backprop = {"inputs": dict(INPUTS)}
    assert report.check_note(backprop, INPUTS) == "(checked by `dvc repro backprop` at its inputs)"
    assert report.check_note(backprop, None) == "(checked by `dvc repro backprop` at its inputs)"
    assert report.check_note(backprop, {**INPUTS, "w1": 2.0}) == (
        "(checked by `dvc repro backprop` at its inputs, not at your edited ones)"
    )


def test_walkthrough_lines_follow_the_step() -> None:
    run = trace(EXPRESSION, INPUTS)
    assert report.step_heading(run, -1) == "step 0/21 · inputs only"
    assert report.step_heading(run, 0) == "step 1/21 · forward pass · node p"
    x1 = next(i for i, s in enumerate(run.steps) if s.kind == "backward" and s.node == "x1")
    assert report.step_heading(run, x1) == f"step {x1 + 1}/21 · backward pass · edge p → x1"
    assert report.inputs_line(run) == (
        "f = (x1*w1 + x2*w2) * (x3*w3 + x4*w4)   with x1 = 0.7, w1 = −1.5, x2 = 0.34, w2 = −0.35, "
        "x3 = 0.2, w3 = −0.25, x4 = −0.9, w4 = 0.2"
    )
    lines = report.step_lines(run)
    assert len(lines) == 21 and lines[0] == "  1  p = x1 · w1 = 0.7 · (−1.5) = −1.05"
    assert report.gradient_texts(run, x1 - 1)["x1"] == "∂ ·"
    assert report.gradient_texts(run, x1)["x1"] == "∂ 0.345"
    assert report.gradient_texts(run, -1) == dict.fromkeys(INPUTS, "∂ ·")


def test_the_repro_line() -> None:
    run = ReproRun(pid=4242, command=("/venv/bin/dvc", "repro", "hold"),
                   started_at="2025-01-01T12:00:00+00:00", returncode=None)
    started = run.started
    assert report.repro_line(run, running=True) == f"dvc repro hold: running (pid 4242, started {started})"
    ended = ReproRun(pid=os.getpid(), command=("/venv/bin/dvc", "repro"), started_at=run.started_at,
                     returncode=1)
    assert report.repro_line(ended, running=False) == f"dvc repro: failed (exit 1) (started {started})"
