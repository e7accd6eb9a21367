"""`reports/history/<model>/seed_<s>.tsv`: written by `evaluate`, one seed's per-epoch history.

The training log (DVCLive's TSVs under metrics/train/) is a DVC output: a clone without the DVC
cache has none of it. This report carries the same values, committed to git, so the curves of
the committed run are there the moment the project is cloned. It is a TSV, not JSON, so that
DVC's plots (`dvc plots show`) draw it as it is: one row per epoch, the columns
contracts.HISTORY_COLUMNS, every number as Python's float repr (the log's value exactly), and
the seed's `timing` (contracts.TIMINGS) on every row.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Self

from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.contracts import HISTORY_COLUMNS, SERIES, TIMINGS, rerun_hint
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import read_text
from mnist_dvc.core.records.base import Record

SEPARATOR = "\t"


class HistoryReport(Record):
    """One seed's history: per epoch (1-based, increasing) the SERIES columns, all the same length,
    and how the seed's times were found (`timing`)."""

    timing: Literal[TIMINGS]
    epoch: list[int]
    train_loss: list[float]
    train_accuracy: list[float]
    test_loss: list[float]
    test_accuracy: list[float]
    epoch_s: list[float]
    train_time_s: list[float]

    def __post_init__(self) -> None:
        lengths = {column: len(getattr(self, column)) for column in ("epoch", *SERIES)}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"columns of different lengths: {lengths}")

    def __len__(self) -> int:
        return len(self.epoch)

    def to_text(self) -> str:
        rows = [SEPARATOR.join(HISTORY_COLUMNS)]
        for i, epoch in enumerate(self.epoch):
            values = (repr(float(getattr(self, column)[i])) for column in SERIES)
            rows.append(SEPARATOR.join((str(epoch), *values, self.timing)))
        return "\n".join(rows) + "\n"

    @classmethod
    def from_text(cls, text: str | bytes, path: Path | str) -> Self:
        """The report in `text`, the content of `path`; anything off its shape is one BadInput line
        naming the file and the line."""
        redo = rerun_hint(path, force=True)
        if isinstance(text, bytes):
            try:
                text = text.decode()
            except UnicodeDecodeError:
                raise BadInput(path, "not UTF-8 text (corrupt)", redo) from None
        lines = text.splitlines()
        if not lines:
            raise BadInput(path, "empty file", redo)
        header = tuple(lines[0].split(SEPARATOR))
        if header != HISTORY_COLUMNS:
            raise BadInput(path, f"has columns {list(header)}, expected {', '.join(HISTORY_COLUMNS)}", redo)
        if len(lines) < 2:
            raise BadInput(path, "has no epoch", redo)
        columns: dict[str, list] = {column: [] for column in HISTORY_COLUMNS}
        for number, line in enumerate(lines[1:], start=2):
            problem = _row_problem(line.split(SEPARATOR), columns)
            if problem:
                raise BadInput(path, f"line {number}: {problem}", redo)
        timings = columns.pop("timing")
        return cls(timing=timings[0], **columns)

    @classmethod
    def read(cls, path: Path | str) -> Self:
        return cls.from_text(read_text(path), path)

    def write(self, path: Path | str) -> None:
        write_text(path, self.to_text())


def _row_problem(row: list[str], columns: dict[str, list]) -> str | None:
    """Append one row's values to `columns`, or say what is wrong with it."""
    if len(row) != len(HISTORY_COLUMNS):
        return f"{len(row)} values under {len(HISTORY_COLUMNS)} columns"
    epoch, *values, timing = row
    if not epoch.isdigit() or int(epoch) < 1:
        return f"epoch {epoch!r} is not an integer >= 1"
    if columns["epoch"] and int(epoch) <= columns["epoch"][-1]:
        return f"epoch {epoch} does not follow epoch {columns['epoch'][-1]}"
    if timing not in TIMINGS:
        return f"timing {timing!r} is not one of {', '.join(TIMINGS)}"
    if columns["timing"] and timing != columns["timing"][0]:
        return f"timing {timing!r} differs from the first row's {columns['timing'][0]!r}"
    numbers = []
    for column, text in zip(SERIES, values, strict=True):
        try:
            number = float(text)
        except ValueError:
            return f"{column} {text!r} is not a number"
        if not math.isfinite(number):
            return f"{column} is {text}, expected a finite number"
        numbers.append(number)
    columns["epoch"].append(int(epoch))
    for column, number in zip(SERIES, numbers, strict=True):
        columns[column].append(number)
    columns["timing"].append(timing)
    return None
