"""Every tab at the smallest terminal the dashboard is laid out for (80x24) and at a large one
(200x50): snapshots, each asserting that the tab is open and that `? Help` and `q Quit` are
whole on screen. The tabs' own folders hold the other snapshots (80x24 of Training, Compare,
Backprop and Errors among them)."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent
from textual.widgets._footer import FooterKey

from tests.dashboard.experiments.driving import cursor_to, names, open_tab
from tests.helpers import BIN, FIXTURES, NARROW, run, settle, snapshot_app, text, wait_for
from tui.errors.pane import ErrorsPane
from tui.ground.runs import WORKSPACE

LARGE = (200, 50)
TABS = {"1": "training", "2": "compare", "3": "backprop", "4": "pipeline", "5": "experiments", "6": "errors"}


def keys_in_view(pilot: Pilot, tab: str) -> None:
    app = pilot.app
    assert app.query_one(TabbedContent).active == TABS[tab]
    keys = [key for key in app.screen.query(FooterKey) if key.key in ("question_mark", "q")]
    assert sorted(key.description for key in keys) == ["Help", "Quit"]
    assert all(app.screen.region.contains_region(key.region) for key in keys), "help and quit cut"


def opened(tab: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        if tab == "5":
            await open_tab(pilot)
            await cursor_to(pilot, WORKSPACE, "run")
            await pilot.press("s")  # by name: DVC lists experiments saved in the same second in any order
            assert names(pilot.app)[-1] == WORKSPACE
        elif tab == "4":
            await pilot.press("4")
            table = pilot.app.query_one("#stages", DataTable)
            await wait_for(pilot, lambda: table.row_count == 2
                           and "checking" not in text(pilot.app, "#pipeline-status"), what="dvc status")
        elif tab == "6":
            await pilot.press("6")
            pane = pilot.app.query_one(ErrorsPane)
            await wait_for(pilot, lambda: pane.errors is not None, what="the predictions")
        else:
            await pilot.press(tab)
        await settle(pilot)
        keys_in_view(pilot, tab)

    return run_before


def project(tab: str, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A project each tab has something to show in: the finished run with its predictions, a
    pipeline never run, a repository of experiments."""
    if tab == "5":
        return request.getfixturevalue("experiments_copy")
    if tab == "4":
        root = tmp_path / "pipeline"
        shutil.copytree(FIXTURES / "pipeline", root)
        run(["git", "init", "-q", "-b", "main"], root)
        run([str(BIN / "dvc"), "init", "-q"], root)
        return root
    return request.getfixturevalue("errors_project")


@pytest.mark.parametrize(("tab", "size"), [
    *(("4", NARROW), ("5", NARROW)),
    *((tab, LARGE) for tab in TABS),
], ids=lambda item: TABS.get(item, "x".join(map(str, item))) if isinstance(item, (str, tuple)) else None)
def test_every_tab(snap_compare: Callable, request: pytest.FixtureRequest, tmp_path: Path, tab: str,
                   size: tuple[int, int]) -> None:
    root = project(tab, request, tmp_path)
    assert snap_compare(snapshot_app(root), terminal_size=size, run_before=opened(tab))
