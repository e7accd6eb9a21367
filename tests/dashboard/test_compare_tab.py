"""Compare tab (tui/panes/compare.py): pilot tests, then snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

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
        comparison = finished / "metrics/comparison.json"
        comparison.write_text(comparison.read_text().replace('"train_time_s": 11.9', '"train_time_s": 99.5'))
        await wait_for(pilot, lambda: str(table.get_cell("train_time_s", "model_a")) == "1 min 40 s",
                       what="the updated training time")
        assert str(table.get_cell("train_time_s", "model_b")) == "★ 27.2 s"
        assert table.cursor_row == 3, "an update must not move the user's cursor"
        verdicts = text(app, "#verdicts")
        cheaper = "Time: model_a. model_a is cheaper: less training time (11.9 s vs 27.2 s for model_b)"
        assert cheaper in verdicts
        assert "McNemar's exact test (model_a vs model_b): b01 = 108, b10 = 61, p = 0.000372" in verdicts
        overlay = app.query_one("#overlay", CurvesPlot)
        assert [label for label, _, _ in overlay.series] == ["model_a", "model_b"]



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
