"""Training tab (tui/panes/training.py, tui/widgets/model_panel.py): pilot tests, then snapshots."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import ProgressBar, Static

from tests.fixtures.runs import write_params, write_run
from tests.helpers import FIXTURES, NARROW, SIZE, WIDE, make_app, settle, snapshot_app, wait_for
from tui.report import START_HINT
from tui.widgets.curves import CurvesPlot
from tui.widgets.model_panel import ModelPanel


async def test_finished_runs_show_their_numbers() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_b", ModelPanel)
        assert panel.border_title == "model_b  784→256→512→128→10"
        assert panel.border_subtitle == "finished"
        assert str(panel.query_one(".run-line", Static).render()) == (
            "finished · epoch 12/12 · elapsed 27.2 s · last epoch 2.00 s · tensorflow"
        )
        metrics = str(panel.query_one(".run-metrics", Static).render())
        assert "test accuracy     98.15%   98.37%  at epoch 8" in metrics
        assert not app.query_one("#training-hint").display
        assert not app.query_one("#warnings").display


async def test_panels_sit_side_by_side_once_the_terminal_is_wide() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        await pilot.pause()
        first, second = (panel.virtual_region for panel in app.query(ModelPanel))
        assert app.screen.has_class("-narrow")
        assert second.y >= first.bottom and second.x == first.x
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        first, second = (panel.virtual_region for panel in app.query(ModelPanel))
        assert app.screen.has_class("-wide")
        assert second.y == first.y and second.x >= first.right
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        first, second = (panel.virtual_region for panel in app.query(ModelPanel))
        assert second.y >= first.bottom


async def test_a_growing_run_moves_the_progress_bar_and_the_charts(tmp_path: Path) -> None:
    write_params(tmp_path, epochs=5)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_a", ModelPanel)
        bar = panel.query_one(ProgressBar)
        loss_chart = panel.query_one(".loss-chart", CurvesPlot)
        assert app.query_one("#training-hint").display
        assert (bar.progress, bar.total) == (0, 5)
        assert panel.border_subtitle == "waiting: not started yet"
        drawn_before = loss_chart.plt.build()
        for epoch in range(1, 4):
            write_run(tmp_path, "model_a", epoch, epochs=5, state="running", pid=os.getpid())
            await wait_for(pilot, lambda e=epoch: bar.progress == e, what=f"progress bar at epoch {epoch}")
            assert [len(xs) for _, xs, _ in loss_chart.series] == [epoch, epoch]
            assert panel.border_subtitle == "running"
            assert f"epoch {epoch}/5" in str(panel.query_one(".run-line", Static).render())
        assert loss_chart.plt.build() != drawn_before, "the chart was redrawn with the new epochs"
        assert not app.query_one("#training-hint").display
        write_run(tmp_path, "model_a", 5, epochs=5, state="finished", pid=os.getpid())
        await wait_for(pilot, lambda: panel.border_subtitle == "finished", what="finished state")
        assert bar.progress == 5


async def test_a_corrupt_file_shows_a_warning_and_keeps_the_last_data(finished: Path) -> None:
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        warnings = app.query_one("#warnings", Static)
        progress = finished / "metrics/train/model_a/progress.json"
        good = progress.read_text()
        progress.write_text(good[: len(good) // 2])
        await wait_for(pilot, lambda: warnings.display, what="the warning bar")
        assert str(warnings.render()).startswith("⚠ metrics/train/model_a/progress.json: not valid JSON")
        panel = app.query_one("#panel-model_a", ModelPanel)
        assert panel.border_subtitle == "finished"
        assert panel.query_one(ProgressBar).progress == 12
        progress.write_text(good)
        await wait_for(pilot, lambda: not warnings.display, what="the warning to clear")


async def test_missing_metrics_shows_how_to_start(tmp_path: Path) -> None:
    write_params(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        hint = app.query_one("#training-hint", Static)
        await wait_for(pilot, lambda: hint.display, what="the training hint")
        assert str(hint.render()) == START_HINT
        assert not app.query_one("#warnings").display, "no metrics yet is not a problem"


# --- snapshots ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_training_finished(snap_compare: Callable, finished: Path, size: tuple[int, int]) -> None:
    assert snap_compare(snapshot_app(finished), terminal_size=size, run_before=settle)


def test_training_running(snap_compare: Callable, finished: Path) -> None:
    """model_b halfway, its writer alive (this test's own process), with an ETA from the file."""
    (finished / "reports/comparison.json").unlink()
    write_run(finished, "model_b", 7, state="running", pid=os.getpid())
    assert snap_compare(snapshot_app(finished), terminal_size=WIDE, run_before=settle)


def test_training_before_any_run(snap_compare: Callable) -> None:
    assert snap_compare(snapshot_app(FIXTURES / "empty"), terminal_size=NARROW, run_before=settle)


def test_training_with_a_corrupt_file(snap_compare: Callable, finished: Path) -> None:
    async def corrupt(pilot: Pilot) -> None:
        await settle(pilot)
        progress = finished / "metrics/train/model_a/progress.json"
        progress.write_text(progress.read_text()[:40])
        pilot.app.poll()
        await settle(pilot)

    assert snap_compare(snapshot_app(finished), terminal_size=NARROW, run_before=corrupt)
