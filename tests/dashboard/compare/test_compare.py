"""Compare tab (tui/compare/) on one seed and on five: its text, pilot tests, then snapshots with what
they show asserted too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.dashboard.conftest import SEEDS
from tests.fixtures.runs import write_params
from tests.helpers import (
    FIXTURES,
    NARROW,
    SIZE,
    WIDE,
    make_app,
    poll_now,
    settle,
    snapshot_app,
    text,
    wait_for,
)
from tui.__main__ import summary
from tui.compare.pane import ComparePane
from tui.compare.text import COMPARE_HINT, comparison_rows, standing_sentence, standings
from tui.ground.snapshot import Dashboard, DataSource
from tui.ground.widgets import CurvesPlot


def snapshot_of(root: Path) -> Dashboard:
    source = DataSource(root)
    source.poll()
    return source.snapshot


def test_comparison_rows_mark_the_better_model() -> None:
    models, rows = comparison_rows(snapshot_of(FIXTURES / "finished").comparison)
    assert models == ["model_a", "model_b"]
    winners = {row.key: row.winner for row in rows}
    assert winners["best_test_accuracy"] == "model_b"
    assert winners["train_time_s"] == "model_a", "one seed each, timed on its own"
    assert winners["params"] == "model_a"
    assert winners["best_test_epoch"] is None, "an epoch number is not better or worse"
    cells = {row.key: row.cells for row in rows}
    assert cells["best_test_accuracy"] == {"model_a": "97.84%", "model_b": "98.37%"}
    assert cells["params"] == {"model_a": "67,466", "model_b": "399,498"}


def test_published_results_are_ranked_with_the_models() -> None:
    rows = standings(snapshot_of(FIXTURES / "finished"))
    labels = [row.label.split(" (")[0] for row in rows]
    assert labels == ["Committee of 35 CNNs", "Capsule network, CapsNet", "LeNet-5 CNN",
                      "Best plain MLPs, no augmentation", "model_b", "model_a"]
    assert [row.ours for row in rows] == [False] * 4 + [True] * 2
    assert standing_sentence("m", 0.9850) == (
        "m: 98.50% final test accuracy, within the range of the best plain MLPs; "
        "0.70 pts below LeNet-5 and 1.27 pts below the CNN committee."
    )


def test_the_models_stand_among_published_results_only_once_evaluated(finished: Path) -> None:
    """The figure set beside published ones is the mean evaluate wrote, never one made up here."""
    (finished / "reports/comparison.json").unlink()
    assert [row.ours for row in standings(snapshot_of(finished))] == [False] * 4


def test_the_summary_of_five_seeds_has_intervals_the_test_and_mcnemar_per_seed(finished_seeds: Path) -> None:
    data = snapshot_of(finished_seeds)
    comparison = data.comparison
    said = summary(data)
    assert ("  Training time (per seed)                            "
            "12.07 ± 0.34 s *       27.29 ± 1.01 s\n") in said, "time measured seed by seed has a spread"
    assert ("  Min train loss                                 "
            "209.2e-04 ± 9.3e-04    202.3e-04 ± 7.9e-04 *\n") in said, "one format per row"
    assert "    Training time (per seed): -15.23 s (-15.95 to -14.50 s; p 5.22e-07)\n" in said
    assert "  model_a − model_b (95% CI; paired t-test p):\n" in said
    assert "    Parameters: -332,032 (same on every seed)\n" in said
    assert "  (* = better on that row, significantly across seeds)\n" in said
    assert f"  {comparison.seeds_note}\n" in said
    assert [line.split(":")[0].strip() for line in said.splitlines() if line.startswith("    seed ")] == [
        f"seed {seed}" for seed in SEEDS]
    assert "model_a: 97.62% mean final test accuracy over 5 seeds, " in said


def one_time(comparison: dict, timing: str | None) -> dict:
    """comparison.json as evaluate writes it for seeds whose time is one measurement per model
    (`stack_share`), or as a file from before `timing` existed wrote it (None: every seed carries the
    model's wall time, with zero-width intervals, a difference and a winner that mean nothing)."""
    for entry in comparison["models"].values():
        if timing is None:
            entry.pop("timing")
            continue
        entry["timing"] = timing
        entry["stats"]["train_time_s"] = {"n": 1, "mean": entry["runs"]["42"]["train_time_s"] * 5, "sd": None,
                                          "ci": None}
    if timing is not None:
        del comparison["differences"][0]["criteria"]["train_time_s"]
        comparison["winners"]["train_time_s"] = {"winner": None, "why": "one measurement per model"}
    return comparison


@pytest.mark.parametrize(("timing", "label"), [("stack_share", "Training time (per seed, stack share)"),
                                               (None, "Training time (all seeds together)")])
def test_a_time_not_measured_seed_by_seed_has_no_spread_no_star_and_no_difference(
        finished_seeds: Path, timing: str | None, label: str) -> None:
    path = finished_seeds / "reports/comparison.json"
    path.write_text(json.dumps(one_time(json.loads(path.read_text()), timing)))
    data = snapshot_of(finished_seeds)
    row = {row.key: row for row in comparison_rows(data.comparison)[1]}["train_time_s"]
    assert (row.label, row.winner, row.difference) == (label, None, None)
    assert not any("±" in cell or "mean" in cell for cell in row.cells.values())
    said = summary(data)
    shown = next(line for line in said.splitlines() if line.startswith(f"  {label}"))
    assert "*" not in shown and "±" not in shown
    assert "    Training time" not in said, "no difference line for time"


async def test_compare_marks_winners_and_keeps_the_cursor_on_updates(finished: Path) -> None:
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.query_one("#comparison", DataTable)
        assert table.row_count == 9
        assert str(table.get_cell("best_test_accuracy", "model_b")) == "★ 98.37%"
        assert str(table.get_cell("best_test_accuracy", "model_a")) == "97.84%"
        assert str(table.get_cell("train_time_s", "model_a")) == "★ 11.9 s"
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3
        path = finished / "reports/comparison.json"
        comparison = json.loads(path.read_text())
        comparison["models"]["model_a"]["stats"]["train_time_s"]["mean"] = 99.5
        comparison["winners"]["train_time_s"]["winner"] = "model_b"  # as evaluate decides it
        path.write_text(json.dumps(comparison))
        await poll_now(pilot)
        assert str(table.get_cell("train_time_s", "model_a")) == "1 min 40 s"
        assert str(table.get_cell("train_time_s", "model_b")) == "★ 27.2 s"
        assert table.cursor_row == 3, "an update must not move the user's cursor"
        verdicts = text(app, "#verdicts")
        cheaper = "Time: model_a. model_a is cheaper: less training time (11.9 s vs 27.2 s for model_b)"
        assert cheaper in verdicts
        assert "McNemar's exact test (model_a vs model_b): b01 = 108, b10 = 61, p = 0.000372" in verdicts
        assert verdicts.startswith("One seed per model: there is no spread across seeds to measure, so no "
                                   "confidence intervals and no test across seeds;")
        assert [str(column.label) for column in table.columns.values()] == ["criterion", "model_a", "model_b"]
        overlay = app.query_one("#overlay", CurvesPlot)
        assert [label for label, _, _ in overlay.series] == ["model_a", "model_b"]



async def test_page_keys_reach_the_published_results_while_the_table_has_focus(finished: Path) -> None:
    """The comparison table shows all its rows, so PageDown/End/Home scroll the tab, not its cursor."""
    app = make_app(finished)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("2")
        pane = app.query_one(ComparePane)
        table = app.query_one("#comparison", DataTable)
        assert table.has_focus and pane.max_scroll_y > 0, "the published results start below the screen"
        await pilot.press("end")
        await wait_for(pilot, lambda: pane.scroll_y == pane.max_scroll_y, what="End: the tab's bottom")
        assert table.has_focus
        await pilot.press("home")
        await wait_for(pilot, lambda: pane.scroll_y == 0, what="Home: the tab's top")
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: pane.scroll_y > 0, what="PageDown: the next page of the tab")
        await pilot.press("pageup")
        await wait_for(pilot, lambda: pane.scroll_y == 0, what="PageUp: back up")
        await pilot.press("down")
        assert table.cursor_row == 1, "the arrows still move the table's cursor"


async def test_the_star_is_evaluates_decision_never_made_again_here(finished_seeds: Path) -> None:
    """The tab marks the model comparison.json's `winners` names: a p-value above 0.05 alone does not
    take the star away (the tab does not test again); the file saying no model is better does."""
    path = finished_seeds / "reports/comparison.json"
    comparison = json.loads(path.read_text())
    assert comparison["winners"]["train_time_s"]["winner"] == "model_a"
    comparison["differences"][0]["criteria"]["train_time_s"]["p_value"] = 0.2
    path.write_text(json.dumps(comparison))
    app = make_app(finished_seeds)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.query_one("#comparison", DataTable)
        assert table.row_count == 9
        assert str(table.get_cell("train_time_s", "model_a")).startswith("★")
        assert str(table.get_cell("train_time_s", "difference")).endswith("; p 0.2)")
        comparison["winners"]["train_time_s"] = {"winner": None, "why": "not significantly lower"}
        path.write_text(json.dumps(comparison))
        await poll_now(pilot)
        assert not str(table.get_cell("train_time_s", "model_a")).startswith("★")
        assert str(table.get_cell("best_test_accuracy", "model_b")).startswith("★")


async def test_no_comparison_yet_says_how_to_get_one(tmp_path: Path) -> None:
    write_params(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        compare_hint = app.query_one("#compare-hint", Static)
        assert compare_hint.display
        assert str(compare_hint.render()) == COMPARE_HINT
        assert not app.query_one("#comparison").display
        assert not app.query_one("#verdicts").display

# --- snapshots ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_compare(snap_compare: Callable, finished: Path, size: tuple[int, int]) -> None:
    assert snap_compare(snapshot_app(finished), press=["2"], terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_compare_five_seeds(snap_compare: Callable, finished_seeds: Path, size: tuple[int, int]) -> None:
    """Five seeds: mean ± half the interval, the test across seeds, McNemar seed by seed."""
    comparison = json.loads((finished_seeds / "reports/comparison.json").read_text())

    async def shown(pilot: Pilot) -> None:
        await settle(pilot)
        app = pilot.app
        table = app.query_one("#comparison", DataTable)
        assert table.row_count == 9
        assert [str(column.label) for column in table.columns.values()] == [
            "criterion", "model_a", "model_b", "model_a − model_b (95% CI; paired t-test p)"]
        assert str(table.get_cell("best_test_accuracy", "model_b")) == "★ 98.346 ± 0.096%"
        assert str(table.get_cell("best_test_accuracy", "difference")) == (
            "-0.516 pts (-0.600 to -0.432 pts; p 7.09e-05)")
        assert str(table.get_cell("params", "model_a")) == "★ 67,466"
        assert str(table.get_cell("best_test_epoch", "model_a")) == "8.6 ± 1.1", "a mean of 8.6, not 8"
        assert str(table.get_cell("train_time_s", "criterion")) == "Training time (per seed)"
        assert str(table.get_cell("train_time_s", "model_a")) == "★ 12.07 ± 0.34 s"
        verdicts = text(app, "#verdicts")
        assert verdicts.startswith("5 seeds per model, the same for every model (seeds 42-46): ")
        assert "Accuracy: model_b. model_b performs better: higher best testing accuracy (mean " in verdicts
        assert ("McNemar's test of the final models, seed by seed (model_a vs model_b): model_b "
                "significantly better on 5 of 5 seeds") in verdicts
        per_seed = [line.strip() for line in verdicts.splitlines() if line.startswith("  seed ")]
        assert [line.split(":")[0] for line in per_seed] == [f"seed {s}" for s in SEEDS]
        test = comparison["mcnemar"][0]
        assert per_seed[0] == (f"seed 42: {test['b01']} images only model_b gets right, {test['b10']} only "
                               f"model_a; p = {test['p_value']:.3g}, model_b significantly better")

    assert snap_compare(snapshot_app(finished_seeds), press=["2"], terminal_size=size, run_before=shown)
