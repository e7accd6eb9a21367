"""What the Pipeline tab reads: each stage's status, the stages a running repro reports, and who
holds DVC's lock.

Statuses come from the real `dvc status --json` plus dvc.lock (`check_stages` blocks for about
a second: the tab calls it from a thread worker); a running `dvc repro` marks stages in the
lines it prints to its log; another dvc process running stages in the workspace names them in
its lock file. No Textual import here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from mnist_dvc.core.contracts import writer
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import read_json_object
from tui.ground.dvc import ANSI, BLOCKED, DvcError, last_line, run_dvc
from tui.ground.process import pid_alive

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
# What dvc says when another dvc process holds the lock of a file it must read, or the repository's.
BUSY = (BLOCKED, "Unable to acquire lock")
# DVC's read/write locks of the outputs and deps of the stages running now (JSON, under .dvc/tmp).
RWLOCK = Path(".dvc/tmp/rwlock")

# stage -> (status, details)
Statuses = dict[str, tuple[str, str]]


class DvcBusy(DvcError):
    """Another dvc process (a repro, an experiment in the workspace) holds the lock `dvc status` needs."""

    def __init__(self, message: str, stages: list[str]) -> None:
        super().__init__(message)
        self.stages = stages


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


def _lock(root: Path) -> dict:
    """stage -> its record in dvc.lock (the stages that ran at least once); {} if it cannot be read."""
    try:
        lock = yaml.safe_load((root / "dvc.lock").read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    stages = lock.get("stages") if isinstance(lock, dict) else None
    return stages if isinstance(stages, dict) else {}


def locked_stages(root: Path) -> set[str]:
    """Stages recorded in dvc.lock, i.e. that ran at least once."""
    return set(_lock(root))


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
                    changes = (f"{path} ({_what(what)})" for path, what in items.items())
                    parts.append(f"{label}: " + ", ".join(changes))
                else:
                    parts.append(f"{label}: {items}")
        else:
            parts.append(str(entry))
    return "; ".join(parts)


def _what(change: object) -> str:
    """How a dep changed: a word, or for a params file each key with its change ("a modified")."""
    if isinstance(change, dict):
        return ", ".join(f"{key} {how}" for key, how in change.items())
    return str(change)


# --- following a running repro ------------------------------------------------------------


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
    owners = {}
    for name, stage in _lock(root).items():
        for out in (stage or {}).get("outs", []) if isinstance(stage, dict) else []:
            if isinstance(out, dict) and isinstance(out.get("path"), str):
                owners[Path(out["path"])] = name
    return owners
