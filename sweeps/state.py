"""A sweep's record on the submitting machine: `.dvc/tmp/sweeps/<id>/`.

    sweep.json             the sweep and each point's state (written atomically, one writer)
    logs/<point>/<n>.log   attempt n's output (Ray: copied from the job's log as it grows)
    driver.log             the Ray driver's own output
    stop/ALL, stop/<point> requests to stop the whole sweep or one point (the driver acts on them)

The submitting command writes sweep.json first; for a Ray sweep the driver
(sweeps/driver.py, a detached process) is then its only writer until the sweep ends,
so the submitter, the dashboard or a later `python -m sweeps status` can exit and come
back and find the sweep where it is. A local sweep's points live in DVC's queue: their
states are read from DVC each time (sweeps/local.py), sweep.json keeps which points
they are. Everything here is git-ignored (under .dvc/tmp) and never leaves the machine.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal, get_args

import msgspec

from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.errors import BadInput

SWEEPS_DIR = Path(".dvc/tmp/sweeps")
STATE_FILE = "sweep.json"
STOP_DIR = "stop"
STOP_ALL = "ALL"
DRIVER_LOG = "driver.log"
LOGS_DIR = "logs"

State = Literal["queued", "running", "done", "failed"]
QUEUED, RUNNING, DONE, FAILED = get_args(State)
STATES = get_args(State)
TERMINAL = (DONE, FAILED)
Executor = Literal["local", "ray"]
LOCAL, RAY = get_args(Executor)


class Progress(msgspec.Struct, kw_only=True):
    """A running point's training, as its job last reported it."""

    model: str
    epoch: int
    epochs: int
    eta_s: float | None
    test_accuracy: float | None
    seen_at: float  # when the job read it from the training's progress.json (the node's clock)
    received_at: float  # when it reached the submitting machine (this machine's clock)


class PointState(msgspec.Struct, kw_only=True):
    """One point of the sweep, as the submitter and then the driver (Ray) last knew it."""

    index: int
    name: str
    overrides: list[str]
    state: State = QUEUED
    error: str | None = None  # one line, for a failed point
    attempts: int = 0  # jobs submitted for it so far
    jobs: list[str] = msgspec.field(default_factory=list)  # Ray submission ids, oldest first
    job_status: str | None = None  # Ray's status of the last job; None: not submitted (or to submit again)
    already_pushed: bool = False  # done by an earlier sweep: not run again
    resumed_from: int | None = None  # the epoch the last attempt resumed training from
    progress: Progress | None = None
    started_at: float | None = None  # Ray: when its last job's entrypoint began (the node's clock)
    finished_at: float | None = None
    pulled: bool = False  # `dvc exp pull` brought it into the submitting repository
    pull_error: str | None = None

    @property
    def job(self) -> str | None:
        return self.jobs[-1] if self.jobs else None

    @property
    def label(self) -> str:
        return " ".join(self.overrides) or "(baseline params)"


class Sweep(msgspec.Struct, kw_only=True):
    """sweep.json: the sweep and its points. A typed record both ways: `save` writes it, `load` reads
    it back (keys it does not know are ignored, so an older reader still reads a newer record)."""

    id: str
    root: str  # the project this sweep belongs to
    executor: Executor
    baseline: str  # the commit every point starts from
    specs: list[str]  # the `-S` arguments as given
    points: list[PointState]
    created_at: float = msgspec.field(default_factory=time.time)
    address: str | None = None  # Ray: the job server's address (never its token)
    git_url: str | None = None  # Ray: where the jobs clone from and push to
    git_remote: str = "origin"  # the submitting repository's name for it (finished points are pulled from it)
    pull: bool = True  # pull finished points into the submitting repository
    cpus: float = 1.0
    gpus: float = 0.0
    retries: int = 2  # resubmissions of a point whose node died
    workdir: str = ""  # Ray: the folder on each node holding the points' clones
    python: str = "python"  # Ray: the nodes' Python with the project installed
    driver_pid: int | None = None
    driver_started: float | None = None  # the driver's process creation time (a pid is reused)
    stopped: bool = False
    finished: bool = False
    note: str | None = None  # the driver's last problem with the cluster, one line

    def point(self, name: str) -> PointState:
        for point in self.points:
            if point.name == name:
                return point
        raise KeyError(f"sweep {self.id} has no point {name}")

    def count(self, state: str) -> int:
        return sum(point.state == state for point in self.points)


def folder(root: Path, sweep_id: str) -> Path:
    return Path(root) / SWEEPS_DIR / sweep_id


def state_path(root: Path, sweep_id: str) -> Path:
    return folder(root, sweep_id) / STATE_FILE


def log_path(root: Path, sweep_id: str, name: str, attempt: int) -> Path:
    return folder(root, sweep_id) / LOGS_DIR / name / f"{attempt}.log"


def stop_requests(root: Path, sweep_id: str) -> set[str]:
    """The points someone asked to stop (STOP_ALL: the whole sweep)."""
    try:
        return {entry.name for entry in (folder(root, sweep_id) / STOP_DIR).iterdir()}
    except FileNotFoundError:
        return set()


def request_stop(root: Path, sweep_id: str, name: str = STOP_ALL) -> None:
    path = folder(root, sweep_id) / STOP_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def new_id() -> str:
    """Sortable by time and unique enough on one machine: 20261208-101500-3fa2."""
    import secrets

    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def save(sweep: Sweep) -> None:
    write_json(state_path(Path(sweep.root), sweep.id), msgspec.to_builtins(sweep))


def encode(sweep: Sweep) -> bytes:
    """The record as compact JSON (the driver compares it to what it saved last)."""
    return msgspec.json.encode(sweep)


def load(path: Path) -> Sweep:
    """A sweep.json; BadInput (one line) if it is not one."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise BadInput(path, "not found", "list the sweeps with `python -m sweeps status`") from None
    except OSError as exc:
        raise BadInput(path, f"unreadable ({exc.strerror})", "delete its folder to forget it") from None
    try:
        return msgspec.json.decode(data, type=Sweep)
    except msgspec.ValidationError as exc:
        raise BadInput(path, f"not a sweep record ({exc})", "delete its folder to forget it") from None
    except msgspec.DecodeError:
        raise BadInput(path, "not valid JSON (torn or corrupt)", "delete its folder to forget it") from None


def load_all(root: Path) -> list[Sweep]:
    """Every sweep of the project, newest first; unreadable records are left out."""
    base = Path(root) / SWEEPS_DIR
    found = []
    for path in sorted(base.glob(f"*/{STATE_FILE}"), reverse=True):
        try:
            found.append(load(path))
        except BadInput:
            continue
    return found
