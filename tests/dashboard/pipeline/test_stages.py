"""tui.pipeline.stages: the stages' statuses from the real dvc, what a running repro's log says,
and who holds DVC's lock (no Textual)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import BIN, FIXTURES, run
from tui.ground.dvc import DvcError, clean_line
from tui.pipeline import stages

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
    assert stages.describe(entries) == (
        "deps: stages/train.py (modified), params.yaml (new); "
        "outs: models/model_a.keras (deleted); always changed"
    )
    assert stages.describe([{"changed checksum": "abc"}]) == "checksum: abc"
    # params: `dvc status --json` nests the keys under the params file
    params = [{"changed deps": {"dep.txt": "modified", "params.yaml": {"a": "modified", "b": "deleted"}}}]
    assert stages.describe(params) == "deps: dep.txt (modified), params.yaml (a modified, b deleted)"
    assert stages.describe([]) == ""


def test_status_json_skips_what_dvc_prints_before_it() -> None:
    out = 'WARNING: something about the cache\n{"train": [{"changed deps": {"params.yaml": "modified"}}]}\n'
    assert stages.status_json(0, out) == {"train": [{"changed deps": {"params.yaml": "modified"}}]}
    assert stages.status_json(0, "{}") == {}


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
    with pytest.raises(DvcError) as raised:
        stages.status_json(code, out)
    assert str(raised.value).startswith(message)


def test_stage_statuses_tell_never_run_from_changed() -> None:
    changed = {"train": [{"changed deps": {"params.yaml": "modified"}}], "plots": ["always changed"]}
    names = ["download", "train", "plots", "evaluate"]
    statuses = stages.stage_statuses(names, changed, {"download", "train"})
    assert statuses == {
        "download": (stages.UP_TO_DATE, ""),
        "train": (stages.CHANGED, "deps: params.yaml (modified)"),
        "plots": (stages.NEVER_RUN, ""),
        "evaluate": (stages.NEVER_RUN, ""),
    }
    assert list(statuses) == ["download", "train", "plots", "evaluate"], "dvc.yaml's order"
    assert stages.stage_names("greet\n  hold  \n\n") == ["greet", "hold"]


@pytest.mark.parametrize(
    ("lock", "ran"),
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
def test_locked_stages_are_those_that_ran(tmp_path: Path, lock: str | None, ran: set[str]) -> None:
    if lock is not None:
        (tmp_path / "dvc.lock").write_text(lock)
    assert stages.locked_stages(tmp_path) == ran


def test_a_repro_log_marks_stages_as_it_goes() -> None:
    lines = [clean_line(line) for line in REPRO_LOG]
    assert lines[1] == "Stage 'greet' didn't change, skipping"
    events = stages.stage_events(lines)
    assert events == [("greet", stages.UP_TO_DATE), ("hold", stages.RUNNING)]
    before = {"greet": (stages.NEVER_RUN, ""), "hold": (stages.CHANGED, "deps: stage.py (modified)")}
    assert stages.follow(before, events) == {"greet": (stages.UP_TO_DATE, ""), "hold": (stages.RUNNING, "")}
    assert before["hold"][0] == stages.CHANGED, "follow returns new statuses, the old ones stay as they were"


def test_a_stage_starting_means_the_running_one_is_done() -> None:
    lines = [
        "Running stage 'train@model_a':",
        "Stage 'download' is cached - skipping run, checking out outputs",
        "Running stage 'train@model_b':",
        "ERROR: failed to reproduce 'train@model_b': failed to run: python -m stages.train, exited with 1",
    ]
    statuses = stages.follow({}, stages.stage_events(lines[:1]))
    assert statuses == {"train@model_a": (stages.RUNNING, "")}
    statuses = stages.follow(statuses, stages.stage_events(lines[1:]))
    assert statuses == {
        "train@model_a": (stages.DONE, ""),
        "download": (stages.FROM_RUN_CACHE, ""),
        "train@model_b": (stages.FAILED, ""),
    }


def test_check_stages_of_a_real_pipeline(tmp_path: Path) -> None:
    root = tmp_path / "pipeline"
    shutil.copytree(FIXTURES / "pipeline", root)
    run(["git", "init", "-q", "-b", "main"], root)
    run([str(BIN / "dvc"), "init", "-q"], root)
    assert stages.check_stages(root) == {"greet": (stages.NEVER_RUN, ""), "hold": (stages.NEVER_RUN, "")}
    shutil.rmtree(root / ".dvc")
    with pytest.raises(DvcError) as raised:
        stages.check_stages(root)
    assert str(raised.value).startswith("dvc stage list failed: ERROR: you are not inside of a DVC")


def write_rwlock(root: Path, writes: list[str], pid: int, reads: list[str] = ()) -> None:
    info = {"pid": pid, "cmd": "/v/bin/dvc exp run -S train.epochs=3"}
    lock = {"write": {str(root / path): info for path in writes},
            "read": {str(root / path): [info] for path in reads}}
    (root / stages.RWLOCK).parent.mkdir(parents=True, exist_ok=True)
    (root / stages.RWLOCK).write_text(json.dumps(lock))


def test_the_lock_file_names_the_running_stage(tmp_path: Path) -> None:
    assert stages.lock_holder(tmp_path) is None, "no lock file: nobody holds the lock"
    outputs = ["models/model_b.keras", "metrics/train/model_b"]
    write_rwlock(tmp_path, outputs, os.getpid(), reads=["params.yaml"])
    holder = stages.lock_holder(tmp_path)
    command = "/v/bin/dvc exp run -S train.epochs=3"
    assert holder == stages.LockHolder(os.getpid(), command, ("train@model_b",),
                                       (Path("models/model_b.keras"), Path("metrics/train/model_b")))
    lock = "schema: '2.0'\nstages:\n  hold:\n    outs:\n    - path: out/held.txt\n"
    (tmp_path / "dvc.lock").write_text(lock)
    write_rwlock(tmp_path, ["out/held.txt", "somewhere/else"], os.getpid())
    assert stages.lock_holder(tmp_path).stages == ("hold", "somewhere/else"), "dvc.lock first, then the path"
    write_rwlock(tmp_path, [], os.getpid(), reads=["params.yaml"])
    assert stages.lock_holder(tmp_path).stages == (), "only reading (dvc status, exp show)"


def test_a_lock_left_by_a_dead_process_or_released_is_no_lock(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_rwlock(tmp_path, ["metrics/train/model_a"], gone.pid)
    assert stages.lock_holder(tmp_path) is None
    (tmp_path / stages.RWLOCK).write_text('{"write": {}}')
    assert stages.lock_holder(tmp_path) is None
    (tmp_path / stages.RWLOCK).write_text('{"write": ')
    assert stages.lock_holder(tmp_path) is None, "being written: read again on the next tick"


def test_check_stages_says_busy_with_the_stage_names(tmp_path: Path) -> None:
    """A real `dvc status` blocked by a write lock of a live process (this test's)."""
    root = tmp_path / "pipeline"
    shutil.copytree(FIXTURES / "pipeline", root)
    run(["git", "init", "-q", "-b", "main"], root)
    run([str(BIN / "dvc"), "init", "-q"], root)
    write_rwlock(root, ["out/greeting.txt"], os.getpid())
    with pytest.raises(stages.DvcBusy) as raised:
        stages.check_stages(root)
    assert raised.value.stages == ["greet", "hold"]
    assert str(raised.value).startswith(
        f"another dvc command is running: (PID {os.getpid()}): /v/bin/dvc exp run")
