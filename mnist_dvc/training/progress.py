"""`progress.json`: the small, always-consistent status file of one seed's training run.

The dashboard polls it while `train` runs, so it is replaced atomically after
every epoch and on every change of state; its shape is a contract, the record
`mnist_dvc.core.records.progress.Progress` (docs/contracts.md). Each seed of a model has
its own, in its DVCLive folder.

Two clocks: the seed's own time (`epoch_s`, `elapsed_s`, found as `timing` says:
measured on its own, or its share of a stacked epoch) is what compares seeds and
models; the model's wall time (`model_elapsed_s`, all its seeds together) is what
the run has taken, and what the time left (`eta_s`) is estimated from.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mnist_dvc.core.contracts import PROGRESS_STATES, PROGRESS_TIMINGS
from mnist_dvc.core.records import progress as records

# Epoch times of the last few epochs predict the rest better than the first (compiling) one.
ETA_WINDOW = 10


@dataclass(frozen=True)
class EpochTime:
    """How long one epoch took: this seed's own seconds, found as `timing` says
    (contracts.MEASURED or STACK_SHARE), and the wall seconds of the model's epoch, all its seeds."""

    seed_s: float
    model_s: float
    timing: str


@dataclass
class Progress:
    path: Path
    model: str
    seed: int
    epochs: int
    backend: str
    epoch: int = 0
    elapsed_s: float = 0.0
    model_elapsed_s: float = 0.0
    timing: str | None = None
    epoch_times: list[float] = field(default_factory=list)
    model_epoch_times: list[float] = field(default_factory=list)
    last: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)

    def record_epoch(self, epoch: int, metrics: dict[str, float], took: EpochTime) -> None:
        """Take one finished epoch: `metrics` has train_/test_ loss and accuracy."""
        if took.timing not in PROGRESS_TIMINGS:
            raise ValueError(f"unknown timing {took.timing!r}")
        self.epoch, self.timing = epoch, took.timing
        self.elapsed_s += took.seed_s
        self.model_elapsed_s += took.model_s
        self.epoch_times.append(took.seed_s)
        self.model_epoch_times.append(took.model_s)
        self.last = dict(metrics)
        best = self.best
        if metrics["test_accuracy"] > best.get("test_accuracy", float("-inf")):
            best["test_accuracy"] = metrics["test_accuracy"]
            best["test_accuracy_epoch"] = epoch
        best["train_accuracy"] = max(metrics["train_accuracy"], best.get("train_accuracy", float("-inf")))
        best["train_loss"] = min(metrics["train_loss"], best.get("train_loss", float("inf")))
        best["test_loss"] = min(metrics["test_loss"], best.get("test_loss", float("inf")))

    def eta_s(self) -> float | None:
        """Wall seconds until the model's run ends: its seeds train together."""
        if not self.model_epoch_times:
            return None
        recent = statistics.median(self.model_epoch_times[-ETA_WINDOW:])
        return round(recent * (self.epochs - self.epoch), 2)

    def write(self, state: str, error: str | None = None) -> None:
        if state not in PROGRESS_STATES:
            raise ValueError(f"unknown state {state!r}")
        records.Progress(
            model=self.model,
            seed=self.seed,
            state=state,
            epoch=self.epoch,
            epochs=self.epochs,
            elapsed_s=round(self.elapsed_s, 3),
            eta_s=None if state != "running" else self.eta_s(),
            epoch_s=round(self.epoch_times[-1], 4) if self.epoch_times else None,
            timing=self.timing,
            model_elapsed_s=round(self.model_elapsed_s, 3),
            updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            pid=os.getpid(),
            backend=self.backend,
            last=records.LastEpoch(**self.last),
            best=records.BestSoFar(**self.best),
            error=error or None,
        ).write(self.path)

    def snapshot(self) -> dict:
        """What a checkpoint must remember to continue this record exactly."""
        return {"elapsed_s": self.elapsed_s, "model_elapsed_s": self.model_elapsed_s, "timing": self.timing,
                "epoch_times": self.epoch_times, "model_epoch_times": self.model_epoch_times,
                "best": self.best, "last": self.last}

    def restore(self, epoch: int, snap: dict) -> None:
        self.epoch = epoch
        self.elapsed_s, self.model_elapsed_s = snap["elapsed_s"], snap["model_elapsed_s"]
        self.timing = snap["timing"]
        self.epoch_times, self.model_epoch_times = list(snap["epoch_times"]), list(snap["model_epoch_times"])
        self.best, self.last = dict(snap["best"]), dict(snap["last"])
