"""Pipeline tab (tui/pipeline/) with the real dvc: its text, a snapshot, then repros (slow) of a
two-stage fixture pipeline. The real pipeline is trained from this tab by the fixture of
tests/dashboard/experiments/test_real_runs.py, which checks what the tab showed."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Log

from tests.helpers import (
    BIN,
    FIXTURES,
    SIZE,
    make_app,
    run,
    settle,
    snapshot_app,
    text,
    wait_for,
)
from tui.app import DashboardApp
from tui.ground import jobs
from tui.ground.process import pid_alive
from tui.pipeline import stages
from tui.pipeline.pane import PipelinePane
from tui.pipeline.text import NO_REPRO, repro_line
from tui.screens import ConfirmQuit


def git_dvc_repo(source: Path, target: Path) -> Path:
    """A git + DVC repository holding a copy of `source`, committed."""
    shutil.copytree(source, target)
    run(["git", "init", "-q", "-b", "main"], target)
    run([str(BIN / "dvc"), "init", "-q"], target)
    run(["git", "add", "-A"], target)
    run(["git", "commit", "-q", "-m", "init"], target)
    return target


def stage_statuses(app: DashboardApp) -> dict[str, str]:
    table = app.query_one("#stages", DataTable)
    return {key.value: str(table.get_cell(key, "status")) for key in table.rows}


def test_the_repro_line() -> None:
    run = jobs.ReproRun(pid=4242, command=("/venv/bin/dvc", "repro", "hold"),
                        started_at="2025-01-01T12:00:00+00:00", returncode=None)
    started = run.started
    assert repro_line(run, running=True) == f"dvc repro hold: running (pid 4242, started {started})"
    ended = jobs.ReproRun(pid=os.getpid(), command=("/venv/bin/dvc", "repro"), started_at=run.started_at,
                          returncode=1)
    assert repro_line(ended, running=False) == f"dvc repro: failed (exit 1) (started {started})"


def test_pipeline_never_run(snap_compare: Callable, tmp_path: Path) -> None:
    root = tmp_path / "pipeline"
    shutil.copytree(FIXTURES / "pipeline", root)
    run(["git", "init", "-q", "-b", "main"], root)
    run([str(BIN / "dvc"), "init", "-q"], root)

    async def statuses(pilot: Pilot) -> None:
        await pilot.press("4")
        await wait_for(pilot, lambda: stage_statuses(pilot.app) == {"greet": "never run", "hold": "never run"}
                       and "checking" not in text(pilot.app, "#pipeline-status"),
                       what="dvc status")
        await settle(pilot)

    assert snap_compare(snapshot_app(root), terminal_size=(100, 30), run_before=statuses)


@pytest.mark.slow
async def test_repro_runs_in_the_background_once_and_outlives_the_dashboard(tmp_path: Path) -> None:
    root = git_dvc_repo(FIXTURES / "pipeline", tmp_path / "pipeline")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: stage_statuses(app) == {"greet": "never run", "hold": "never run"},
                       what="dvc status of a fresh pipeline")
        await pilot.press("r")
        pane = app.query_one(PipelinePane)
        await wait_for(pilot, lambda: pane.running, what="the repro to start")
        log = app.query_one("#repro-log", Log)
        await wait_for(pilot, lambda: "holding until ./release exists" in "\n".join(log.lines),
                       what="the hold stage's output in the log")
        assert stage_statuses(app) == {"greet": "done", "hold": "running"}
        pid = pane.run.pid
        await pilot.press("r")
        assert pane.run.pid == pid and jobs.current(root).pid == pid, "a second repro was started"
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        assert app.is_running and not isinstance(app.screen, ConfirmQuit)
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running
    assert pid_alive(pid) and jobs.current(root).running, "quitting the dashboard stopped the repro"
    (root / "release").touch()
    deadline = time.monotonic() + 60  # a guard: the runner writes its exit status once dvc has ended
    while jobs.current(root).returncode is None:
        assert time.monotonic() < deadline, "the repro did not finish"
        time.sleep(0.1)
    assert jobs.current(root).returncode == 0
    assert (root / "out/held.txt").read_text() == "released\n"

    again = make_app(root)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: stage_statuses(again) == {"greet": "up to date", "hold": "up to date"},
                       what="up-to-date statuses after the repro")
        assert text(again, "#pipeline-status").startswith("dvc repro: finished (started ")
        assert "Updating lock file 'dvc.lock'" in "\n".join(again.query_one("#repro-log", Log).lines)


@pytest.mark.slow
async def test_a_stage_repro_and_its_stop_key(tmp_path: Path) -> None:
    root = git_dvc_repo(FIXTURES / "pipeline", tmp_path / "pipeline")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.query_one("#stages", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2, what="the stage list")
        await pilot.press("down", "s")
        pane = app.query_one(PipelinePane)
        await wait_for(pilot, lambda: pane.running, what="the repro to start")
        assert pane.run.label == "dvc repro hold"
        await wait_for(pilot, lambda: stage_statuses(app).get("hold") == "running", what="hold running")
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running, what="the repro to stop")
        assert jobs.current(root).returncode not in (None, 0)
        assert "failed (exit" in text(app, "#pipeline-status")


async def test_another_dvc_holding_the_lock_shows_its_stage_and_progress(tmp_path: Path) -> None:
    """While another dvc process (here: a lock file naming this test's live process) writes a stage's
    outputs, the tab shows that stage running with its training progress, not dvc's lock error."""
    from tests.fixtures.runs import write_run

    root = git_dvc_repo(FIXTURES / "pipeline", tmp_path / "pipeline")
    write_run(root, "model_a", 3, epochs=12, state="running", pid=os.getpid())
    info = {"pid": os.getpid(), "cmd": "dvc exp run -S train.epochs=12"}
    (root / stages.RWLOCK).parent.mkdir(parents=True, exist_ok=True)
    (root / stages.RWLOCK).write_text(json.dumps({"write": {str(root / "metrics/train/model_a"): info,
                                                     str(root / "out/greeting.txt"): info}}))
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: stage_statuses(app).get("train@model_a") == "running",
                       what="the locked stage as running")
        table = app.query_one("#stages", DataTable)
        details = str(table.get_cell("train@model_a", "details"))
        assert details.startswith("model_a epoch 3/12 · ETA 7.20 s · test accuracy ")
        assert details.endswith("%")
        assert stage_statuses(app)["out/greeting.txt"] == "running"
        status = text(app, "#pipeline-status")
        assert status.startswith(f"Another dvc command runs here (pid {os.getpid()}: dvc exp run -S "
                                 "train.epochs=12); running: train@model_a, out/greeting.txt.")
        assert "is busy" not in status and NO_REPRO not in status
        write_run(root, "model_a", 4, epochs=12, state="running", pid=os.getpid())
        await wait_for(pilot, lambda: "epoch 4/12" in str(table.get_cell("train@model_a", "details")),
                       what="the next epoch")
        (root / stages.RWLOCK).write_text('{"write": {}}')
        await wait_for(pilot, lambda: stage_statuses(app) == {"greet": "never run", "hold": "never run"},
                       what="dvc status once the lock is released")
        assert not text(app, "#pipeline-status").startswith("Another dvc command")


async def test_a_dvc_command_started_after_the_tab_opened_is_followed(tmp_path: Path) -> None:
    """A repro started in a terminal (or an experiment the dashboard runs in the workspace) once the
    tab has checked its statuses: the tab follows its lock and never says no repro is running."""
    root = git_dvc_repo(FIXTURES / "pipeline", tmp_path / "pipeline")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: stage_statuses(app) == {"greet": "never run", "hold": "never run"},
                       what="the first dvc status")
        assert text(app, "#pipeline-status").startswith(NO_REPRO)
        info = {"pid": os.getpid(), "cmd": "dvc repro"}
        (root / stages.RWLOCK).parent.mkdir(parents=True, exist_ok=True)
        (root / stages.RWLOCK).write_text(json.dumps({"write": {str(root / "out/greeting.txt"): info}}))
        another = "Another dvc command runs here"
        await wait_for(pilot, lambda: text(app, "#pipeline-status").startswith(another),
                       what="the lock followed")
        status = text(app, "#pipeline-status")
        assert NO_REPRO not in status
        assert f"(pid {os.getpid()}: dvc repro); running: out/greeting.txt" in status
        assert stage_statuses(app)["out/greeting.txt"] == "running"
        (root / stages.RWLOCK).write_text('{"write": {}}')
        await wait_for(pilot, lambda: stage_statuses(app) == {"greet": "never run", "hold": "never run"},
                       what="dvc status once the lock is released")
        assert text(app, "#pipeline-status").startswith(NO_REPRO)
