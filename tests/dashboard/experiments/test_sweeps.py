"""Sweeps in the Experiments tab (issue 25 item 2, and the dashboard pilot of item 4): each point of a
sweep as a row under its baseline, refreshed as its record changes, stopped with the real
sweeps.reader functions, and listed by `--once --experiments`.

The states are made without Ray and without timing: a Ray sweep's record is written with
sweeps.state's own writer (what the sweep's driver writes), its driver being this test's process
(alive, so a stop is the request a driver acts on). Seconds in all; the real cluster runs in
tests/sweeps/test_ray_sweeps.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil
from textual.widgets import DataTable, Static

from sweeps import state as st
from tests.dashboard.experiments.driving import names, open_tab
from tests.helpers import BIN, SIZE, make_app, run, wait_for
from tui.__main__ import main
from tui.experiments.screens import Confirm
from tui.experiments.sweeps import rows as sweeprows

SWEEP = "20261208-101500-abcd"
NAN = "model_a seed 42: loss became nan at epoch 1; lower train.learning_rate"


def head(root: Path) -> str:
    git = root / ".git"
    return (git / "refs" / "heads" / "main").read_text().strip() if git.is_dir() else "0" * 40


def progress(epoch: int, accuracy: float, eta_s: float = 900.0) -> st.Progress:
    return st.Progress(model="model_a", epoch=epoch, epochs=500, eta_s=eta_s, test_accuracy=accuracy,
                       seen_at=1.0, received_at=1.5)


def ray_sweep(root: Path, done: str = "p-aaaa") -> st.Sweep:
    """A Ray sweep of four points, one in each state, written as its driver writes it."""
    record = st.Sweep(
        id=SWEEP, root=str(root), executor=st.RAY, baseline=head(root),
        specs=["train.learning_rate=0.001,0.002,1e30,0.004"], address="http://127.0.0.1:8265",
        driver_pid=os.getpid(), driver_started=psutil.Process().create_time(),
        points=[
            st.PointState(index=0, name=done, overrides=["train.learning_rate=0.001"], state=st.DONE,
                          attempts=1, pulled=True),
            st.PointState(index=1, name="p-bbbb", overrides=["train.learning_rate=0.002"], state=st.RUNNING,
                          attempts=1, jobs=["j-1"], job_status="RUNNING", progress=progress(41, 0.9712)),
            st.PointState(index=2, name="p-cccc", overrides=["train.learning_rate=1e30"], state=st.FAILED,
                          attempts=1, error=NAN),
            st.PointState(index=3, name="p-dddd", overrides=["train.learning_rate=0.004"]),
        ])
    st.save(record)
    log = st.log_path(root, SWEEP, "p-bbbb", 1)
    log.parent.mkdir(parents=True)
    log.write_text("Running stage 'train@model_a':\n")
    return record


def row(app: object, point: str) -> dict[str, str]:
    table = app.query_one("#sweep-table", DataTable)
    key = f"{SWEEP}/{point}" if point else SWEEP
    return {column: str(table.get_cell(key, column)) for column in sweeprows.COLUMNS}


def shown(app: object) -> list[str]:
    return [key.value for key in app.query_one("#sweep-table", DataTable).rows]


async def test_each_point_is_a_row_under_its_baseline_refreshed_as_its_record_changes(
        experiments_copy: Path) -> None:
    record = ray_sweep(experiments_copy, done="wide")  # a done point pulled here: `wide` is an experiment
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        await wait_for(pilot, lambda: len(shown(app)) == 5, what="the sweep's rows")
        assert shown(app) == [SWEEP, *(f"{SWEEP}/{p.name}" for p in record.points)]
        assert row(app, "")["point"] == f"▾ baseline {record.baseline[:7]}"
        assert row(app, "")["state"] == "4 points: 1 running, 1 queued, 1 done, 1 failed"
        assert row(app, "wide")["state"] == "done · in the runs table" and "wide" in names(app)
        assert row(app, "p-bbbb") == {"point": "  p-bbbb", "params": "train.learning_rate=0.002",
                                      "state": "running model_a", "epoch": "41/500", "ETA": "15 min",
                                      "test acc": "0.9712"}
        assert row(app, "p-cccc")["state"] == f"failed: {NAN}"
        assert row(app, "p-dddd")["state"] == "queued" and row(app, "p-dddd")["epoch"] == ""
        # the driver rewrites sweep.json: the next epoch, a point started, another done
        record.points[1].progress = progress(42, 0.9730, eta_s=60)
        record.points[3].state, record.points[3].progress = st.RUNNING, progress(1, 0.91)
        st.save(record)
        await wait_for(pilot, lambda: row(app, "p-bbbb")["epoch"] == "42/500", what="the next epoch")
        assert row(app, "p-bbbb")["test acc"] == "0.9730" and row(app, "p-bbbb")["ETA"] == "60 s"
        await wait_for(pilot, lambda: row(app, "p-dddd")["state"] == "running model_a", what="p-dddd started")
        record.points[1].state, record.points[1].progress = st.DONE, None
        st.save(record)
        await wait_for(pilot, lambda: row(app, "p-bbbb")["state"].startswith("done"), what="p-bbbb done")
        assert row(app, "p-bbbb")["state"] == "done, on the remotes (p: pull it)", "not an experiment here"
        assert row(app, "p-bbbb")["epoch"] == ""


async def test_p_pulls_a_done_point_from_the_git_remote_and_it_becomes_an_ordinary_row(
        experiments_copy: Path) -> None:
    """A Ray sweep's point pushed to the git remote (as its job does) and not here: `p` runs
    `dvc exp pull origin NAME`, and the runs table lists it as any experiment."""
    remote = experiments_copy.parent / "remote.git"
    run(["git", "init", "-q", "--bare", str(remote)], experiments_copy)
    run(["git", "remote", "add", "origin", str(remote)], experiments_copy)
    run(["git", "push", "-q", "origin", "main"], experiments_copy)
    run([str(BIN / "dvc"), "exp", "push", "--no-cache", "origin", "wide"], experiments_copy)
    run([str(BIN / "dvc"), "exp", "remove", "wide"], experiments_copy)
    record = ray_sweep(experiments_copy, done="wide")
    record.points[0].pulled = False
    st.save(record)
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        await wait_for(pilot, lambda: len(shown(app)) == 5, what="the sweep's rows")
        assert row(app, "wide")["state"] == "done, on the remotes (p: pull it)" and "wide" not in names(app)
        table = app.query_one("#sweep-table", DataTable)
        table.focus()
        table.move_cursor(row=shown(app).index(f"{SWEEP}/wide"))
        await pilot.press("p")
        await wait_for(pilot, lambda: row(app, "wide")["state"] == "done · in the runs table", what="pulled")
        await wait_for(pilot, lambda: "wide" in names(app), what="wide in the runs table")


async def test_the_stop_keys_say_what_happens_then_stop_with_the_sweeps_own_functions(tmp_path: Path) -> None:
    ray_sweep(tmp_path)  # a folder that is no repository: the runs table stays empty, the sweep shows
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await wait_for(pilot, lambda: len(shown(app)) == 5, what="the sweep's rows")
        table = app.query_one("#sweep-table", DataTable)
        table.focus()
        table.move_cursor(row=shown(app).index(f"{SWEEP}/p-cccc"))
        await pilot.pause()
        assert str(app.query_one("#sweep-status", Static).render()) == \
            f"p-cccc: train.learning_rate=1e30 · {NAN}"
        await pilot.press("x")
        assert not isinstance(app.screen, Confirm), "a failed point: nothing to stop, no question"
        table.move_cursor(row=shown(app).index(f"{SWEEP}/p-bbbb"))
        await pilot.press("x")
        assert isinstance(app.screen, Confirm)
        assert app.screen.question == (
            f"Stop point p-bbbb (train.learning_rate=0.002) of sweep {SWEEP}? Its Ray job is stopped; the "
            "point is marked failed (\"stopped\") and nothing of it is pushed. The sweep's driver acts on it "
            "within a second. The other points go on.")
        await pilot.press("y")
        await wait_for(pilot, lambda: st.stop_requests(tmp_path, SWEEP) == {"p-bbbb"}, what="the request")
        table.move_cursor(row=0)
        await pilot.press("X")
        assert isinstance(app.screen, Confirm) and app.screen.question.startswith(
            f"Stop the whole sweep {SWEEP} (4 points)? Its 1 running job(s) are stopped on the cluster and "
            "its 1 queued point(s) never run;")
        await pilot.press("n")
        assert st.stop_requests(tmp_path, SWEEP) == {"p-bbbb"}, "no: nothing stopped"
        await pilot.press("X", "y")
        await wait_for(pilot, lambda: st.STOP_ALL in st.stop_requests(tmp_path, SWEEP), what="the sweep stop")


def test_a_failed_point_is_one_line_whatever_its_error_holds(tmp_path: Path) -> None:
    record = ray_sweep(tmp_path)
    record.points[2].error = "dvc exp push failed:\n  ERROR: unexpected error -\n  connection refused"
    st.save(record)
    listed = sweeprows.rows(sweeprows.read(tmp_path))
    failed = next(r for r in listed if r.point == "p-cccc")
    assert failed.cells[2] == "failed: dvc exp push failed: ERROR: unexpected error - connection refused"
    assert failed.cells[3:] == ("", "", "")


def test_once_experiments_lists_the_sweep_after_the_runs(experiments_copy: Path, capsys: object) -> None:
    ray_sweep(experiments_copy)
    assert main(["--once", "--experiments", "--root", str(experiments_copy)]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("Sweeps")
    assert "wide" in "\n".join(out[:at]), "the runs first"
    assert out[at + 1].startswith(f"sweep {SWEEP} (Ray at http://127.0.0.1:8265, baseline ")
    assert out[at + 2:] == [
        "  p-aaaa  train.learning_rate=0.001  done",
        "  p-bbbb  train.learning_rate=0.002  running model_a epoch 41/500, test acc 0.9712, ETA 15 min",
        f"  p-cccc  train.learning_rate=1e30   failed: {NAN}",
        "  p-dddd  train.learning_rate=0.004  queued",
    ]
