"""The kill dialog and its outcome say what really happens where the run is (issue 22.5): in the
workspace Ctrl-C leaves a checkpoint that `dvc repro` resumes from; a queue worker's temporary
copy is discarded by DVC with its checkpoint. The runs come from the tab's cached table in a
folder that is no DVC repository (so no collection replaces them)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.dashboard.experiments.driving import cursor_to, pane
from tests.helpers import SIZE, make_app, wait_for
from tui.experiments.collect import CACHE, ExpTable, save_cached
from tui.experiments.screens import Confirm
from tui.ground.runs import RUNNING, WORKSPACE, Run


def running_runs(root: Path) -> None:
    (root / CACHE).parent.mkdir(parents=True)
    save_cached(root, ExpTable((
        Run(WORKSPACE, WORKSPACE, "workspace", "workspace", WORKSPACE, RUNNING, folder=str(root), pid=1),
        Run("q1", "a" * 40, "queued-one", "experiment", "b" * 40, RUNNING, executor="dvc-task",
            folder=str(root / ".dvc/tmp/exps/tmp1")),
    )))


async def test_the_kill_dialog_says_what_happens_to_the_checkpoint(tmp_path: Path) -> None:
    running_runs(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        tab = pane(app)
        await wait_for(pilot, lambda: tab.table is not None and not tab.collecting, what="the cached runs")
        await cursor_to(pilot, "queued-one")
        await pilot.press("x")
        assert isinstance(app.screen, Confirm)
        said = str(app.screen.query_one(Static).render())
        assert said.startswith(
            "Stop `queued-one` (`dvc queue kill`)? It runs in a queue worker's temporary copy, which "
            "DVC discards with its checkpoint: run again, it starts from epoch 1.")
        assert "resumes" not in said
        await pilot.press("n")
        await cursor_to(pilot, "workspace")
        await pilot.press("x")
        assert isinstance(app.screen, Confirm)
        assert str(app.screen.query_one(Static).render()).startswith(
            "Stop `workspace` (Ctrl-C)? It runs in the workspace: training saves a checkpoint there, "
            "and `dvc repro` resumes from it.")
        await pilot.press("n")
