"""Compare tab (tui/panes/compare.py) on one seed and on five: pilot tests, then snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tests.dashboard.conftest import SEEDS
from tests.fixtures.runs import write_params
from tests.helpers import NARROW, SIZE, WIDE, make_app, settle, snapshot_app, text, wait_for
from tui.report import COMPARE_HINT
from tui.widgets.curves import CurvesPlot


async def test_compare_marks_winners_and_keeps_the_cursor_on_updates(finished: Path) -> None:
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.query_one("#comparison", DataTable)
        await wait_for(pilot, lambda: table.row_count == 9, what="the comparison rows")
        assert str(table.get_cell("best_test_accuracy", "model_b")) == "★ 98.37%"
        assert str(table.get_cell("best_test_accuracy", "model_a")) == "97.84%"
        assert str(table.get_cell("train_time_s", "model_a")) == "★ 11.9 s"
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3
        comparison = finished / "reports/comparison.json"
        comparison.write_text(comparison.read_text().replace('"mean": 11.9', '"mean": 99.5'))
        await wait_for(pilot, lambda: str(table.get_cell("train_time_s", "model_a")) == "1 min 40 s",
                       what="the updated training time")
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



async def test_five_seeds_show_mean_and_interval_the_test_across_seeds_and_mcnemar_per_seed(
    finished_seeds: Path,
) -> None:
    comparison = json.loads((finished_seeds / "reports/comparison.json").read_text())
    app = make_app(finished_seeds)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.query_one("#comparison", DataTable)
        await wait_for(pilot, lambda: table.row_count == 9 and len(table.columns) == 4, what="the rows")
        assert [str(column.label) for column in table.columns.values()] == [
            "criterion", "model_a", "model_b", "model_a − model_b (95% CI; paired t-test p)"]
        spread = comparison["models"]["model_b"]["stats"]["best_test_accuracy"]
        half = (spread["ci"][1] - spread["ci"][0]) / 2
        assert str(table.get_cell("best_test_accuracy", "model_b")) == \
            f"★ {100 * spread['mean']:.2f}% ± {100 * half:.2f} pts"
        diff = comparison["differences"][0]["criteria"]["best_test_accuracy"]
        low, high = diff["ci"]
        assert str(table.get_cell("best_test_accuracy", "difference")) == (
            f"-{-100 * diff['difference']:.2f} pts (-{-100 * low:.2f} pts to -{-100 * high:.2f} pts; "
            f"p {diff['p_value']:.3g})")
        assert str(table.get_cell("params", "model_a")) == "★ 67,466"
        epoch = comparison["models"]["model_a"]["stats"]["best_test_epoch"]
        assert str(table.get_cell("best_test_epoch", "model_a")) == \
            f"{int(epoch['mean'])} ± {int((epoch['ci'][1] - epoch['ci'][0]) / 2)}"
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


async def test_an_edge_that_is_not_significant_across_seeds_gets_no_star(finished_seeds: Path) -> None:
    """The same file with the time test's p above 0.05: the cheaper mean is no longer marked."""
    path = finished_seeds / "reports/comparison.json"
    comparison = json.loads(path.read_text())
    comparison["differences"][0]["criteria"]["train_time_s"]["p_value"] = 0.2
    path.write_text(json.dumps(comparison))
    app = make_app(finished_seeds)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.query_one("#comparison", DataTable)
        await wait_for(pilot, lambda: table.row_count == 9, what="the rows")
        assert not str(table.get_cell("train_time_s", "model_a")).startswith("★")
        assert str(table.get_cell("best_test_accuracy", "model_b")).startswith("★")
        assert str(table.get_cell("train_time_s", "difference")).endswith("; p 0.2)")


async def test_no_comparison_yet_says_how_to_get_one(tmp_path: Path) -> None:
    write_params(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        compare_hint = app.query_one("#compare-hint", Static)
        await wait_for(pilot, lambda: compare_hint.display, what="the compare hint")
        assert str(compare_hint.render()) == COMPARE_HINT
        assert not app.query_one("#comparison").display
        assert not app.query_one("#verdicts").display

# --- snapshots ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_compare(snap_compare: Callable, finished: Path, size: tuple[int, int]) -> None:
    assert snap_compare(snapshot_app(finished), press=["2"], terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_compare_five_seeds(snap_compare: Callable, finished_seeds: Path, size: tuple[int, int]) -> None:
    assert snap_compare(snapshot_app(finished_seeds), press=["2"], terminal_size=size, run_before=settle)
