"""Experiments tab (tui/experiments/pane.py) on a real git + DVC repository of made-up experiments
saved with `dvc exp save` (bench/experiment_repo.py: no training): the table, sorting, filtering,
comparing runs, the app's selected run, then snapshots. Launching and acting on runs are in
test_actions.py, real tiny trainings in test_real_runs.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from bench.experiment_repo import BASELINE, EXPERIMENTS, TEST_IMAGES, Made
from tests.dashboard.experiments.driving import cell, cursor_to, headings, names, open_tab, pane
from tests.helpers import BIN, NARROW, ROOT, SIZE, WIDE, make_app, run, settle, snapshot_app, text, wait_for
from tui.errors.pane import ErrorsPane
from tui.experiments import collect as experiments
from tui.ground.runs import DONE, WORKSPACE
from tui.ground.widgets import CurvesPlot

# --- the table -------------------------------------------------------------------------------


async def test_sorting_by_any_column_up_down_and_off(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        natural = names(app)
        await cursor_to(pilot, WORKSPACE, "metric:model_a.acc")
        await pilot.press("s")
        accuracies = [float(cell(app, name, "metric:model_a.acc")) for name in names(app)]
        assert accuracies == sorted(accuracies) and names(app)[0] == "fast-lr" and names(app)[-1] == "long"
        assert "sorted by model_a.acc ascending" in text(app, "#exp-status")
        await pilot.press("s")
        assert names(app)[0] == "long" and names(app)[-1] == "fast-lr"
        assert "descending" in text(app, "#exp-status")
        table = app.query_one("#exp-table", DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == WORKSPACE, \
            "the cursor stays on its run"
        await pilot.press("s")
        assert names(app) == natural
        await cursor_to(pilot, WORKSPACE, "param:train.learning_rate")
        await pilot.press("s", "s")
        assert names(app)[0] == "fast-lr"


async def test_the_filter_narrows_the_rows_and_the_param_columns(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        await pilot.press("slash")
        assert app.focused is app.query_one("#exp-filter", Input)
        await pilot.press(*"learning_rate=0.01")
        assert names(app) == ["fast-lr"]
        await pilot.press("ctrl+u", *"epochs=12")
        assert WORKSPACE in names(app) and "long" not in names(app)
        assert "train.epochs" not in headings(app), "every run listed has 12 epochs"
        assert text(app, "#exp-status").startswith("4 of 5 runs")
        await pilot.press("enter")
        assert app.focused is app.query_one("#exp-table", DataTable)
        await pilot.press("slash", "ctrl+u", "escape")
        assert len(names(app)) == 5 and app.focused is app.query_one("#exp-table", DataTable)


async def test_columns_equal_in_every_row_hide_and_columns_can_be_hidden_and_pinned(
        experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        assert headings(app)[:6] == ["", "run", "state", "train.epochs", "train.learning_rate",
                                     "models.model_a.hidden"], "the changed params first"
        await pilot.press("slash", *"epochs=12 learning_rate=0.001 hidden=[64", "enter")
        assert names(app) == [WORKSPACE, "main"] and headings(app) == ["", "run", "state"], \
            "the workspace and its commit: every metric and param the same"
        assert "columns equal in every row hidden (a shows them)" in text(app, "#exp-status")
        await pilot.press("a")
        assert "model_a.acc" in headings(app) and "backprop.inputs.x1" in headings(app)
        await pilot.press("a", "slash", "ctrl+u", "enter")
        await cursor_to(pilot, WORKSPACE, "metric:model_a.loss")
        await pilot.press("h")
        assert "model_a.loss" not in headings(app)
        assert "1 hidden with h (H shows them)" in text(app, "#exp-status")
        await cursor_to(pilot, WORKSPACE, "metric:model_b.acc")
        await pilot.press("p")
        table = app.query_one("#exp-table", DataTable)
        assert headings(app)[:4] == ["", "run", "model_b.acc", "state"] and table.fixed_columns == 3
        assert "pinned: model_b.acc" in text(app, "#exp-status")
        await pilot.press("H")
        assert "model_a.loss" in headings(app) and "hidden with h" not in text(app, "#exp-status")
        await cursor_to(pilot, WORKSPACE, "metric:model_b.acc")
        await pilot.press("p")
        assert headings(app)[2] == "state" and table.fixed_columns == 2


# --- comparing ------------------------------------------------------------------------------------


async def test_two_selected_runs_are_compared(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_tab(pilot)
        compare = app.query_one("#exp-compare")
        await cursor_to(pilot, "wide")
        await pilot.press("space")
        assert cell(app, "wide", "mark") == "✓" and not compare.display
        await cursor_to(pilot, "fast-lr")
        await pilot.press("space")
        assert compare.display
        accuracy = app.query_one("#compare-accuracy", CurvesPlot)
        await wait_for(pilot, lambda: len(accuracy.series) == 2, what="two curves")
        assert [label for label, _, _ in accuracy.series] == ["wide", "fast-lr"]
        assert accuracy.series[0][2][-1] == pytest.approx(97.5, abs=0.1), "percent, from wide's own log"
        assert text(app, "#compare-heading") == (
            "2 runs · curves of model_a (m: next model) · baseline wide (b: the run under the cursor) · "
            "c: criterion against the param")
        params = app.query_one("#compare-params", DataTable)
        assert [key.value for key in params.rows] == ["train.learning_rate", "models.model_a.hidden"]
        # these runs have no reports/comparison.json: no statistics between them (test_between.py has them)
        await wait_for(pilot, lambda: "no reports/comparison.json" in text(app, "#between-family"),
                       what="the runs' missing comparison files said")
        await pilot.press("b")
        await wait_for(pilot, lambda: "baseline fast-lr" in text(app, "#compare-heading"), what="baseline")
        assert cell(app, "fast-lr", "mark") == "◆"
        await pilot.press("m")
        await wait_for(pilot, lambda: "curves of model_b" in text(app, "#compare-heading"), what="model_b")
        await cursor_to(pilot, "wide")
        await pilot.press("space")
        assert not compare.display, "one run left selected: nothing to compare"


async def test_the_table_keeps_nine_rows_while_a_comparison_is_open_at_80x24(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=NARROW) as pilot:
        await open_tab(pilot)
        for name in ("wide", "fast-lr"):
            await cursor_to(pilot, name)
            await pilot.press("space")
        await pilot.pause()
        assert app.query_one("#exp-compare").display
        table = app.query_one("#exp-table", DataTable)
        assert table.region.height >= 10, "a heading and nine rows"


async def test_the_run_under_the_cursor_is_the_apps_selected_run(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        await cursor_to(pilot, "long")
        await wait_for(pilot, lambda: app.selected_run is not None and app.selected_run.name == "long",
                       what="the selected run")
        assert app.following is None, "a finished run: the Training tab shows the workspace"
        assert "long: experiment " in text(app, "#exp-status")


def misclassified(made: Made) -> str:
    """The start of the Errors tab's heading for model_a of a made-up run."""
    return f"model_a · {round((1 - made.accuracy) * TEST_IMAGES)} of {TEST_IMAGES} test digits misclassified"


async def test_the_errors_tab_follows_the_selected_run(experiments_copy: Path) -> None:
    long = next(made for made in EXPERIMENTS if made.name == "long")
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        errors = app.query_one(ErrorsPane)
        await wait_for(pilot, lambda: errors.errors is not None, what="the workspace's predictions")
        assert text(app, "#errors-heading").startswith(misclassified(BASELINE))
        await open_tab(pilot)
        await cursor_to(pilot, "long")
        await pilot.press("6")
        heading = f"long · {misclassified(long)}"
        await wait_for(pilot, lambda: text(app, "#errors-heading").startswith(heading),
                       what="the run's mistakes")
        assert errors.source is not None and errors.source.rev == app.selected_run.rev
        await pilot.press("5")
        await cursor_to(pilot, WORKSPACE)
        await pilot.press("6")
        await wait_for(pilot, lambda: text(app, "#errors-heading").startswith(misclassified(BASELINE)),
                       what="the workspace again")
        assert errors.source.rev is None


async def test_the_last_table_shows_at_once_while_dvc_collects(experiments_copy: Path) -> None:
    experiments.save_cached(experiments_copy, experiments.collect(experiments_copy))
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        assert len(names(app)) == 5 and not pane(app).collecting, "the last session's rows; DVC not asked yet"
        await pilot.press("5")
        await wait_for(pilot, lambda: pane(app).collecting, what="the collection to start")
        assert len(names(app)) == 5 and "from the last session, refreshing…" in text(app, "#exp-status")
        await wait_for(pilot, lambda: not pane(app).collecting, what="the fresh table")
        assert "refreshing" not in text(app, "#exp-status")


async def test_a_deleted_metrics_file_is_one_warning_that_clears_once_back(experiments_copy: Path) -> None:
    """metrics/summary.json deleted: the tab says so in one line instead of going blank, the other
    runs keep their metrics, and the line goes once `dvc repro` (here: git) writes the file again."""
    summary = experiments_copy / "metrics/summary.json"
    kept = summary.read_bytes()
    summary.unlink()
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        warning = "⚠ metrics/summary.json is missing in the workspace: its row shows none of its metrics"
        await wait_for(pilot, lambda: warning in text(app, "#exp-status"), what="the warning")
        assert len(names(app)) == 5
        finished = [r for r in pane(app).table.runs if r.name != WORKSPACE]
        assert all(r.metrics for r in finished), "the other runs keep their own metrics"
        assert not next(r for r in pane(app).table.runs if r.name == WORKSPACE).metrics
        summary.write_bytes(kept)
        await wait_for(pilot, lambda: "⚠" not in text(app, "#exp-status"), what="the warning to clear")


async def test_outside_a_git_repository_the_tab_says_why(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    run([str(BIN / "dvc"), "init", "-q", "--no-scm"], tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await wait_for(pilot, lambda: pane(app).problem is not None, what="the problem")
        status = text(app, "#exp-status")
        assert status.startswith(f"{tmp_path} is not a git repository; experiments need git")
        assert app.query_one("#exp-table", DataTable).row_count == 0


# --- snapshots --------------------------------------------------------------------------------


async def _loaded_by_name(pilot: Pilot) -> None:
    """The table sorted by name (DVC lists experiments saved in the same second in any order),
    the cursor on the workspace: no date or commit hash on screen."""
    await open_tab(pilot)
    await cursor_to(pilot, WORKSPACE, "run")
    await pilot.press("s")
    await settle(pilot)


def test_experiments_table(snap_compare: Callable, experiments_copy: Path) -> None:
    """Every run, the params that differ, then DVC's metrics (a: every column, then back)."""

    async def listed(pilot: Pilot) -> None:
        await open_tab(pilot)
        app = pilot.app
        assert app.focused is not None and app.focused.id == "exp-table"
        assert names(app)[:2] == [WORKSPACE, "main"]
        assert set(names(app)[2:]) == {made.name for made in EXPERIMENTS}
        assert headings(app) == ["", "run", "state", "train.epochs", "train.learning_rate",
                                 "models.model_a.hidden", "model_a.acc", "model_a.loss", "model_a.time_s",
                                 "model_b.acc", "model_b.loss", "model_b.time_s"]
        assert cell(app, "wide", "param:models.model_a.hidden") == "[128, 128, 64]"
        assert cell(app, "long", "metric:model_a.acc") == "0.981"
        assert cell(app, "fast-lr", "state") == DONE
        await pilot.press("a")
        assert len(headings(app)) > 30 and "backprop.inputs.x1" in headings(app)
        await pilot.press("a")
        assert headings(app)[-1] == "model_b.time_s"
        assert text(app, "#exp-status").startswith("5 runs · 1 commit · 3 experiments\n")
        await _loaded_by_name(pilot)

    assert snap_compare(snapshot_app(experiments_copy), terminal_size=(120, 24), run_before=listed)


def test_experiments_compared(snap_compare: Callable, experiments_copy: Path) -> None:
    async def compared(pilot: Pilot) -> None:
        await _loaded_by_name(pilot)
        for name in ("long", "wide"):
            await cursor_to(pilot, name)
            await pilot.press("space")
        await cursor_to(pilot, WORKSPACE)
        accuracy = pilot.app.query_one("#compare-accuracy", CurvesPlot)
        await wait_for(pilot, lambda: len(accuracy.series) == 2, what="two curves")
        await settle(pilot)

    assert snap_compare(snapshot_app(experiments_copy), terminal_size=WIDE, run_before=compared)
