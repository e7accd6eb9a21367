"""Read a training run's per-epoch log (the DVCLive folder `metrics/train/<model>/seed_<s>/`), or
its committed copy (`reports/history/<model>/seed_<s>.tsv`).

One reader for every consumer (evaluation, plots, dashboard), so the on-disk
layout is known in one place. A model's seeds are found on disk (`trained_seeds`).
DVCLive appends one row per epoch to each TSV while training runs, so a reader
can meet a last line that is only half written: such rows are dropped rather than
failing, and epochs are aligned on DVCLive's `step` column (the 1-based epoch number).

The log is a DVC output, absent from a clone without the DVC cache; evaluate copies every
seed's history into a committed report (`history_report`), and `seed_history` reads the live
log when there is one and the committed report otherwise, saying which it read.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mnist_dvc.core.contracts import (
    ERROR_COLUMNS,
    HISTORY_SUFFIX,
    MODEL_TOTAL,
    PROGRESS_NAME,
    SERIES,
    history_dir,
    history_file,
    run_dir,
    seed_dir,
    seeds_in,
    seeds_of,
    series_file,
)
from mnist_dvc.core.errors import BadInput, MissingInput
from mnist_dvc.core.records.history import HistoryReport
from mnist_dvc.core.records.progress import Progress
from mnist_dvc.core.run_files import CURRENT_FOLDER, RunFiles

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


def common_epochs(histories: Sequence[History]) -> list[int]:
    """The epochs every one of the histories has logged (while seeds train together they
    advance in step; after a failure the shortest one decides)."""
    if not histories:
        return []
    return sorted(set.intersection(*(set(history.epoch) for history in histories)))


def _columns(histories: Sequence[History], column: str, epochs: list[int]) -> list[list[float]]:
    """Per epoch, the column's value in each history."""
    lookups = [dict(zip(history.epoch, getattr(history, column), strict=True)) for history in histories]
    return [[lookup[epoch] for lookup in lookups] for epoch in epochs]


def mean_history(histories: Sequence[History]) -> History:
    """Per epoch the mean over the histories (seeds) of every column, on their common epochs;
    one history is returned as it is."""
    if len(histories) == 1:
        return histories[0]
    epochs = common_epochs(histories)
    means = {column: [statistics.fmean(values) for values in _columns(histories, column, epochs)]
             for column in SERIES}
    return History(epoch=epochs, **means)


@dataclass(frozen=True)
class SeedBand:
    """One column across seeds, per common epoch: the mean and the lowest and highest seed."""

    epoch: list[int]
    mean: list[float]
    low: list[float]
    high: list[float]


def seed_band(histories: Sequence[History], column: str) -> SeedBand:
    epochs = common_epochs(histories)
    rows = _columns(histories, column, epochs)
    return SeedBand(epochs, [statistics.fmean(row) for row in rows], [min(row) for row in rows],
                    [max(row) for row in rows])


def trained_seeds(model: str, root: Path = Path()) -> list[int]:
    """The seeds of a trained model (its `seed_<s>` folders), sorted; none is a one-line error."""
    seeds = seeds_of(run_dir(model, root))
    if not seeds:
        raise MissingInput(run_dir(model) / "seed_<s>", f"run `dvc repro train@{model}` first")
    return seeds


def load_trained_history(model: str, seed: int, root: Path = Path()) -> History:
    """One seed's finished log, for the stages that analyse it: no complete epoch is an error."""
    history = load_history(seed_dir(model, seed, root))
    if not len(history):
        raise BadInput(seed_dir(model, seed), "no complete epoch logged",
                       f"run `dvc repro train@{model}` first")
    return history


# --- the committed history, and the one reader of either -------------------------------------


def history_report(history: History, timing: str | None) -> HistoryReport:
    """The committed report of one seed's log; `timing`: progress.json's label (None: a log from
    before seeds were timed on their own, whose times are the model's wall time)."""
    return HistoryReport(timing=timing or MODEL_TOTAL, **history.as_dict())


def report_history(report: HistoryReport) -> History:
    return History(**{column: list(getattr(report, column)) for column in COLUMNS})


def seed_timing(model: str, seed: int, files: RunFiles = CURRENT_FOLDER) -> str | None:
    """The seed's `timing` label in its progress.json (None: not there, or written before the label)."""
    path = seed_dir(model, seed) / PROGRESS_NAME
    try:
        text = files.text(path)
    except OSError:
        return None
    return Progress.from_text(text, path).timing


LIVE, COMMITTED = "live log", "committed report"


@dataclass(frozen=True)
class SeedHistory:
    """One seed's per-epoch history and where it was read: `source` is LIVE (the training log,
    `path` its folder) or COMMITTED (the report evaluate wrote, `path` the file); `timing` says
    how its times were found (contracts.TIMINGS)."""

    model: str
    seed: int
    history: History
    timing: str
    source: str
    path: Path


def _live_present(model: str, seed: int, files: RunFiles) -> bool:
    """Whether the seed has a training log: its folder lists a progress file or a metrics folder
    (from the first moment a run starts writing it, before any epoch ends)."""
    try:
        names = {Path(name).name for name in files.names(seed_dir(model, seed))}
    except OSError:
        return False
    return bool({PROGRESS_NAME, "plots"} & names)


def _live_history(model: str, seed: int, files: RunFiles) -> History:
    series = {}
    for column in SERIES:
        path = series_file(seed_dir(model, seed), column)
        try:
            series[column] = parse_series(files.text(path), path.stem)
        except OSError:
            series[column] = {}
    return aligned_history(series)


def seed_history(model: str, seed: int, files: RunFiles = CURRENT_FOLDER) -> SeedHistory | None:
    """The history of `model`'s seed `seed`: the live training log if the run has one (even before
    its first epoch ends: an empty history), else the committed report, else None. `files` reads the
    run (DiskFiles(root), or a revision's reader); a report that is there but damaged is a one-line
    BadInput."""
    if _live_present(model, seed, files):
        history = _live_history(model, seed, files)
        timing = seed_timing(model, seed, files) or MODEL_TOTAL
        return SeedHistory(model, seed, history, timing, LIVE, seed_dir(model, seed))
    path = history_file(model, seed)
    try:
        text = files.text(path)
    except OSError:
        return None
    report = HistoryReport.from_text(text, path)
    return SeedHistory(model, seed, report_history(report), report.timing, COMMITTED, path)


def history_seeds(model: str, files: RunFiles = CURRENT_FOLDER) -> tuple[list[int], str | None]:
    """The seeds of `model` and where they were found: its training log's seed folders (LIVE), else
    its committed reports (COMMITTED); ([], None) when it has neither."""
    places = ((run_dir(model), "", LIVE), (history_dir(model), HISTORY_SUFFIX, COMMITTED))
    for folder, suffix, source in places:
        try:
            seeds = seeds_in(files.names(folder), suffix)
        except OSError:
            continue
        if seeds:
            return seeds, source
    return [], None


# --- the error curves DVC draws ------------------------------------------------------------------


def error_table(histories: Sequence[History]) -> str:
    """`metrics/error/<model>.tsv` (ERROR_COLUMNS) of one model's seeds: per common epoch the mean
    cumulative training time and error = 1 − accuracy (a fraction): the mean over the seeds, and its
    min and max (1 − the max and the min accuracy)."""
    time = seed_band(histories, "train_time_s")
    train, test = seed_band(histories, "train_accuracy"), seed_band(histories, "test_accuracy")
    columns = (time.mean, [1 - v for v in train.mean], [1 - v for v in test.mean],
               [1 - v for v in train.high], [1 - v for v in train.low],
               [1 - v for v in test.high], [1 - v for v in test.low])
    rows = ["\t".join(ERROR_COLUMNS)]
    for i, epoch in enumerate(time.epoch):
        rows.append("\t".join([str(epoch), *(f"{column[i]:.8g}" for column in columns)]))
    return "\n".join(rows) + "\n"
