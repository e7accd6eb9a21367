"""Stages whose outputs cannot be written end in one line saying what to do, never a traceback,
leave no partial file, and progress.json says `failed` with that line whenever its folder can
still be written at all.

The faults happen where the test puts them: a tiny filesystem (tmpfs) mounted over an output
folder in a mount namespace of the stage's own (`unshare`), or a folder taken away (`chmod`)
from a training stopped at the end of an epoch (tests/inject), which runs without root's right
to ignore permissions (`setpriv`).

Both tools are util-linux's (Essential on Debian, so on every CI machine). As root the tmpfs is
mounted directly; as a user, in a user namespace of the stage's own (`unshare --map-root-user`),
where the kernel allows those. Where it cannot be done the test skips on a developer's machine,
saying why, and fails in CI (`CI=true`), which runs as root.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_dvc.core.contracts import progress_file
from mnist_dvc.core.errors import StorageError
from tests.helpers import BIN, TINY, new_project, run, stop_env, tool_env, wait_until_stopped

pytestmark = pytest.mark.slow

MODEL, SEED = "model_a", 42
# A stage that runs as root would write through any permission: drop that right for the fault.
NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
CANNOT_MOUNT = 99


def cannot(reason: str) -> None:
    """Skip, saying why, on a developer's machine; in CI, where these tests must run, fail."""
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"{reason}: CI runs as root on Debian (util-linux is Essential): a broken setup")
    pytest.skip(reason)


def needs_setpriv() -> None:
    if NO_OVERRIDE and shutil.which("setpriv") is None:
        cannot("needs setpriv (util-linux) to run without root's right to ignore permissions")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, shared_dvc_cache: Path, mnist_mirror: Path) -> Path:
    """The project with its tiny data prepared, one epoch of one seed to train."""
    repo = tmp_path_factory.mktemp("faults") / "repo"
    new_project(repo, shared_dvc_cache, {**TINY, "train.epochs": 1})
    run([str(BIN / "dvc"), "repro", "-q", "prepare"], repo, MNIST_MIRROR=str(mnist_mirror))
    return repo


def on_small_filesystem(repo: Path, folder: str, size: str, *cmd: str) -> subprocess.CompletedProcess:
    """`cmd` in `repo`, in a mount namespace of its own where `folder` is an empty tmpfs of `size`;
    then a `left: PATH` line for every file left in it (the tmpfs goes with the namespace)."""
    if shutil.which("unshare") is None:
        cannot("needs unshare (util-linux)")
    script = ('mkdir -p "$1" && mount -t tmpfs -o "size=$2" tmpfs "$1" || exit 99; dir=$1; shift 2; "$@"; '
              'code=$?; find "$dir" -type f -printf "left: %p\\n"; exit $code')
    as_user = [] if os.geteuid() == 0 else ["--map-root-user"]  # mounting needs a namespace's root
    namespace = ["unshare", *as_user, "--mount", "--propagation", "private"]
    proc = subprocess.run([*namespace, "sh", "-c", script, "sh", folder, size, *cmd], cwd=repo,
                          env=tool_env(), capture_output=True, text=True)
    if proc.returncode == CANNOT_MOUNT or proc.stderr.startswith("unshare: "):
        cannot(f"cannot mount a tmpfs in a namespace of its own here: {proc.stderr.strip()}")
    return proc


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The stage's `error:` line: its only one, its last, exit status 2, no traceback (TensorFlow's
    own start-up notes may come before it)."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and proc.stderr.splitlines()[-1] == errors[0], proc.stderr
    return errors[0]


def fresh_run(repo: Path) -> None:
    """No checkpoint of an earlier test's run: this one trains (and so meets its fault)."""
    shutil.rmtree(repo / ".checkpoints", ignore_errors=True)


def progress(repo: Path) -> dict:
    return json.loads((repo / progress_file(MODEL, SEED)).read_text())


def test_a_full_disk_under_models_is_one_line_and_progress_says_failed(tiny: Path) -> None:
    fresh_run(tiny)
    proc = on_small_filesystem(tiny, "models", "16k", sys.executable, "-m", "stages.train", MODEL)
    line = one_error_line(proc)
    assert line == (f"error: {MODEL}: models/{MODEL}/seed_{SEED}.keras: no space left on the device of "
                    f"models/{MODEL}; free some (`df -h models/{MODEL}`); then run `dvc repro` again")
    assert "left:" not in proc.stdout
    state = progress(tiny)
    assert state["state"] == "failed" and state["error"] == line.removeprefix("error: ")


def test_a_folder_taken_away_during_training_is_one_line_and_progress_says_failed(tiny: Path) -> None:
    """Stopped after its first epoch, the seed's folder made read-only, then let go: the next write
    fails, and progress.json is rewritten in place (a new file there is refused)."""
    needs_setpriv()
    fresh_run(tiny)
    folder = tiny / progress_file(MODEL, SEED).parent
    train = subprocess.Popen(
        [*NO_OVERRIDE, sys.executable, "-m", "stages.train", MODEL], cwd=tiny, start_new_session=True,
        env=tool_env(**stop_env("mnist_dvc.training.progress:Progress.record_epoch", "after")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_stopped(train)
        folder.chmod(0o555)
        os.killpg(train.pid, signal.SIGCONT)
        out, err = train.communicate(timeout=300)
    finally:
        folder.chmod(0o755)
        if train.poll() is None:
            os.killpg(train.pid, signal.SIGKILL)
            train.wait()
    line = one_error_line(subprocess.CompletedProcess(train.args, train.returncode, out, err))
    where = f"metrics/train/{MODEL}/seed_{SEED}"
    # The first thing the epoch's logging makes there names it: DVCLive's plots/ folder, as DVCLive
    # orders its writes; then progress.json, rewritten in place.
    assert re.fullmatch(rf"error: {MODEL}: {where}/[^/ ]+: permission denied in {where}; make it writable "
                        rf"\(`ls -ld {where}`, `chmod u\+w`\); then run `dvc repro` again", line), line
    state = progress(tiny)
    assert state["state"] == "failed" and state["error"] == line.removeprefix("error: ")
    assert [p.name for p in folder.iterdir() if ".tmp" in p.name] == []


def test_a_full_prepared_folder_is_one_line_and_leaves_no_partial_file(tiny: Path) -> None:
    proc = on_small_filesystem(tiny, "data/prepared", "1m", sys.executable, "-m", "stages.prepare")
    assert one_error_line(proc) == (
        "error: data/prepared/x_train.npy: no space left on the device of data/prepared; free some "
        "(`df -h data/prepared`); then run `dvc repro` again")
    assert "left:" not in proc.stdout


def test_an_unwritable_prepared_folder_is_one_line_and_leaves_no_partial_file(tiny: Path) -> None:
    needs_setpriv()
    folder = tiny / "data/prepared"
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    folder.chmod(0o555)
    try:
        proc = subprocess.run([*NO_OVERRIDE, sys.executable, "-m", "stages.prepare"], cwd=tiny,
                              env=tool_env(), capture_output=True, text=True)
    finally:
        folder.chmod(0o755)
    assert one_error_line(proc) == (
        "error: data/prepared/x_train.npy: permission denied in data/prepared; make it writable "
        "(`ls -ld data/prepared`, `chmod u+w`); then run `dvc repro` again")
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before


@pytest.mark.parametrize(("code", "says"), [
    (errno.EROFS, "out is on a read-only filesystem; mount it read-write"),
    (errno.EDQUOT, "the disk quota is used up in out; free some or raise the quota"),
    (errno.EIO, "Input/output error"),
])
def test_each_refusal_says_its_fix(code: int, says: str) -> None:
    message = str(StorageError(OSError(code, os.strerror(code), "out/file.bin")))
    assert message == f"out/file.bin: {says}; then run `dvc repro` again"
