"""Snapshots of every tab on fixture data, at 80x24 and 200x60 (animations off, no clocks).

After an intended change of the look: `pytest tests/test_tui_snapshots.py --snapshot-update`,
then review the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.fixtures.runs import write_run
from tests.helpers import BIN, FIXTURES, run
from tui.app import DashboardApp
from tui.panes.backprop import BackpropPane

NARROW, WIDE = (80, 24), (200, 60)


def make_app(root: Path) -> DashboardApp:
    app = DashboardApp(root)
    app.animation_level = "none"
    return app


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "finished", root)
    return root


async def settle(pilot: Pilot) -> None:
    await pilot.pause(0.2)
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_training_finished(snap_compare: Callable, finished: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(finished), terminal_size=size, run_before=settle)


def test_training_running(snap_compare: Callable, finished: Path) -> None:
    """model_b halfway, its writer alive (this test's own process), with an ETA from the file."""
    shutil.rmtree(finished / "metrics/comparison.json", ignore_errors=True)
    write_run(finished, "model_b", 7, state="running", pid=os.getpid())
    assert snap_compare(make_app(finished), terminal_size=WIDE, run_before=settle)


def test_training_before_any_run(snap_compare: Callable) -> None:
    assert snap_compare(make_app(FIXTURES / "empty"), terminal_size=NARROW, run_before=settle)


def test_training_with_a_corrupt_file(snap_compare: Callable, finished: Path) -> None:
    async def corrupt(pilot: Pilot) -> None:
        await settle(pilot)
        progress = finished / "metrics/train/model_a/progress.json"
        progress.write_text(progress.read_text()[:40])
        pilot.app.poll()
        await settle(pilot)

    assert snap_compare(make_app(finished), terminal_size=NARROW, run_before=corrupt)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_compare(snap_compare: Callable, finished: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(finished), press=["2"], terminal_size=size, run_before=settle)


def walkthrough_at(step: int) -> Callable[[Pilot], Awaitable[None]]:
    """Open the Backprop tab once its trace exists, and step to `step` (0-based) with the keys."""

    async def go(pilot: Pilot) -> None:
        pane = pilot.app.query_one(BackpropPane)
        deadline = time.monotonic() + 10
        while pane.trace is None:
            assert time.monotonic() < deadline, "no trace"
            await pilot.pause(0.05)
        await pilot.press("3", *["right"] * (step + 1))
        assert pane.step == step
        await settle(pilot)

    return go


def test_backprop_midway(snap_compare: Callable, finished: Path) -> None:
    """The backward pass has just reached x1: its chain-rule line and the highlighted edge."""
    assert snap_compare(make_app(finished), terminal_size=NARROW, run_before=walkthrough_at(13))


def test_backprop_complete(snap_compare: Callable, finished: Path) -> None:
    assert snap_compare(make_app(finished), terminal_size=WIDE, run_before=walkthrough_at(20))


def test_pipeline_never_run(snap_compare: Callable, tmp_path: Path) -> None:
    root = tmp_path / "pipeline"
    shutil.copytree(FIXTURES / "pipeline", root)
    run(["git", "init", "-q", "-b", "main"], root)
    run([str(BIN / "dvc"), "init", "-q"], root)

    async def statuses(pilot: Pilot) -> None:
        await pilot.press("4")
        table = pilot.app.query_one("#stages", DataTable)
        deadline = time.monotonic() + 30
        while table.row_count < 2 or "checking" in str(pilot.app.query_one("#pipeline-status").render()):
            assert time.monotonic() < deadline, "dvc status did not answer"
            await pilot.pause(0.1)
        await settle(pilot)

    assert snap_compare(make_app(root), terminal_size=(100, 30), run_before=statuses)
