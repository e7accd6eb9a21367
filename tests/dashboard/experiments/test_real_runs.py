"""Real tiny trainings run, queued, killed and followed from the dashboard (slow).

One tiny copy of the project is trained by `r` on the Pipeline tab, as a user would (what the
tabs showed of it is checked by the first test), and committed; then each test trains one tiny
experiment in it: queued and followed live, queued and killed, run now in the workspace while the
Pipeline tab shows its stage. Each experiment changes only model_a's layers (or the epochs), so
DVC trains only what it changes. A training is stopped (SIGSTOP) as soon as it starts while the
tabs are checked, so the run cannot end before the test has looked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Log, ProgressBar, Static

from tests.dashboard.experiments.driving import cell, cursor_to, launch, live, open_tab, pane, state_of
from tests.helpers import BIN, SIZE, TINY, make_app, new_project, run, text, wait_for
from tui.experiments.screens import Confirm
from tui.ground import jobs
from tui.ground.process import pid_alive
from tui.ground.runs import DONE, FAILED, QUEUED, RUNNING, live_progress
from tui.pipeline.pane import PipelinePane
from tui.training.widgets import ModelPanel


@dataclass
class Trained:
    """The trained project, and what the dashboard showed while its Pipeline tab trained it."""

    repo: Path
    returncode: int | None = None
    log: str = ""
    statuses: dict[str, str] = field(default_factory=dict)
    panels: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # subtitle, run line, bar


def stage_statuses(app: object) -> dict[str, str]:
    table = app.query_one("#stages", DataTable)
    return {key.value: str(table.get_cell(key, "status")) for key in table.rows}


async def train_from_the_pipeline_tab(project: Trained) -> None:
    """`r` on the Pipeline tab: the real `dvc repro` in the background, followed to its end."""
    app = make_app(project.repo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.query_one("#stages", DataTable)
        await wait_for(pilot, lambda: table.row_count >= 4, what="the stage list")
        await pilot.press("r")
        tab = app.query_one(PipelinePane)
        await wait_for(pilot, lambda: tab.running, what="the repro to start")
        await wait_for(pilot, lambda: not tab.running, timeout=900, what="the repro to finish")
        project.returncode = jobs.current(project.repo).returncode
        project.log = "\n".join(app.query_one("#repro-log", Log).lines)
        await wait_for(pilot, lambda: set(stage_statuses(app).values()) == {"up to date"},
                       what="every stage up to date")
        project.statuses = stage_statuses(app)
        await pilot.press("1")
        for model in ("model_a", "model_b"):
            panel = app.query_one(f"#panel-{model}", ModelPanel)
            await wait_for(pilot, lambda p=panel: p.border_subtitle == "finished", what=f"{model} finished")
            line = str(panel.query_one(".run-line", Static).render())
            project.panels[model] = (panel.border_subtitle, line, panel.query_one(ProgressBar).progress)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, shared_dvc_cache: Path, mnist_mirror: Path,
            ) -> Iterator[Trained]:
    """The project, tiny, trained from the Pipeline tab and committed: experiments train only what they
    change. Afterwards the queue workers the tests started are stopped, with any task they still run."""
    project = Trained(new_project(tmp_path_factory.mktemp("trained") / "repo", shared_dvc_cache, TINY))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MNIST_MIRROR", str(mnist_mirror))
        asyncio.run(train_from_the_pipeline_tab(project))
    assert project.returncode == 0, project.log
    run(["git", "add", "-A"], project.repo)
    run(["git", "commit", "-q", "-m", "tiny run"], project.repo)
    yield project
    run([str(BIN / "dvc"), "queue", "stop", "--kill"], project.repo, check=False)


@pytest.fixture
def mirror_env(mnist_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_MIRROR", str(mnist_mirror))


def queue_copies(repo: Path) -> list[Path]:
    """The temporary copies DVC's queue workers run experiments in."""
    return sorted((repo / ".dvc/tmp/exps").glob("tmp*"))


@contextlib.asynccontextmanager
async def frozen_once_training(pilot: Pilot, folders: Callable[[], Iterable[Path]]) -> AsyncIterator[None]:
    """As soon as a training starts in one of `folders` (its progress.json says running, before its
    first epoch), stop it (SIGSTOP) until the block ends (SIGCONT): the run cannot end while the
    tabs are looked at, so nothing races it."""
    found: list[int] = []

    def started() -> bool:
        found[:] = [p.pid for folder in folders() for p in live_progress(folder).values()
                    if p.state == RUNNING and pid_alive(p.pid)]
        return bool(found)

    await wait_for(pilot, started, timeout=300, what="a training to start")
    os.kill(found[0], signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(found[0], signal.SIGCONT)


async def queue_and_start(pilot: Pilot, values: dict[str, str], name: str) -> None:
    """Queue a run from the form and have a queue worker take it: one is started (w) unless one still
    alive from an earlier run took it already (DVC's worker idles a while before it exits)."""
    app = pilot.app
    await open_tab(pilot)
    await launch(pilot, values, name, "ctrl+e")
    await wait_for(pilot, lambda: state_of(app, name) in (QUEUED, RUNNING), what="queued")
    if state_of(app, name) == QUEUED:
        await pilot.press("w", "enter")


@pytest.mark.slow
def test_a_repro_from_the_pipeline_tab_trains_the_real_pipeline(trained: Trained) -> None:
    """What the dashboard showed while `r` on its Pipeline tab trained the project."""
    assert trained.returncode == 0, trained.log
    assert set(trained.statuses.values()) == {"up to date"} and len(trained.statuses) >= 4
    for subtitle, line, progress in trained.panels.values():
        assert subtitle == "finished" and line.startswith("finished · epoch 2/2 · ") and progress == 2
    assert set(trained.panels) == {"model_a", "model_b"}


@pytest.mark.slow
@pytest.mark.usefixtures("mirror_env")
async def test_a_queued_run_trains_live_and_appears_with_its_metrics(trained: Trained) -> None:
    app = make_app(trained.repo)
    async with app.run_test(size=(160, 45)) as pilot:
        await queue_and_start(pilot, {"models.model_a.hidden": "[24]"}, "q-real")
        async with frozen_once_training(pilot, lambda: queue_copies(trained.repo)):
            await wait_for(pilot, lambda: state_of(app, "q-real") == RUNNING, what="running")
            await cursor_to(pilot, "q-real")
            run_ = next(r for r in pane(app).table.runs if r.name == "q-real")
            assert run_.folder and ".dvc/tmp/exps/" in run_.folder
            await wait_for(pilot, lambda: " epoch " in live(app, "q-real"), what="live progress")
            shown = live(app, "q-real")
            assert shown.startswith("model_a epoch ") and "/2 · " in shown
            await wait_for(pilot, lambda: app.following is not None, what="the Training tab following q-real")
            assert app.training is not None and app.training.root == Path(run_.folder)
            await pilot.press("1")
            assert text(app, "#training-following").startswith("Following experiment q-real, running in ")
            await pilot.press("5")
        await wait_for(pilot, lambda: state_of(app, "q-real") == DONE, timeout=400, what="q-real done")
        await wait_for(pilot, lambda: app.following is None, what="back to the workspace")
        done = next(r for r in pane(app).table.runs if r.name == "q-real")
        accuracy = "model_a.acc"
        assert 0 < done.metrics[accuracy] <= 1 and done.params["models.model_a.hidden"] == [24]
        assert cell(app, "q-real", f"metric:{accuracy}") not in ("–", "")
        main = pane(app).table.runs[1]
        assert done.metrics[accuracy] != main.metrics[accuracy], "it trained: not the baseline's result"


@pytest.mark.slow
@pytest.mark.usefixtures("mirror_env")
async def test_a_killed_run_shows_as_failed_and_its_training_stops(trained: Trained) -> None:
    app = make_app(trained.repo)
    async with app.run_test(size=(160, 45)) as pilot:
        await queue_and_start(pilot, {"train.seed": "13", "train.epochs": "5000"}, "q-kill")
        await wait_for(pilot, lambda: state_of(app, "q-kill") == RUNNING, timeout=300, what="running")
        await wait_for(pilot, lambda: live(app, "q-kill").startswith("model_a epoch ")
                       and " epoch 0/" not in live(app, "q-kill"), timeout=180, what="an epoch")
        key = next(r.key for r in pane(app).table.runs if r.name == "q-kill")
        trainers = [p.pid for p in pane(app).progress[key].values() if p.state == RUNNING]
        assert trainers
        await cursor_to(pilot, "q-kill")
        await pilot.press("x")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "q-kill") == FAILED, what="failed")
        assert cell(app, "q-kill", "state") == FAILED
    assert not any(pid_alive(pid) for pid in trainers), "the training outlived its experiment"


@pytest.mark.slow
@pytest.mark.usefixtures("mirror_env")
async def test_run_now_in_the_workspace_while_the_pipeline_tab_shows_its_stage(trained: Trained) -> None:
    app = make_app(trained.repo)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_tab(pilot)
        await launch(pilot, {"models.model_a.hidden": "[40]"}, "now-real", "ctrl+r")
        assert jobs.current(trained.repo, jobs.EXP_RUN).running
        status = app.query_one("#pipeline-status", Static)
        stages = app.query_one("#stages", DataTable)

        def training_shown() -> bool:
            return any(str(stages.get_cell(key, "status")) == "running"
                       and " epoch " in str(stages.get_cell(key, "details")) for key in stages.rows)

        async with frozen_once_training(pilot, lambda: [trained.repo]):
            await wait_for(pilot, lambda: state_of(app, "now-real") == RUNNING, what="running")
            await pilot.press("4")
            await wait_for(pilot, training_shown, timeout=180, what="the running stage and its epoch")
            assert str(status.render()).startswith("Another dvc command runs here (pid ")
            assert "dvc exp run" in str(status.render()) and "is busy" not in str(status.render())
        await pilot.press("5")
        await wait_for(pilot, lambda: state_of(app, "now-real") == DONE, timeout=600, what="done")
        await pilot.press("4")
        await wait_for(pilot, lambda: "Another dvc command" not in str(status.render()), timeout=120,
                       what="the statuses again")
    assert jobs.current(trained.repo, jobs.EXP_RUN).returncode == 0
