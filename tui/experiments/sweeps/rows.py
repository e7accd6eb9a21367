"""A sweep's points as the Experiments tab lists them, what stopping one would do, and pulling the
finished ones: data and text, no Textual.

Everything comes from sweeps.reader (the API `python -m sweeps status` uses): a Ray sweep is its
sweep.json, rewritten by the sweep's driver within a second of each epoch a job reports; a
local sweep's states are DVC's queue, which costs DVC about a second, so `read` runs in a
worker thread, and only when `watched_paths` changed (tui.ground.watch, the dashboard's one
way of noticing change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mnist_dvc.core.errors import ProjectError
from sweeps import reader
from sweeps import state as st
from sweeps.gitrefs import GitError, local_names
from sweeps.reader import PointView, SweepView
from tui.ground.dvc import last_line, run_dvc

COLUMNS = ("point", "params", "state", "epoch", "ETA", "test acc")
HERE = "in the runs table"
QUEUE_DIR = Path(".dvc/tmp/exps")


class PullError(ProjectError):
    """`dvc exp pull` refused, or there is nothing to pull: one line."""


@dataclass(frozen=True)
class Found:
    """Every sweep of the project, and which done points are experiments in this repository."""

    views: tuple[SweepView, ...]
    here: dict[str, frozenset[str]]  # sweep id -> its points' names that this repository has as experiments


@dataclass(frozen=True)
class SweepRow:
    key: str  # "<sweep id>" for a sweep's heading row, "<sweep id>/<point name>" for a point
    sweep: str
    point: str | None
    cells: tuple[str, ...]  # one per COLUMNS
    state: str | None  # the point's state (None on a heading row)


def read(root: Path) -> Found:
    """Blocking (a local sweep asks DVC's queue): call it from a worker thread."""
    views = tuple(reader.sweeps(root))
    here = {}
    for view in views:
        try:
            here[view.id] = frozenset(local_names(root, view.baseline))
        except GitError:
            here[view.id] = frozenset()
    return Found(views, here)


def watched_paths(root: Path, git: Iterable[Path], found: Found | None) -> list[Path]:
    """What changes when a sweep or one of its points does: the sweeps' records (a Ray sweep's
    sweep.json is rewritten on each epoch; their copied logs are skipped, see WATCH_SKIP), git's
    experiment refs (a point pulled or finished), DVC's queue task files, and the metrics folder
    each running local point trains in (its progress.json)."""
    paths = [root / st.SWEEPS_DIR, root / QUEUE_DIR / "celery", root / QUEUE_DIR / "run"]
    for folder in git:
        paths += [folder / "packed-refs", folder / "refs/exps"]
    for view in found.views if found else ():
        for point in view.points:
            if point.state == st.RUNNING and point.folder is not None:
                paths.append(point.folder / "metrics" / "train")
    return paths


WATCH_SKIP = (".log",)


def rows(found: Found) -> list[SweepRow]:
    """A heading row per sweep (its baseline, where it runs, its counts), then a row per point."""
    out = []
    for view in found.views:
        where = f"Ray at {view.address}" if view.executor == st.RAY else "DVC's queue"
        counts = ", ".join(f"{view.count(s)} {s}" for s in (st.RUNNING, st.QUEUED, st.DONE, st.FAILED)
                           if view.count(s))
        heading = (f"▾ baseline {view.baseline[:7]}", f"sweep {view.id} on {where}",
                   f"{len(view.points)} points: {counts}", "", "", "")
        out.append(SweepRow(view.id, view.id, None, heading, None))
        here = found.here.get(view.id, frozenset())
        for point in view.points:
            out.append(SweepRow(f"{view.id}/{point.name}", view.id, point.name,
                                (f"  {point.name}", point.label, state_text(view, point, here),
                                 *progress_cells(point)), point.state))
    return out


def state_text(view: SweepView, point: PointView, here: frozenset[str] = frozenset()) -> str:
    """queued, running MODEL, done (and whether it is here), or failed with its one-line error."""
    if point.state == st.FAILED:
        return f"failed: {one_line(point.error or 'no reason given')}"
    if point.state == st.DONE:
        if point.already_pushed:
            text = "done (already pushed)"
        elif view.executor == st.LOCAL or point.name in here:
            text = "done"
        else:
            text = "done, on the remotes (p: pull it)"
        return text + (f" · {HERE}" if point.name in here else "")
    text = point.state
    if point.state == st.RUNNING and point.progress is not None:
        text += f" {point.progress.model}"
    if point.attempts > 1:
        text += f" (attempt {point.attempts}" + (f", resumed at epoch {point.resumed_from})"
                                                 if point.resumed_from else ")")
    return text


def progress_cells(point: PointView) -> tuple[str, str, str]:
    """A running point's epoch, ETA and latest test accuracy, as its training last wrote them."""
    p = point.progress
    if point.state != st.RUNNING or p is None:
        return "", "", ""
    return (f"{p.epoch}/{p.epochs}", reader.duration(p.eta_s) if p.eta_s is not None else "",
            f"{p.test_accuracy:.4f}" if p.test_accuracy is not None else "")


def one_line(text: str) -> str:
    return " ".join(text.split())



# --- stopping ------------------------------------------------------------------------------------


def stop_question(view: SweepView, point: PointView | None) -> str | None:
    """What stopping will do, as sweeps/ does it; None when there is nothing to stop."""
    if point is not None:
        if point.state in st.TERMINAL:
            return None
        return f"Stop point {point.name} ({point.label}) of sweep {view.id}? {_stop_effect(view, point)} " \
               "The other points go on."
    live = [p for p in view.points if p.state not in st.TERMINAL]
    if not live:
        return None
    running, queued = sum(p.state == st.RUNNING for p in live), sum(p.state == st.QUEUED for p in live)
    done = view.count(st.DONE)
    if view.executor == st.RAY:
        how = (f"its {running} running job(s) are stopped on the cluster and its {queued} queued point(s) "
               "never run; each is marked failed (\"stopped\" / \"not run: the sweep was stopped\") and "
               "nothing of theirs is pushed.")
    else:
        how = (f"its {running} running point(s) are killed (`dvc queue kill`: DVC discards the queue's copy "
               f"they trained in) and its {queued} queued point(s) removed (`dvc queue remove`).")
    return (f"Stop the whole sweep {view.id} ({len(view.points)} points)? {how[0].upper()}{how[1:]} "
            f"Its {done} done point(s) stay as they are. {_who(view)}")


def _stop_effect(view: SweepView, point: PointView) -> str:
    if view.executor == st.LOCAL:
        if point.state == st.RUNNING:
            return (f"`dvc queue kill {point.name}`: DVC stops its run and discards the queue's copy it "
                    "trained in; it is listed as failed.")
        return f"`dvc queue remove {point.name}`: it leaves DVC's queue and never runs."
    if point.state == st.RUNNING:
        return (f"Its Ray job is stopped; the point is marked failed (\"stopped\") and nothing of it is "
                f"pushed. {_who(view)}")
    return f"It never runs; it is marked failed (\"not run: stopped\"). {_who(view)}"


def _who(view: SweepView) -> str:
    if view.executor == st.LOCAL:
        return ""
    if view.driver_running:
        return "The sweep's driver acts on it within a second."
    return f"Its driver is not running: the dashboard asks the cluster at {view.address} itself."


def stop(root: Path, sweep_id: str, point: str | None) -> str:
    """sweeps.reader's own stop (blocking: a worker thread)."""
    if point is None:
        return reader.stop_sweep(root, sweep_id)
    return reader.stop_point(root, sweep_id, point)


# --- pulling -------------------------------------------------------------------------------------


def pull(root: Path, sweep_id: str, names: list[str]) -> str:
    """`dvc exp pull REMOTE NAME...` of done points of a Ray sweep, from the git remote the sweep
    pushed to; they become ordinary experiment rows. Blocking: a worker thread."""
    record = st.load(st.state_path(root, sweep_id))
    if not names:
        raise PullError(f"sweep {sweep_id}: no done point to pull here")
    code, out = run_dvc(root, "exp", "pull", record.git_remote, *names)
    if code != 0:
        raise PullError(f"dvc exp pull {record.git_remote} {' '.join(names)} failed: {last_line(out)}")
    return f"pulled {', '.join(names)} from {record.git_remote}"


def to_pull(view: SweepView, here: frozenset[str], point: PointView | None) -> list[str]:
    """The done points of a Ray sweep (the one under the cursor, or all) not yet experiments here."""
    chosen = [point] if point is not None else list(view.points)
    return [p.name for p in chosen if view.executor == st.RAY and p.state == st.DONE and p.name not in here]


# --- `python -m tui --once --experiments` -----------------------------------------------------------


def once(root: Path, fmt: str) -> str:
    """The sweeps after the runs table: aligned text, or a Markdown table (a CSV stays one table)."""
    found = reader.sweeps(root)
    if not found or fmt == "csv":
        return ""
    if fmt != "md":
        return "\nSweeps\n" + reader.text(root, found)
    listed = reader.rows(root, found)
    heads = list(listed[0])
    lines = ["", "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(row[h].replace("|", "\\|") for h in heads) + " |" for row in listed]
    return "\n".join(lines) + "\n"
