"""Background `dvc repro` for the dashboard, built to outlive the dashboard.

The dashboard starts `python -m tui.repro --root ROOT [STAGE]` in a session of its own
(start_new_session=True), so quitting the dashboard or closing its terminal leaves the
pipeline running. This small runner starts dvc with its output going to a log file (a
pipe would break the moment the dashboard is gone) and, when dvc ends, writes its exit
status beside the log. The dashboard writes the run's pid and command in a state file
when it starts it; with these three files a dashboard opened later finds a running
repro, follows its log and learns how it ended. No Textual import here.
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
from tui.data import pid_alive
from tui.dvc import DvcError, clean_line, dvc_command, tool_env

# Under DVC's own scratch folder, which `dvc init` already git-ignores.
RUN_DIR = Path(".dvc/tmp")
LOG = RUN_DIR / "tui-repro.log"
STATE = RUN_DIR / "tui-repro.json"
EXIT = RUN_DIR / "tui-repro.exit.json"
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


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


def current(root: Path) -> ReproRun | None:
    """The last repro started from a dashboard in `root`, running or not."""
    state = _read(root / STATE)
    if not isinstance(state.get("pid"), int):
        return None
    ended = _read(root / EXIT)
    returncode = ended.get("returncode") if ended.get("pid") == state["pid"] else None
    return ReproRun(
        pid=state["pid"],
        command=tuple(state.get("command", ())),
        started_at=str(state.get("started_at", "")),
        returncode=returncode if isinstance(returncode, int) else None,
    )


def start(root: Path, stage: str | None = None) -> subprocess.Popen:
    """Start `dvc repro [stage]` detached from this process; refuses a second one.

    The caller keeps the returned process and polls it, so that the runner, once it
    ends, does not linger as a zombie that still looks alive to `pid_alive`.
    """
    running = current(root)
    if running is not None and running.running:
        raise ReproError(f"a repro is already running (pid {running.pid}); wait for it or stop it with x")
    if not (root / ".dvc").is_dir():
        raise ReproError(f"{root} is not a DVC repository (no .dvc folder); run `dvc init` there first")
    command = dvc_command("repro", *([stage] if stage else []))
    (root / RUN_DIR).mkdir(parents=True, exist_ok=True)
    (root / EXIT).unlink(missing_ok=True)
    started_at = _now()
    (root / LOG).write_text(f"$ {' '.join(['dvc', *command[1:]])}    # started {started_at}\n")
    runner = [sys.executable, "-m", "tui.repro", "--root", str(root), *([stage] if stage else [])]
    process = subprocess.Popen(
        runner, cwd=PACKAGE_PARENT, env=tool_env(), start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    write_json(root / STATE, {"pid": process.pid, "command": command, "started_at": started_at})
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

    def __init__(self, root: Path) -> None:
        self.path = root / LOG
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
    """The runner: dvc's output to the log, its exit status to the exit file."""
    parser = argparse.ArgumentParser(prog="python -m tui.repro")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("stage", nargs="?")
    args = parser.parse_args(argv)
    root = args.root
    # DVC ignores SIGINT while a stage runs and relies on the stage getting it from the
    # process group; the runner must outlive it to record the exit status. A handler
    # (unlike SIG_IGN) is not inherited by dvc.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGHUP, lambda *_: None)
    with open(root / LOG, "ab") as log:
        try:
            child = subprocess.Popen(
                dvc_command("repro", *([args.stage] if args.stage else [])), cwd=root,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
            returncode = child.wait()
        except (OSError, DvcError) as exc:
            log.write(f"error: {exc}\n".encode())
            returncode = 127
    write_json(root / EXIT, {"pid": os.getpid(), "returncode": returncode, "finished_at": _now()})
    return returncode


if __name__ == "__main__":
    sys.exit(main())
