"""Read a training run's per-epoch log (the DVCLive folder `metrics/train/<model>/`).

One reader for every consumer (evaluation, plots, dashboard), so the on-disk
layout is known in one place. DVCLive appends one row per epoch to each TSV
while training runs, so a reader can meet a last line that is only half
written: such rows are dropped rather than failing, and epochs are aligned on
DVCLive's `step` column (the 1-based epoch number).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from mnist_dvc.core.contracts import SERIES, run_dir, series_file
from mnist_dvc.core.errors import BadInput

COLUMNS = ("epoch", *SERIES)


@dataclass(frozen=True)
class History:
    """Per-epoch columns, all the same length, aligned on `epoch` (1-based)."""

    epoch: list[int]
    train_loss: list[float]
    train_accuracy: list[float]
    test_loss: list[float]
    test_accuracy: list[float]
    epoch_s: list[float]
    train_time_s: list[float]

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict[str, list]:
        return {name: list(getattr(self, name)) for name in COLUMNS}

    def to_frame(self):  # -> pandas.DataFrame; pandas imported lazily (slow import)
        import pandas as pd

        return pd.DataFrame(self.as_dict())


def read_series(path: Path) -> dict[int, float]:
    """step -> value from one DVCLive TSV; incomplete or unparsable rows are skipped."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return {}
    return parse_series(text, Path(path).stem)


def parse_series(text: str, name: str) -> dict[int, float]:
    """step -> value from the text of a DVCLive TSV whose value column is `name`.

    Separate from `read_series` so a log read at another revision (through DVC, not
    from disk) goes through the same rules.
    """
    values: dict[int, float] = {}
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    rows = csv.reader(complete.splitlines(), delimiter="\t")
    header = next(rows, None)
    if not header or "step" not in header:
        return values
    step_col = header.index("step")
    value_col = header.index(name) if name in header else len(header) - 1
    for row in rows:
        if len(row) != len(header):
            continue
        try:
            step, value = int(row[step_col]), float(row[value_col])
        except ValueError:
            continue
        if math.isfinite(value):
            values[step] = value
    return values


def load_history(run_dir: Path | str) -> History:
    """The epochs for which every series has a value, in order (empty if nothing logged yet)."""
    run_dir = Path(run_dir)
    return aligned_history({column: read_series(series_file(run_dir, column)) for column in SERIES})


def aligned_history(series: dict[str, dict[int, float]]) -> History:
    """The History of one step -> value mapping per SERIES column: the epochs all of them have."""
    epochs = sorted(set.intersection(*(set(series[column]) for column in SERIES)))
    return History(epoch=epochs, **{c: [series[c][e] for e in epochs] for c in SERIES})


def load_trained_history(model: str, root: Path = Path()) -> History:
    """A finished model's log, for the stages that analyse it: no complete epoch is an error."""
    history = load_history(run_dir(model, root))
    if not len(history):
        raise BadInput(run_dir(model), "no complete epoch logged", f"run `dvc repro train@{model}` first")
    return history
