"""The venv's `dvc` CLI as the dashboard uses it, and what it reads from dvc's output.

Every call is an argument list (never a shell string) run with this Python's venv first
on PATH, so that the stages' `python` is the project's. `run_dvc` and `check_stages`
block for about a second: the Pipeline pane calls them from thread workers only. The
rest reads text: `dvc status --json`, dvc's error output, and the stage lines a running
`dvc repro` prints to its log. No Textual import here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from mnist_dvc.core.contracts import writer
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import read_json_object
from tui.data import pid_alive

DVC_TIMEOUT_S = 120

# A stage's status as the Pipeline tab shows it: from `dvc status` and dvc.lock ...
NEVER_RUN, CHANGED, UP_TO_DATE = "never run", "changed", "up to date"
# ... and, while a repro runs, from the lines it prints.
RUNNING, DONE, FROM_RUN_CACHE, FAILED = "running", "done", "restored from run-cache", "failed"
STAGE_LINES = (
    (re.compile(r"Running stage '([^']+)'"), RUNNING),
    (re.compile(r"Stage '([^']+)' didn't change, skipping"), UP_TO_DATE),
    (re.compile(r"Stage '([^']+)' is cached - skipping run"), FROM_RUN_CACHE),
    (re.compile(r"failed to reproduce '([^']+)'"), FAILED),
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# What dvc says when another dvc process holds the lock of a file it must read, or the repository's.
BUSY = ("is busy, it is being blocked by", "Unable to acquire lock")
# DVC's read/write locks of the outputs and deps of the stages running now (JSON, under .dvc/tmp).
RWLOCK = Path(".dvc/tmp/rwlock")

# stage -> (status, details)
Statuses = dict[str, tuple[str, str]]


class DvcError(RuntimeError):
    """dvc cannot be run, or cannot tell: one line, dvc's own words where it gave any."""


class DvcBusy(DvcError):
    """Another dvc process (a repro, an experiment in the workspace) holds the lock `dvc status` needs."""

    def __init__(self, message: str, stages: list[str]) -> None:
        super().__init__(message)
        self.stages = stages


# --- running dvc -------------------------------------------------------------------------


def venv_bin() -> Path:
    """The folder of this Python, where the project's `dvc` and `python` are."""
    return Path(sys.executable).parent


def tool_env() -> dict[str, str]:
    """Stage commands are `python -m stages.<name>`: this venv's python must come first."""
    env = dict(os.environ)
    env["PATH"] = f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def dvc_command(*args: str) -> list[str]:
    """The argument list that runs the venv's dvc with `args`."""
    dvc = venv_bin() / "dvc"
    if not dvc.exists():
        raise DvcError(f"no dvc next to {sys.executable}; install the project (pip install -e .)")
    return [str(dvc), *args]


def run_dvc(root: Path, *args: str) -> tuple[int, str]:
    """The real dvc CLI (the venv's): (exit code, stdout+stderr). Blocking: call it from a thread."""
    try:
        proc = subprocess.run(
            dvc_command(*args), cwd=root, env=tool_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=DVC_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return 124, f"dvc {' '.join(args)} took over {DVC_TIMEOUT_S} s"
    except (OSError, DvcError) as exc:
        return 127, str(exc)
    return proc.returncode, proc.stdout.decode(errors="replace")


def check_stages(root: Path) -> Statuses:
    """stage -> (status, details) from `dvc stage list` and `dvc status --json` plus dvc.lock.

    Blocking (two dvc runs). Raises DvcError with dvc's last line when dvc cannot tell (a
    broken dvc.yaml), DvcBusy (with the stage names) while another dvc process holds the lock.
    """
    code, listing = run_dvc(root, "stage", "list", "--name-only")
    if code != 0:
        raise DvcError(f"dvc stage list failed: {last_line(listing)}")
    code, out = run_dvc(root, "status", "--json")
    if code != 0 and any(words in out for words in BUSY):
        raise DvcBusy(last_line(out), stage_names(listing))
    return stage_statuses(stage_names(listing), status_json(code, out), locked_stages(root))


# --- reading what dvc says ----------------------------------------------------------------


def stage_names(listing: str) -> list[str]:
    """The stages of `dvc stage list --name-only`, in dvc.yaml's order."""
    return [line.strip() for line in listing.splitlines() if line.strip()]


def status_json(code: int, out: str) -> dict:
    """The object `dvc status --json` printed (after any warnings), or DvcError with its last line."""
    try:
        changed = json.loads(out[out.index("{"):]) if code == 0 else None
    except ValueError:
        changed = None
    if not isinstance(changed, dict):
        raise DvcError(f"dvc status failed: {last_line(out)}")
    return changed


def locked_stages(root: Path) -> set[str]:
    """Stages recorded in dvc.lock, i.e. that ran at least once."""
    try:
        lock = yaml.safe_load((root / "dvc.lock").read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()
    stages = lock.get("stages") if isinstance(lock, dict) else None
    return set(stages) if isinstance(stages, dict) else set()


def stage_statuses(names: Iterable[str], changed: Mapping[str, list], ran: set[str]) -> Statuses:
    """A stage not in dvc.lock never ran; one `dvc status` lists changed; the rest are up to date."""
    statuses = {}
    for name in names:
        if name not in ran:
            statuses[name] = (NEVER_RUN, "")
        elif name in changed:
            statuses[name] = (CHANGED, describe(changed[name]))
        else:
            statuses[name] = (UP_TO_DATE, "")
    return statuses


def describe(entries: list) -> str:
    """One line from `dvc status --json`'s entries for a stage."""
    parts = []
    for entry in entries:
        if isinstance(entry, dict):
            for kind, items in entry.items():
                label = kind.removeprefix("changed ")
                if isinstance(items, dict):
                    parts.append(f"{label}: " + ", ".join(f"{path} ({what})" for path, what in items.items()))
                else:
                    parts.append(f"{label}: {items}")
        else:
            parts.append(str(entry))
    return "; ".join(parts)


def last_line(text: str) -> str:
    """What to show of dvc's failure: its ERROR line if any, else its last line."""
    lines = [line.strip() for line in ANSI.sub("", text).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors and "is busy, it is being blocked by" in errors[0]:
        blocker = next((line for line in lines if line.startswith("(PID ")), "another dvc process")
        return f"another dvc command is running: {blocker}; press u once it has ended"
    return errors[0] if errors else lines[-1] if lines else "no output"


# --- following a running repro ------------------------------------------------------------


def clean_line(raw: str) -> str:
    """A log line as a terminal would leave it: no colour codes, only the text after the last \\r."""
    return ANSI.sub("", raw).split("\r")[-1]


def stage_events(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(stage, status) for each stage line of a repro's log, in order."""
    events = []
    for line in lines:
        for pattern, status in STAGE_LINES:
            match = pattern.search(line)
            if match:
                events.append((match.group(1), status))
    return events


def follow(statuses: Statuses, events: Iterable[tuple[str, str]]) -> Statuses:
    """The statuses after a repro's stage lines: a stage starting means the running one is done."""
    result = dict(statuses)
    for stage, status in events:
        if status == RUNNING:
            for name, (old, _) in result.items():
                if old == RUNNING and name != stage:
                    result[name] = (DONE, "")
        result[stage] = (status, "")
    return result


# --- another dvc process holding the lock ---------------------------------------------------------


@dataclass(frozen=True)
class LockHolder:
    """A dvc process running stages in the workspace, as its lock file tells: who, and what it writes."""

    pid: int | None
    command: str
    stages: tuple[str, ...]  # the stages whose outputs it holds for writing: those running now
    writes: tuple[Path, ...]  # those outputs, relative to the root


def lock_holder(root: Path) -> LockHolder | None:
    """Who holds DVC's locks in `root` (from .dvc/tmp/rwlock), or None when nobody does.

    A stage is named from dvc.lock's outputs, else from the project's contracts (the writer
    of a path), else by the path itself (a stage that never ran, in another project)."""
    try:
        locks = read_json_object(root / RWLOCK)
    except (OSError, BadInput):
        return None
    writes = locks.get("write") if isinstance(locks.get("write"), dict) else {}
    reads = locks.get("read") if isinstance(locks.get("read"), dict) else {}
    holders = [info for info in writes.values() if isinstance(info, dict)]
    holders += [info for infos in reads.values() if isinstance(infos, list)
                for info in infos if isinstance(info, dict)]
    if not holders:
        return None
    first = holders[0]
    if isinstance(first.get("pid"), int) and not pid_alive(first["pid"]):
        return None  # left behind by a dvc process that was killed
    paths = tuple(_relative(root, path) for path in writes)
    owners = _outputs(root)
    stages = tuple(dict.fromkeys(owners.get(path) or writer(path) or str(path) for path in paths))
    pid = first.get("pid")
    command = ANSI.sub("", str(first.get("cmd", "")))
    return LockHolder(pid if isinstance(pid, int) else None, command, stages, paths)


def _relative(root: Path, path: str) -> Path:
    try:
        return Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return Path(path)


def _outputs(root: Path) -> dict[Path, str]:
    """output path -> its stage, from dvc.lock (the stages that ran at least once)."""
    try:
        lock = yaml.safe_load((root / "dvc.lock").read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    stages = lock.get("stages") if isinstance(lock, dict) else None
    owners = {}
    for name, stage in (stages or {}).items():
        for out in (stage or {}).get("outs", []) if isinstance(stage, dict) else []:
            if isinstance(out, dict) and isinstance(out.get("path"), str):
                owners[Path(out["path"])] = name
    return owners
