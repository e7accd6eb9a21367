"""tui.dvc: running the venv's dvc as argument lists, and reading what it says (no Textual)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import BIN, FIXTURES, run
from tui import dvc

# What `dvc repro` printed for the fixture pipeline (tests/fixtures/pipeline), colours included.
REPRO_LOG = [
    "$ dvc repro    # started 2025-01-01T12:00:00+00:00",
    "\x1b[33mStage 'greet' didn't change, skipping\x1b[39m",
    "Running stage 'hold':",
    "> python stage.py hold",
    "holding until ./release exists",
]


def test_dvc_status_entries_read_as_one_line() -> None:
    entries = [{"changed deps": {"stages/train.py": "modified", "params.yaml": "new"}},
               {"changed outs": {"models/model_a.keras": "deleted"}}, "always changed"]
    assert dvc.describe(entries) == (
        "deps: stages/train.py (modified), params.yaml (new); "
        "outs: models/model_a.keras (deleted); always changed"
    )
    assert dvc.describe([{"changed checksum": "abc"}]) == "checksum: abc"
    assert dvc.describe([]) == ""


def test_a_busy_dvc_is_explained() -> None:
    busy = (
        "ERROR: '/p/metrics/train/model_b' is busy, it is being blocked by:\n"
        "  (PID 23202): /p/.venv/bin/dvc repro evaluate\n\n"
        "If there are no processes with such PIDs, you can manually remove '/p/.dvc/tmp/rwlock'"
        " and try again.\n"
    )
    assert dvc.last_line(busy) == (
        "another dvc command is running: (PID 23202): /p/.venv/bin/dvc repro evaluate; "
        "press u once it has ended"
    )


@pytest.mark.parametrize(
    ("output", "line"),
    [
        ("Building stages\nERROR: dvc.yaml: stage 'x' has no cmd\nhint",
         "ERROR: dvc.yaml: stage 'x' has no cmd"),
        ("\x1b[31mERROR\x1b[39m: failed to reproduce 'train'\n", "ERROR: failed to reproduce 'train'"),
        ("first\nsecond line  \n\n", "second line"),
        ("", "no output"),
    ],
)
def test_the_line_that_tells_why_dvc_failed(output: str, line: str) -> None:
    assert dvc.last_line(output) == line


def test_status_json_skips_what_dvc_prints_before_it() -> None:
    out = 'WARNING: something about the cache\n{"train": [{"changed deps": {"params.yaml": "modified"}}]}\n'
    assert dvc.status_json(0, out) == {"train": [{"changed deps": {"params.yaml": "modified"}}]}
    assert dvc.status_json(0, "{}") == {}


@pytest.mark.parametrize(
    ("code", "out", "message"),
    [
        (1, "ERROR: unexpected error - dvc.yaml is broken\n", "dvc status failed: ERROR: unexpected error"),
        (0, "Data and pipelines are up to date.\n", "dvc status failed: Data and pipelines are up to date."),
        (0, '{"train": [', "dvc status failed: {\"train\": ["),
        (0, "[1, 2]", "dvc status failed: [1, 2]"),
    ],
)
def test_status_json_that_cannot_be_read_is_a_dvc_error(code: int, out: str, message: str) -> None:
    with pytest.raises(dvc.DvcError) as raised:
        dvc.status_json(code, out)
    assert str(raised.value).startswith(message)


def test_stage_statuses_tell_never_run_from_changed() -> None:
    changed = {"train": [{"changed deps": {"params.yaml": "modified"}}], "plots": ["always changed"]}
    statuses = dvc.stage_statuses(["download", "train", "plots", "evaluate"], changed, {"download", "train"})
    assert statuses == {
        "download": (dvc.UP_TO_DATE, ""),
        "train": (dvc.CHANGED, "deps: params.yaml (modified)"),
        "plots": (dvc.NEVER_RUN, ""),
        "evaluate": (dvc.NEVER_RUN, ""),
    }
    assert list(statuses) == ["download", "train", "plots", "evaluate"], "dvc.yaml's order"
    assert dvc.stage_names("greet\n  hold  \n\n") == ["greet", "hold"]


@pytest.mark.parametrize(
    ("lock", "stages"),
    [
        ("schema: '2.0'\nstages:\n  greet:\n    cmd: python stage.py greet\n  hold:\n    cmd: x\n",
         {"greet", "hold"}),
        ("schema: '2.0'\n", set()),
        ("stages: [unclosed\n", set()),
        ("- a list\n", set()),
        ("", set()),
        (None, set()),
    ],
)
def test_locked_stages_are_those_that_ran(tmp_path: Path, lock: str | None, stages: set[str]) -> None:
    if lock is not None:
        (tmp_path / "dvc.lock").write_text(lock)
    assert dvc.locked_stages(tmp_path) == stages


def test_a_repro_log_marks_stages_as_it_goes() -> None:
    lines = [dvc.clean_line(line) for line in REPRO_LOG]
    assert lines[1] == "Stage 'greet' didn't change, skipping"
    events = dvc.stage_events(lines)
    assert events == [("greet", dvc.UP_TO_DATE), ("hold", dvc.RUNNING)]
    before = {"greet": (dvc.NEVER_RUN, ""), "hold": (dvc.CHANGED, "deps: stage.py (modified)")}
    assert dvc.follow(before, events) == {"greet": (dvc.UP_TO_DATE, ""), "hold": (dvc.RUNNING, "")}
    assert before["hold"][0] == dvc.CHANGED, "follow returns new statuses, the old ones stay as they were"


def test_a_stage_starting_means_the_running_one_is_done() -> None:
    lines = [
        "Running stage 'train@model_a':",
        "Stage 'download' is cached - skipping run, checking out outputs",
        "Running stage 'train@model_b':",
        "ERROR: failed to reproduce 'train@model_b': failed to run: python -m stages.train, exited with 1",
    ]
    statuses = dvc.follow({}, dvc.stage_events(lines[:1]))
    assert statuses == {"train@model_a": (dvc.RUNNING, "")}
    statuses = dvc.follow(statuses, dvc.stage_events(lines[1:]))
    assert statuses == {
        "train@model_a": (dvc.DONE, ""),
        "download": (dvc.FROM_RUN_CACHE, ""),
        "train@model_b": (dvc.FAILED, ""),
    }


def test_progress_redrawn_with_carriage_returns_keeps_its_last_state() -> None:
    assert dvc.clean_line("epoch 1/2 10%\repoch 1/2 50%\r\x1b[32mepoch 1/2 100%\x1b[0m") == "epoch 1/2 100%"


def test_dvc_runs_as_an_argument_list_never_a_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_run(args: object, **kwargs: object) -> subprocess.CompletedProcess:
        calls.append((args, kwargs))
        return subprocess.CompletedProcess(args, 0, stdout=b"greet\nhold\n")

    monkeypatch.setattr(dvc.subprocess, "run", fake_run)
    assert dvc.run_dvc(tmp_path, "stage", "list", "--name-only") == (0, "greet\nhold\n")
    (args, kwargs), = calls
    assert args == [str(BIN / "dvc"), "stage", "list", "--name-only"]
    assert not kwargs.get("shell") and kwargs["cwd"] == tmp_path
    assert kwargs["env"]["PATH"].startswith(f"{BIN}:"), "the stages' `python` must be the venv's"


def test_a_hung_or_missing_dvc_is_an_exit_code_and_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hung(args: list[str], **kwargs: object) -> None:
        raise subprocess.TimeoutExpired(args, dvc.DVC_TIMEOUT_S)

    monkeypatch.setattr(dvc.subprocess, "run", hung)
    took = f"dvc status --json took over {dvc.DVC_TIMEOUT_S} s"
    assert dvc.run_dvc(tmp_path, "status", "--json") == (124, took)
    monkeypatch.setattr(dvc, "venv_bin", lambda: tmp_path)
    code, message = dvc.run_dvc(tmp_path, "status")
    assert code == 127 and message.startswith("no dvc next to ")
    with pytest.raises(dvc.DvcError, match="install the project"):
        dvc.dvc_command("repro")


def test_check_stages_of_a_real_pipeline(tmp_path: Path) -> None:
    root = tmp_path / "pipeline"
    shutil.copytree(FIXTURES / "pipeline", root)
    run(["git", "init", "-q", "-b", "main"], root)
    run([str(BIN / "dvc"), "init", "-q"], root)
    assert dvc.check_stages(root) == {"greet": (dvc.NEVER_RUN, ""), "hold": (dvc.NEVER_RUN, "")}
    shutil.rmtree(root / ".dvc")
    with pytest.raises(dvc.DvcError) as raised:
        dvc.check_stages(root)
    assert str(raised.value).startswith("dvc stage list failed: ERROR: you are not inside of a DVC")


# --- another dvc process holding the lock ------------------------------------------------------------


def write_rwlock(root: Path, writes: list[str], pid: int, reads: list[str] = ()) -> None:
    info = {"pid": pid, "cmd": "/v/bin/dvc exp run -S train.epochs=3"}
    lock = {"write": {str(root / path): info for path in writes},
            "read": {str(root / path): [info] for path in reads}}
    (root / dvc.RWLOCK).parent.mkdir(parents=True, exist_ok=True)
    (root / dvc.RWLOCK).write_text(json.dumps(lock))


def test_the_lock_file_names_the_running_stage(tmp_path: Path) -> None:
    assert dvc.lock_holder(tmp_path) is None, "no lock file: nobody holds the lock"
    outputs = ["models/model_b.keras", "metrics/train/model_b"]
    write_rwlock(tmp_path, outputs, os.getpid(), reads=["params.yaml"])
    holder = dvc.lock_holder(tmp_path)
    assert holder == dvc.LockHolder(os.getpid(), "/v/bin/dvc exp run -S train.epochs=3", ("train@model_b",),
                                    (Path("models/model_b.keras"), Path("metrics/train/model_b")))
    lock = "schema: '2.0'\nstages:\n  hold:\n    outs:\n    - path: out/held.txt\n"
    (tmp_path / "dvc.lock").write_text(lock)
    write_rwlock(tmp_path, ["out/held.txt", "somewhere/else"], os.getpid())
    assert dvc.lock_holder(tmp_path).stages == ("hold", "somewhere/else"), "dvc.lock first, then the path"
    write_rwlock(tmp_path, [], os.getpid(), reads=["params.yaml"])
    assert dvc.lock_holder(tmp_path).stages == (), "only reading (dvc status, exp show)"


def test_a_lock_left_by_a_dead_process_or_released_is_no_lock(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_rwlock(tmp_path, ["metrics/train/model_a"], gone.pid)
    assert dvc.lock_holder(tmp_path) is None
    (tmp_path / dvc.RWLOCK).write_text('{"write": {}}')
    assert dvc.lock_holder(tmp_path) is None
    (tmp_path / dvc.RWLOCK).write_text('{"write": ')
    assert dvc.lock_holder(tmp_path) is None, "being written: read again on the next tick"


def test_check_stages_says_busy_with_the_stage_names(tmp_path: Path) -> None:
    """A real `dvc status` blocked by a write lock of a live process (this test's)."""
    root = tmp_path / "pipeline"
    shutil.copytree(FIXTURES / "pipeline", root)
    run(["git", "init", "-q", "-b", "main"], root)
    run([str(BIN / "dvc"), "init", "-q"], root)
    write_rwlock(root, ["out/greeting.txt"], os.getpid())
    with pytest.raises(dvc.DvcBusy) as raised:
        dvc.check_stages(root)
    assert raised.value.stages == ["greet", "hold"]
    assert str(raised.value).startswith(
        f"another dvc command is running: (PID {os.getpid()}): /v/bin/dvc exp run")
