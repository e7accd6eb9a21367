"""tui.report: every line the dashboard and `python -m tui --once` say about the project."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mnist_dvc.backprop.record import trace
from tests.helpers import FIXTURES
from tui import report
from tui.data import Dashboard, DataSource
from tui.report import comparison_rows, duration, standing_sentence, standings, summary
from tui.repro import ReproRun

EXPRESSION = "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
INPUTS = {"x1": 0.7, "w1": -1.5, "x2": 0.34, "w2": -0.35, "x3": 0.2, "w3": -0.25, "x4": -0.9, "w4": 0.2}


def finished_data() -> Dashboard:
    source = DataSource(FIXTURES / "finished")
    source.poll()
    return source.snapshot


def test_comparison_rows_mark_the_better_model() -> None:
    source = DataSource(FIXTURES / "finished")
    source.poll()
    models, rows = comparison_rows(source.snapshot.comparison)
    assert models == ["model_a", "model_b"]
    winners = {row.key: set(row.winners) for row in rows}
    assert winners["best_test_accuracy"] == {"model_b"}
    assert winners["train_time_s"] == {"model_a"}
    assert winners["params"] == {"model_a"}
    assert winners["best_test_epoch"] == set(), "an epoch number is not better or worse"
    cells = {row.key: row.cells for row in rows}
    assert cells["best_test_accuracy"] == {"model_a": "97.84%", "model_b": "98.37%"}
    assert cells["params"] == {"model_a": "67,466", "model_b": "399,498"}


def test_published_results_are_ranked_with_the_models() -> None:
    source = DataSource(FIXTURES / "finished")
    source.poll()
    rows = standings(source.snapshot)
    labels = [row.label.split(" (")[0] for row in rows]
    assert labels == ["Committee of 35 CNNs", "Capsule network, CapsNet", "LeNet-5 CNN",
                      "Best plain MLPs, no augmentation", "model_b", "model_a"]
    assert [row.ours for row in rows] == [False] * 4 + [True] * 2
    assert standing_sentence("m", 0.9850) == (
        "m: 98.50% final test accuracy, within the range of the best plain MLPs; "
        "0.70 pts below LeNet-5 and 1.27 pts below the CNN committee."
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.79, "0.79 s"), (12.34, "12.3 s"), (398.2, "6 min 38 s"), (7500, "2 h 05 min"), (None, "–")],
)
def test_durations_read_naturally(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_summary_of_an_empty_project_says_how_to_start() -> None:
    source = DataSource(FIXTURES / "empty")
    source.poll()
    text = summary(source.snapshot)
    assert "No training run yet. Start one with `dvc repro`" in text
    assert "No comparison yet" in text
    assert "model_a  784→64→128→64→10  waiting: not started yet" in text


def test_a_panel_title_and_its_metric_rows() -> None:
    run = finished_data().run("model_b")
    assert report.run_title(run) == "model_b  784→256→512→128→10"
    rows = {row.label: row for row in report.metric_rows(run)}
    assert list(rows) == ["train accuracy", "test accuracy", "train loss", "test loss"]
    assert (rows["test accuracy"].latest, rows["test accuracy"].best, rows["test accuracy"].note) == (
        "98.15%", "98.37%", "at epoch 8")
    assert rows["test loss"].note == "", "only the best test accuracy says when it was reached"


def test_backprop_check_lines() -> None:
    backprop = json.loads((FIXTURES / "finished/reports/backprop.json").read_text())
    lines = report.check_lines(backprop)
    assert [(line.mark, line.text) for line in lines] == [
        ("✓", "finite differences: max |Δ| 2.65e-12 ≤ 1e-06"),
        ("✓", "TensorFlow: max |Δ| 0 ≤ 1e-09"),
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


def test_summary_of_five_seeds_gives_intervals_the_test_and_mcnemar_per_seed(finished_seeds: Path) -> None:
    source = DataSource(finished_seeds)
    source.poll()
    comparison = source.snapshot.comparison
    text = summary(source.snapshot)
    spread = comparison["models"]["model_a"]["stats"]["train_time_s"]
    half = (spread["ci"][1] - spread["ci"][0]) / 2
    assert f"{spread['mean']:.1f} s ± {half:.2f} s *" in text
    assert "  model_a − model_b (95% CI; paired t-test p):\n" in text
    assert "    Parameters: -332,032 (same on every seed)\n" in text
    assert "  (* = better on that row, significantly across seeds)\n" in text
    assert f"  {comparison['seeds_note']}\n" in text
    assert [line.split(":")[0].strip() for line in text.splitlines() if line.startswith("    seed ")] == [
        f"seed {seed}" for seed in (42, 43, 44, 45, 46)]
    assert "model_a: 97.62% mean final test accuracy over 5 seeds, " in text
