"""tui.ground.jobs without a dashboard: the background jobs' files, refusals and the log follower
(no Textual)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_dvc.core.atomic import write_json
from tui.ground import jobs


def ended_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def write_state(root: Path, pid: int, started_at: str = "2025-01-01T12:00:00+00:00") -> None:
    write_json(root / jobs.STATE, {"pid": pid, "command": ["/venv/bin/dvc", "repro", "hold"],
                                    "started_at": started_at})


def test_repro_needs_a_dvc_repository(tmp_path: Path) -> None:
    with pytest.raises(jobs.ReproError, match=r"not a DVC repository \(no \.dvc folder\); run `dvc init`"):
        jobs.start(tmp_path)
    assert jobs.current(tmp_path) is None


def test_a_second_repro_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    write_state(tmp_path, os.getpid())
    with pytest.raises(jobs.ReproError, match=rf"already running \(pid {os.getpid()}\)"):
        jobs.start(tmp_path)


def test_the_last_repro_is_read_from_its_files(tmp_path: Path) -> None:
    pid = ended_pid()
    write_state(tmp_path, pid)
    run = jobs.current(tmp_path)
    assert run is not None
    assert (run.pid, run.label, run.returncode) == (pid, "dvc repro hold", None)
    assert not run.running and run.outcome == "ended without an exit status (killed?)"
    write_json(tmp_path / jobs.EXIT, {"pid": pid + 1, "returncode": 0})
    assert jobs.current(tmp_path).returncode is None, "the exit file of another run"
    write_json(tmp_path / jobs.EXIT, {"pid": pid, "returncode": 2})
    assert jobs.current(tmp_path).outcome == "failed (exit 2)"


@pytest.mark.parametrize("state", ["", '{"pid": 12', "[1, 2]", '{"pid": "12"}', "\xff\xfe"])
def test_a_damaged_state_file_means_no_repro(tmp_path: Path, state: str) -> None:
    (tmp_path / jobs.STATE).parent.mkdir(parents=True)
    (tmp_path / jobs.STATE).write_bytes(state.encode("latin-1"))
    assert jobs.current(tmp_path) is None


def test_the_log_is_read_as_it_grows(tmp_path: Path) -> None:
    log = tmp_path / jobs.LOG
    log.parent.mkdir(parents=True)
    write_state(tmp_path, os.getpid())
    run = jobs.current(tmp_path)
    follower = jobs.LogFollower(tmp_path)
    assert follower.read(run) == (True, []), "no log yet"
    log.write_bytes(b"$ dvc repro\nRunning stage 'greet':\n> python st")
    assert follower.read(run) == (False, ["$ dvc repro", "Running stage 'greet':"])
    assert follower.read(run) == (False, [])
    with log.open("ab") as handle:
        handle.write("age.py greet\n\x1b[32mdone\x1b[0m ━".encode()[:-1])  # ends inside a character
    assert follower.read(run) == (False, ["> python stage.py greet"])
    with log.open("ab") as handle:
        handle.write("━".encode()[-1:] + "━ ok\nepoch 1 10%\repoch 1 100%\n".encode())
    assert follower.read(run) == (False, ["done ━━ ok", "epoch 1 100%"])
    log.write_text("$ dvc repro hold\n")
    write_state(tmp_path, os.getpid(), started_at="2025-01-01T13:00:00+00:00")
    assert follower.read(jobs.current(tmp_path)) == (True, ["$ dvc repro hold"]), "a new run, from its start"
