"""The dashboard as a whole (tui/app.py), driven with Textual's pilot: tab keys and focus, help, quit."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import DataTable, Static, TabbedContent
from textual.widgets._footer import FooterKey

from mnist_dvc.core.atomic import write_json
from tests.helpers import FIXTURES, NARROW, SIZE, make_app
from tui.ground import jobs
from tui.screens import ConfirmQuit, HelpScreen


async def test_number_keys_switch_tabs_and_focus_their_content() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "training"
        for key, tab, focused in [("2", "compare", "comparison"), ("3", "backprop", "graph-view"),
                                  ("4", "pipeline", "stages"), ("6", "errors", "heatmap"),
                                  ("1", "training", "training-pane")]:
            await pilot.press(key)
            assert tabs.active == tab
            assert app.focused is not None and app.focused.id == focused


async def test_clicking_a_tab_focuses_its_content_too() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        clicks = [("backprop", "graph-view"), ("compare", "comparison"), ("training", "training-pane")]
        for tab, focused in clicks:
            await pilot.click(f"#--content-tab-{tab}")
            await pilot.pause()
            assert app.query_one(TabbedContent).active == tab
            assert app.focused is not None and app.focused.id == focused


async def test_help_opens_and_closes() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        said = str(app.screen.query_one(Static).render())
        assert "1-6            Training · Compare · Backprop · Pipeline · Experiments · Errors" in said
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_quit_without_a_repro_exits_at_once() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_quit_while_a_repro_runs_asks_first(finished: Path) -> None:
    """A repro is running when its runner's pid is alive and it wrote no exit status (this test's pid)."""
    write_json(finished / jobs.STATE, {"pid": os.getpid(), "command": ["/venv/bin/dvc", "repro", "hold"],
                                        "started_at": "2025-01-01T12:00:00+00:00"})
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        question = str(app.screen.query_one(Static).render())
        assert question.startswith(f"`dvc repro hold` (pid {os.getpid()}) is running.")
        await pilot.press("n")
        assert app.is_running and not isinstance(app.screen, ConfirmQuit)
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running


async def test_help_and_quit_stay_in_the_footer_of_every_tab_at_80x24() -> None:
    """The footer lists the open tab's keys first: at 80 columns the app's help and quit would be cut."""
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=NARROW) as pilot:
        for tab in "123456":
            await pilot.press(tab)
            await pilot.pause()
            keys = {key.key: key for key in app.screen.query(FooterKey) if key.key in ("question_mark", "q")}
            assert set(keys) == {"question_mark", "q"}, f"tab {tab}"
            for key in keys.values():
                assert app.screen.region.contains_region(key.region) and key.region.width > 0, \
                    f"tab {tab}: {key.description} at {key.region}"


async def test_compare_shows_both_models_columns_whole_at_80x24(finished_seeds: Path) -> None:
    """Five seeds make the cells wide (mean ± half the CI); the criterion wraps, so model_b's
    column ends inside the table and only the difference column scrolls."""
    app = make_app(finished_seeds)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("2")
        await pilot.pause()
        table = app.query_one("#comparison", DataTable)
        widths = [column.get_render_width(table) for column in table.columns.values()]
        assert [str(key.value) for key in table.columns][:3] == ["criterion", "model_a", "model_b"]
        assert sum(widths[:3]) <= table.scrollable_content_region.width
        assert str(table.get_cell("best_test_accuracy", "model_b")).endswith("98.346 ± 0.096%")
