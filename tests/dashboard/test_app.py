"""The dashboard as a whole (tui/app.py), driven with Textual's pilot: tab keys and focus, help, quit."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Static, TabbedContent

from mnist_dvc.core.atomic import write_json
from tests.helpers import FIXTURES, SIZE, make_app
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
