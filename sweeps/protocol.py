"""The lines a Ray job prints about itself, and how the driver reads them back from the job's log.

A job's only channel back to the submitting machine is its log (Ray keeps it on the
node and serves it through the job server), so the job prints one tagged line per event:

    [sweep] started 1796690257.896    the job's entrypoint began (the node's clock)
    [sweep] progress {"model": "model_a", "epoch": 3, "epochs": 500, "eta_s": 412.0, ...}
    [sweep] resumed 40          training went on from the checkpoint after epoch 40
    [sweep] error <one line>    why the point failed
    [sweep] pushed p-1a2b3c4d5e   its experiment reached the git and DVC remotes
    [sweep] already-pushed p-…    an earlier run had pushed it: nothing ran

The driver keeps the last of each. Everything else in the log is DVC's and the
stages' own output, shown as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

TAG = "[sweep]"
STARTED, PROGRESS, RESUMED, ERROR = "started", "progress", "resumed", "error"
PUSHED, ALREADY_PUSHED = "pushed", "already-pushed"
EVENTS = (STARTED, PROGRESS, RESUMED, ERROR, PUSHED, ALREADY_PUSHED)
LINE = re.compile(rf"^{re.escape(TAG)} ({'|'.join(EVENTS)}) ?(.*)$", re.MULTILINE)


class Progress(msgspec.Struct, kw_only=True):
    """A `progress` line: one model's training in the job's clone, read from its progress.json."""

    model: str
    state: str
    epoch: int
    epochs: int
    eta_s: float | None
    test_accuracy: float | None
    seen_at: float  # when the job read it (the node's clock)


def line(event: str, detail: Any = "") -> str:
    """One tagged line; a Progress is written as compact JSON."""
    text = msgspec.json.encode(detail).decode() if isinstance(detail, Progress) else str(detail)
    return f"{TAG} {event} {' '.join(text.split())}".rstrip()


@dataclass
class Report:
    """What a job's log says so far."""

    started: float | None = None
    progress: Progress | None = None
    resumed_from: int | None = None
    error: str | None = None
    pushed: bool = False
    already_pushed: bool = False


def read(log: str) -> Report:
    report = Report()
    for match in LINE.finditer(log):
        event, detail = match[1], match[2].strip()
        if event == STARTED:
            try:
                report.started = float(detail)
            except ValueError:
                continue
        elif event == PROGRESS:
            try:
                report.progress = msgspec.json.decode(detail, type=Progress)
            except msgspec.DecodeError:
                continue  # a line cut by the end of what the log holds so far (or not one of ours)
        elif event == RESUMED and detail.isdigit():
            report.resumed_from = int(detail)
        elif event == ERROR:
            report.error = detail
        elif event == PUSHED:
            report.pushed = True
        elif event == ALREADY_PUSHED:
            report.already_pushed = True
    return report
