"""What the dashboard (and `python -m sweeps status`) needs from sweeps, without Textual and without Ray.

    sweeps(root) -> [SweepView]           every sweep of the project, newest first
    sweep(root, id) -> SweepView          one, with each point's state, error, progress, log file
    log_text(root, id, point) -> str      the point's output, every attempt
    follow_log(root, id, point) -> lines  its output as it grows, until the point ends
    stop_point(root, id, point) -> str    stop one point (its job, or its place in the queue)
    stop_sweep(root, id) -> str           stop the whole sweep
    rows(root) / text(root)               one row per point, for `python -m tui --once --experiments`

A Ray sweep is read from its sweep.json, which its driver rewrites within a second of
anything a job reports (a job reports each epoch within half a second): reading it
costs a file read. A local sweep's states come from DVC's queue, which costs DVC about a
second: call `sweep`/`sweeps` from a worker thread, never the UI thread. Stopping talks
to DVC or, when a Ray sweep's driver is gone, to the cluster: a worker thread too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mnist_dvc.core.errors import ProjectError
from sweeps import driver, local
from sweeps import state as st
from sweeps.state import DONE, FAILED, LOCAL, QUEUED, RAY, RUNNING, Progress

FOLLOW_POLL_S = 0.5


class SweepError(ProjectError):
    """A sweep or point that does not exist, or cannot be stopped: one line."""


@dataclass(frozen=True)
class PointView:
    """One point of a sweep as it stands now."""

    sweep: str
    index: int
    name: str  # the experiment's name once it is done (`dvc exp show`)
    overrides: tuple[str, ...]  # its `-S` arguments
    state: str  # queued, running, done or failed
    error: str | None  # failed: why, in one line
    attempts: int  # jobs started for it (Ray; > 1 after its node was lost)
    progress: Progress | None  # running: the model training now, its epoch, ETA and test accuracy
    resumed_from: int | None  # the epoch its last attempt resumed training from
    already_pushed: bool  # done by an earlier sweep, not run again
    log: Path | None  # the last attempt's output (for `follow_log`)
    folder: Path | None = None  # local, running: the queue worker's copy it trains in (its progress.json)

    @property
    def label(self) -> str:
        return " ".join(self.overrides) or "(baseline params)"


@dataclass(frozen=True)
class SweepView:
    id: str
    executor: str  # local or ray
    baseline: str  # the commit the points start from (the rows' parent in the Experiments tab)
    address: str | None  # Ray's job server
    created_at: float
    points: tuple[PointView, ...]
    driver_running: bool  # Ray: its driver process runs (local: always False, DVC's workers run it)
    finished: bool
    stopped: bool
    note: str | None  # one line: the cluster does not answer, the driver is gone, ...

    def count(self, state: str) -> int:
        return sum(point.state == state for point in self.points)

    @property
    def summary(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in (RUNNING, QUEUED, DONE, FAILED) if self.count(s))
        where = f"Ray at {self.address}" if self.executor == RAY else "DVC's queue"
        return f"sweep {self.id} ({where}, baseline {self.baseline[:7]}): {len(self.points)} points, {counts}"

    def point(self, name: str) -> PointView:
        for point in self.points:
            if point.name == name or str(point.index) == name:
                return point
        raise SweepError(f"sweep {self.id} has no point {name!r}; its points: "
                         f"{', '.join(p.name for p in self.points)}")


def sweeps(root: Path) -> list[SweepView]:
    return [_view(Path(root), record) for record in st.load_all(Path(root))]


def sweep(root: Path, sweep_id: str) -> SweepView:
    return _view(Path(root), _record(Path(root), sweep_id))


def log_text(root: Path, sweep_id: str, point: str) -> str:
    """The point's output: each attempt's log in turn (Ray), or its DVC queue log (local)."""
    view = sweep(root, sweep_id)
    found = view.point(point)
    if view.executor == LOCAL:
        return found.log.read_text(errors="replace") if found.log and found.log.is_file() else ""
    parts = []
    for attempt in range(1, found.attempts + 1):
        path = st.log_path(Path(root), sweep_id, found.name, attempt)
        if path.is_file():
            parts.append(f"--- attempt {attempt} ---\n{path.read_text(errors='replace')}")
    return "\n".join(parts)


def follow_log(root: Path, sweep_id: str, point: str, poll_s: float = FOLLOW_POLL_S,
               stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
    """The point's output as it grows (new text each time), until the point has ended and all of its
    output was given, or `stop()` says so."""
    given = 0
    while True:
        ended = sweep(root, sweep_id).point(point).state in st.TERMINAL
        text = log_text(root, sweep_id, point)
        if len(text) < given:
            given = 0  # a local queue run's log was replaced
        if len(text) > given:
            yield text[given:]
            given = len(text)
        if ended or stop():
            return
        time.sleep(poll_s)


def stop_point(root: Path, sweep_id: str, point: str) -> str:
    record = _record(Path(root), sweep_id)
    found = sweep(root, sweep_id).point(point)
    if found.state in st.TERMINAL:
        raise SweepError(f"{found.name} is {found.state}: nothing to stop")
    if record.executor == LOCAL:
        return local.stop(Path(root), found.name, found.state)
    return _stop_ray(record, found.name)


def stop_sweep(root: Path, sweep_id: str) -> str:
    record = _record(Path(root), sweep_id)
    if record.executor == RAY:
        return _stop_ray(record, st.STOP_ALL)
    view = _view(Path(root), record)
    said = [local.stop(Path(root), p.name, p.state) for p in view.points if p.state in (QUEUED, RUNNING)]
    record.stopped = True
    st.save(record)
    return f"sweep {sweep_id} stopped" + (f" ({len(said)} point(s) removed from DVC's queue)" if said else "")


def _stop_ray(record: st.Sweep, name: str) -> str:
    """A running driver acts on the request within a second; without one, do what it would do here."""
    st.request_stop(Path(record.root), record.id, name)
    what = f"sweep {record.id}" if name == st.STOP_ALL else name
    if driver.alive(record):
        return f"stop of {what} requested; the sweep's driver stops it"
    from sweeps import cluster

    driver.apply_stops(record, cluster.connect(record.address or ""))
    st.save(record)
    return f"{what} stopped"


def _record(root: Path, sweep_id: str) -> st.Sweep:
    path = st.state_path(root, sweep_id)
    if not path.is_file():
        known = ", ".join(s.id for s in st.load_all(root)) or "none"
        raise SweepError(f"no sweep {sweep_id!r} in {root}; sweeps here: {known}")
    return st.load(path)


def _view(root: Path, record: st.Sweep) -> SweepView:
    if record.executor == LOCAL:
        points, note = _local_points(root, record), record.note
        running = False
    else:
        points = tuple(_ray_point(root, record, p) for p in record.points)
        running = driver.alive(record)
        note = record.note
        if not record.finished and not running:
            note = f"its driver is not running: `python -m sweeps resume {record.id}` carries it on"
    return SweepView(record.id, record.executor, record.baseline, record.address, record.created_at, points,
                     running, record.finished, record.stopped, note)


def _ray_point(root: Path, record: st.Sweep, p: st.PointState) -> PointView:
    log = st.log_path(root, record.id, p.name, p.attempts) if p.attempts else None
    return PointView(record.id, p.index, p.name, tuple(p.overrides), p.state, p.error, p.attempts,
                     p.progress if p.state == RUNNING else None, p.resumed_from, p.already_pushed, log)


def _local_points(root: Path, record: st.Sweep) -> tuple[PointView, ...]:
    try:
        found = local.states(root, record)
    except Exception as exc:  # DVC could not read its queue now: say so on every point not known done
        found = {}
        problem = f"DVC cannot read its queue now ({type(exc).__name__}: {exc})"
    else:
        problem = "not in DVC's queue any more (removed with `dvc queue remove`?)"
    views = []
    for p in record.points:
        got = found.get(p.name)
        if got is None:
            got = (local.LocalState(DONE) if p.already_pushed
                   else local.LocalState(FAILED, "stopped" if record.stopped else problem))
        views.append(PointView(record.id, p.index, p.name, tuple(p.overrides), got.state, got.error,
                               int(got.state != QUEUED),
                               local.progress(got.folder) if got.state == RUNNING and got.folder else None,
                               None, p.already_pushed, got.log, got.folder))
    return tuple(views)


# --- as text and rows, for `python -m tui --once --experiments` and `python -m sweeps status` ----------


def describe(point: PointView) -> str:
    """A point's state in a few words: `running model_a epoch 3/500, test acc 0.9712, ETA 6 min`."""
    if point.state == FAILED:
        return f"failed: {point.error}"
    if point.state == DONE:
        return "done (already pushed)" if point.already_pushed else "done"
    if point.state == RUNNING and point.progress:
        p = point.progress
        parts = [f"running {p.model} epoch {p.epoch}/{p.epochs}"]
        if p.test_accuracy is not None:
            parts.append(f"test acc {p.test_accuracy:.4f}")
        if p.eta_s is not None:
            parts.append(f"ETA {duration(p.eta_s)}")
        text = ", ".join(parts)
    else:
        text = point.state
    if point.attempts > 1:
        text += f" (attempt {point.attempts}" + (f", resumed at epoch {point.resumed_from})"
                                                 if point.resumed_from else ")")
    return text


def rows(root: Path, found: list[SweepView] | None = None) -> list[dict[str, str]]:
    """One row per point of every sweep: sweep, baseline, point, params, state (with progress or error)."""
    found = sweeps(root) if found is None else found
    return [{"sweep": view.id, "baseline": view.baseline[:7], "point": point.name, "params": point.label,
             "state": describe(point)} for view in found for point in view.points]


def text(root: Path, found: list[SweepView] | None = None) -> str:
    """Every sweep as aligned text: a heading line per sweep, then its points; "" when there is none."""
    found = sweeps(root) if found is None else found
    out = []
    for view in found:
        out.append(view.summary + (f" -- {view.note}" if view.note else ""))
        width = max((len(point.label) for point in view.points), default=0)
        out += [f"  {point.name}  {point.label:<{width}}  {describe(point)}" for point in view.points]
    return "\n".join(out) + ("\n" if out else "")


def duration(seconds: float) -> str:
    """An ETA as a person reads it: seconds, minutes, then hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
