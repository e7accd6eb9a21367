"""`progress.json`: the small, always-consistent status file of one seed's training run.

The dashboard polls it while `train` runs, so it is replaced atomically after
every epoch and on every change of state; its keys are a contract
(docs/contracts.md). Each seed of a model has its own, in its DVCLive folder.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.contracts import PROGRESS_STATES

# Epoch times of the last few epochs predict the rest better than the first (compiling) one.
ETA_WINDOW = 10


@dataclass
class Progress:
    path: Path
    model: str
    seed: int
    epochs: int
    backend: str
    epoch: int = 0
    elapsed_s: float = 0.0
    epoch_times: list[float] = field(default_factory=list)
    last: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)

    def record_epoch(self, epoch: int, epoch_s: float, elapsed_s: float, metrics: dict[str, float]) -> None:
        """Take one finished epoch: `metrics` has train_/test_ loss and accuracy."""
        self.epoch, self.elapsed_s = epoch, elapsed_s
        self.epoch_times.append(epoch_s)
        self.last = dict(metrics)
        best = self.best
        if metrics["test_accuracy"] > best.get("test_accuracy", float("-inf")):
            best["test_accuracy"] = metrics["test_accuracy"]
            best["test_accuracy_epoch"] = epoch
        best["train_accuracy"] = max(metrics["train_accuracy"], best.get("train_accuracy", float("-inf")))
        best["train_loss"] = min(metrics["train_loss"], best.get("train_loss", float("inf")))
        best["test_loss"] = min(metrics["test_loss"], best.get("test_loss", float("inf")))

    def eta_s(self) -> float | None:
        if not self.epoch_times:
            return None
        recent = statistics.median(self.epoch_times[-ETA_WINDOW:])
        return round(recent * (self.epochs - self.epoch), 2)

    def write(self, state: str, error: str | None = None) -> None:
        if state not in PROGRESS_STATES:
            raise ValueError(f"unknown state {state!r}")
        doc = {
            "model": self.model,
            "seed": self.seed,
            "state": state,
            "epoch": self.epoch,
            "epochs": self.epochs,
            "elapsed_s": round(self.elapsed_s, 3),
            "eta_s": None if state != "running" else self.eta_s(),
            "epoch_s": round(self.epoch_times[-1], 4) if self.epoch_times else None,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pid": os.getpid(),
            "backend": self.backend,
            "last": self.last,
            "best": self.best,
        }
        if error:
            doc["error"] = error
        try:
            write_json(self.path, doc)
        except OSError:
            if error is None or not self.path.is_file():
                raise
            # The folder refuses a new file (no permission, full): say how the run ended in the old
            # file itself, not atomically, since nothing else can say it.
            self.path.write_text(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n")

    def snapshot(self) -> dict:
        """What a checkpoint must remember to continue this record exactly."""
        return {"epoch_times": self.epoch_times, "best": self.best, "last": self.last}

    def restore(self, epoch: int, elapsed_s: float, snap: dict) -> None:
        self.epoch, self.elapsed_s = epoch, elapsed_s
        self.epoch_times = list(snap["epoch_times"])
        self.best, self.last = dict(snap["best"]), dict(snap["last"])
