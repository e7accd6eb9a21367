"""`metrics/train/<model>/seed_<s>/progress.json`: written by `train@<model>` through
mnist_dvc/training/progress.py, after every epoch and change of state."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from mnist_dvc.core.contracts import PROGRESS_STATES, PROGRESS_TIMINGS
from mnist_dvc.core.records.base import Count, Record, Seed


class LastEpoch(Record):
    """The latest epoch's metrics; all None (`{}` in the file) before the first epoch ends."""

    train_loss: float | None = None
    train_accuracy: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None


class BestSoFar(Record):
    """The best value of each metric so far, and the epoch of the best test accuracy; all None
    (`{}`) before the first epoch ends."""

    test_accuracy: float | None = None
    test_accuracy_epoch: Annotated[int, Meta(ge=1)] | None = None
    train_accuracy: float | None = None
    train_loss: float | None = None
    test_loss: float | None = None


class Progress(Record):
    """`metrics/train/<model>/seed_<s>/progress.json`, replaced after every epoch and change of state."""

    model: str
    seed: Seed
    state: Literal[PROGRESS_STATES]
    epoch: Count
    epochs: Annotated[int, Meta(ge=1)]
    elapsed_s: float
    eta_s: float | None  # None before the first epoch ends and once the run is not running
    epoch_s: float | None  # the seed's own seconds of its last epoch, found as `timing` says
    # How the seed's times were found (contracts.MEASURED / STACK_SHARE); None before the first epoch
    # ends, and in files written before seeds were timed on their own (their times are the model's).
    updated_at: str  # ISO 8601, UTC, seconds
    pid: Annotated[int, Meta(ge=1)]
    backend: str
    last: LastEpoch
    best: BestSoFar
    error: str | None = None  # one line, when failed or interrupted
    # How the seed's times were found (contracts.MEASURED / STACK_SHARE); left out before the first
    # epoch ends, and in files written before seeds were timed on their own (their times were the
    # model's wall time).
    timing: Literal[PROGRESS_TIMINGS] | None = None
    model_elapsed_s: float | None = None  # wall seconds of the model's run so far, all its seeds together
