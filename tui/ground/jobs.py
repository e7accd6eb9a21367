"""Background dvc commands for the dashboard, built to outlive the dashboard: `dvc repro`
from the Pipeline tab, `dvc exp run` (an experiment in the workspace) from the Experiments tab.

The dashboard starts `python -m tui.ground.jobs --root ROOT --job JOB -- DVC-ARGS...` in a session
of its own (start_new_session=True), so quitting the dashboard or closing its terminal leaves
the command running. This small runner starts dvc with its output going to a log file (a
pipe would break the moment the dashboard is gone) and, when dvc ends, writes its exit
status beside the log. The dashboard writes the run's pid and command in a state file
when it starts it; with these three files a dashboard opened later finds a running
command, follows its log and learns how it ended. Both jobs work in the workspace and take
its lock, so one refuses to start while the other runs. No Textual import here.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import read_json_object
from tui.ground.dvc import DvcError, clean_line, dvc_command, tool_env
from tui.ground.process import pid_alive

# Under DVC's own scratch folder, which `dvc init` already git-ignores.
RUN_DIR = Path(".dvc/tmp")
PACKAGE_PARENT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Job:
    """One kind of background command and its three files: log, state (pid, command), exit status."""

    name: str

    @property
    def log(self) -> Path:
        return RUN_DIR / f"tui-{self.name}.log"

    @property
    def state(self) -> Path:
        return RUN_DIR / f"tui-{self.name}.json"

    @property
    def exit(self) -> Path:
        return RUN_DIR / f"tui-{self.name}.exit.json"


REPRO, EXP_RUN = Job("repro"), Job("exp-run")
JOBS = {job.name: job for job in (REPRO, EXP_RUN)}
LOG, STATE, EXIT = REPRO.log, REPRO.state, REPRO.exit


class ReproError(DvcError):
    """Why a repro cannot start, in one line."""


@dataclass(frozen=True)
class ReproRun:
    pid: int
    command: tuple[str, ...]
    started_at: str
    returncode: int | None

    @property
    def running(self) -> bool:
        return self.returncode is None and pid_alive(self.pid)

    @property
    def outcome(self) -> str:
        if self.returncode is None:
            return "running" if pid_alive(self.pid) else "ended without an exit status (killed?)"
        if self.returncode == 0:
            return "finished"
        return f"failed (exit {self.returncode})"

    @property
    def started(self) -> str:
        """Local wall-clock time of the start, as the user would read it."""
        try:
            return datetime.fromisoformat(self.started_at).astimezone().strftime("%H:%M:%S")
        except ValueError:
            return self.started_at

    @property
    def label(self) -> str:
        return " ".join(["dvc", *self.command[1:]])


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _read(path: Path) -> dict:
    """One of the runner's files; {} while it is missing, being written or damaged."""
    try:
        return read_json_object(path)
    except (OSError, BadInput):
        return {}


def current(root: Path, job: Job = REPRO) -> ReproRun | None:
    """The last `job` started from a dashboard in `root`, running or not."""
    state = _read(root / job.state)
    if not isinstance(state.get("pid"), int):
        return None
    ended = _read(root / job.exit)
    returncode = ended.get("returncode") if ended.get("pid") == state["pid"] else None
    return ReproRun(
        pid=state["pid"],
        command=tuple(state.get("command", ())),
        started_at=str(state.get("started_at", "")),
        returncode=returncode if isinstance(returncode, int) else None,
    )


def start(root: Path, stage: str | None = None) -> subprocess.Popen:
    """Start `dvc repro [stage]` detached from this process (see `launch`)."""
    return launch(root, REPRO, ["repro", *([stage] if stage else [])])


def running(root: Path) -> ReproRun | None:
    """A background command of a dashboard in `root` that is running now, if any."""
    return next((run for run in (current(root, job) for job in JOBS.values()) if run and run.running), None)


def launch(root: Path, job: Job, args: list[str]) -> subprocess.Popen:
    """Start `dvc ARGS` as `job`, detached from this process; refuses while any job runs in `root`.

    The caller keeps the returned process and polls it, so that the runner, once it
    ends, does not linger as a zombie that still looks alive to `pid_alive`.
    """
    busy = running(root)
    if busy is not None:
        tab = "Pipeline" if busy.command[1:2] == ("repro",) else "Experiments"
        raise ReproError(f"`{busy.label}` is already running (pid {busy.pid}); "
                         f"wait for it or stop it with x on the {tab} tab")
    if not (root / ".dvc").is_dir():
        raise ReproError(f"{root} is not a DVC repository (no .dvc folder); run `dvc init` there first")
    command = dvc_command(*args)
    (root / RUN_DIR).mkdir(parents=True, exist_ok=True)
    (root / job.exit).unlink(missing_ok=True)
    started_at = _now()
    (root / job.log).write_text(f"$ {' '.join(['dvc', *command[1:]])}    # started {started_at}\n")
    runner = [sys.executable, "-m", "tui.ground.jobs", "--root", str(root), "--job", job.name, "--", *args]
    process = subprocess.Popen(
        runner, cwd=PACKAGE_PARENT, env=tool_env(), start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    write_json(root / job.state, {"pid": process.pid, "command": command, "started_at": started_at})
    return process


def stop(run: ReproRun) -> None:
    """Ctrl-C for the whole run, as a terminal would send it: training checkpoints and stops."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(run.pid, signal.SIGINT)


class LogFollower:
    """A repro's log as it grows: each `read` returns the lines completed since the last one.

    Reads from where it stopped, keeps a partial last line (and a split UTF-8 character)
    for the next read, and starts over when a new repro has started.
    """

    def __init__(self, root: Path, job: Job = REPRO) -> None:
        self.path = root / job.log
        self._started: str | None = None
        self._offset = 0
        self._tail = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read(self, run: ReproRun) -> tuple[bool, list[str]]:
        """(True when this is a new run, so what was read before belongs to an older one;
        the new complete lines, without colour codes or overwritten progress)."""
        restarted = run.started_at != self._started
        if restarted:
            self._started, self._offset, self._tail = run.started_at, 0, ""
            self._decoder.reset()
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return restarted, []
        self._offset += len(chunk)
        lines = (self._tail + self._decoder.decode(chunk)).split("\n")
        self._tail = lines.pop()
        return restarted, [clean_line(line) for line in lines]


def main(argv: list[str] | None = None) -> int:
    """The runner: dvc's output to the job's log, its exit status to the job's exit file."""
    parser = argparse.ArgumentParser(prog="python -m tui.ground.jobs")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--job", choices=sorted(JOBS), default=REPRO.name)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="dvc's arguments, after --")
    args = parser.parse_args(argv)
    root, job = args.root, JOBS[args.job]
    dvc_args = args.args[1:] if args.args[:1] == ["--"] else args.args
    # DVC ignores SIGINT while a stage runs and relies on the stage getting it from the
    # process group; the runner must outlive it to record the exit status. A handler
    # (unlike SIG_IGN) is not inherited by dvc.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGHUP, lambda *_: None)
    with open(root / job.log, "ab") as log:
        try:
            child = subprocess.Popen(
                dvc_command(*dvc_args), cwd=root,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
            returncode = child.wait()
        except (OSError, DvcError) as exc:
            log.write(f"error: {exc}\n".encode())
            returncode = 127
    write_json(root / job.exit, {"pid": os.getpid(), "returncode": returncode, "finished_at": _now()})
    return returncode


if __name__ == "__main__":
    sys.exit(main())
