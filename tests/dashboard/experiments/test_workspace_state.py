"""The workspace row's state follows a training in the workspace (its progress.json, a live process),
as the Training tab does: "running" while it trains, "done" once it is not."""

from __future__ import annotations

import os
from pathlib import Path

from tests.dashboard.experiments.driving import cell, open_tab, pane
from tests.fixtures.runs import write_run
from tests.helpers import SIZE, make_app, wait_for
from tui.ground.runs import WORKSPACE


async def test_the_workspace_row_says_running_while_a_run_trains_in_it(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        assert cell(app, WORKSPACE, "state") == "done"
        # a training in the workspace: its progress.json names this test's live process
        write_run(experiments_copy, "model_a", 3, epochs=12, state="running", pid=os.getpid())
        await wait_for(pilot, lambda: WORKSPACE in pane(app).progress, what="the workspace's training read")
        await pilot.pause()
        assert cell(app, WORKSPACE, "state") == "running"
        write_run(experiments_copy, "model_a", 12, epochs=12, state="finished", pid=os.getpid())
        await wait_for(pilot, lambda: WORKSPACE not in pane(app).progress, what="the training ended")
        await pilot.pause()
        assert cell(app, WORKSPACE, "state") == "done"
