"""The comparison's table, as the dashboard and its exports show a written `reports/comparison.json`.

One row per criterion: each model's cell, the model the comparison decided is better on it (the
★ goes there and nowhere else: `winners`, decided once by mnist_dvc.analysis.comparison), and the
first pair's difference across seeds. Every number of a row is written in one format whose digits
fit the narrowest interval of the row (mnist_dvc.analysis.precision): `2.5 ± 6.4` for the epoch
of best test accuracy, never `2 ± 6` for a mean of 2.5. Training time is per seed with a spread
only where each seed was timed on its own; stacked seeds' time is labelled as the stack's share,
and an older log's time as all the seeds together: one measurement, no ±, no difference, no ★.

Without scipy (comparison.py imports it), so a reader that only shows a comparison starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mnist_dvc.analysis.criteria import BY_KEY, CRITERIA, Criterion, signed_difference
from mnist_dvc.analysis.formats import duration, p_value
from mnist_dvc.analysis.precision import UNITS, RowFormat, row_format
from mnist_dvc.core.contracts import MEASURED, MODEL_TOTAL, STACK_SHARE
from mnist_dvc.core.records.comparison import Comparison, Difference, ModelEntry, Spread

TIME = "train_time_s"
INTEGERS = ("best_test_epoch", "params")  # written as counts where no cell has an interval
# How a model's training time was found, as the time row's label says it (contracts.TIMINGS).
TIME_NOTES = {MEASURED: "per seed", STACK_SHARE: "per seed, stack share", MODEL_TOTAL: "all seeds together"}


@dataclass(frozen=True)
class TableRow:
    """One criterion: its label, each model's cell, the better model (None: no model is, or the row
    only informs) and the first pair's difference with its interval and p (None without a test)."""

    key: str
    label: str
    cells: dict[str, str]
    winner: str | None
    difference: str | None


def timing_of(entry: ModelEntry) -> str:
    """The model's timing; a file from before it was recorded: every seed carries the model's time."""
    return entry.timing or MODEL_TOTAL


def time_label(comparison: Comparison) -> str:
    """The training-time row's label: per seed, the stack's share, or all seeds together."""
    notes = {model: TIME_NOTES[timing_of(entry)] for model, entry in comparison.models.items()}
    label = BY_KEY[TIME].label
    if len(set(notes.values())) == 1:
        return f"{label} ({next(iter(notes.values()))})"
    return f"{label} ({'; '.join(f'{model}: {note}' for model, note in notes.items())})"


def _half(spread: Spread) -> float | None:
    return (spread.ci[1] - spread.ci[0]) / 2 if spread.ci else None


def _row_difference(comparison: Comparison, key: str) -> Difference | None:
    pair = comparison.differences[0] if comparison.differences else None
    return pair.criteria.get(key) if pair else None


def row_fmt(criterion: Criterion, spreads: list[Spread], diff: Difference | None) -> RowFormat | None:
    """The one format of a row (None: the criterion's own spelling, for counts with no interval)."""
    halves = [_half(spread) for spread in spreads]
    if diff is not None and diff.p_value is not None:
        halves.append((diff.ci[1] - diff.ci[0]) / 2)
    if criterion.key not in UNITS or (criterion.key in INTEGERS and not any(halves)):
        return None
    values = [spread.mean for spread in spreads]
    for spread in spreads:
        values += list(spread.ci or ())
    if diff is not None:
        values += [diff.difference, *diff.ci]
    return row_format(UNITS[criterion.key][0], values, halves)


def _cell(fmt: RowFormat | None, criterion: Criterion, spread: Spread) -> str:
    if fmt is None:
        return criterion.fmt(spread.mean)
    half = _half(spread)
    return fmt.value(spread.mean) if half is None else fmt.pm(spread.mean, half)


def difference_text(fmt: RowFormat | None, criterion: Criterion, diff: Difference) -> str:
    """first − second, its 95% interval and p: "-0.43 pts (-0.79 to -0.07 pts; p 0.021)"."""
    if fmt is None:  # a count with no interval: every seed the same (a parameter count)
        return f"{signed_difference(criterion, diff.difference)} (same on every seed)"
    fmt = replace(fmt, unit=UNITS[criterion.key][1])
    shown = fmt.value(diff.difference, signed=True)
    if diff.p_value is None:
        return f"{shown} (same on every seed)"
    return f"{shown} ({fmt.interval(*diff.ci, signed=True)}; p {p_value(diff.p_value)})"


def _time_row(comparison: Comparison) -> TableRow:
    """Training time: a spread, a difference and a ★ only where every model timed its seeds one by
    one; else each model's time as measured (a file from before `timing` holds zero-width intervals,
    a difference and a winner for the model's wall time: none of them is shown)."""
    entries = comparison.models
    criterion = BY_KEY[TIME]
    label = time_label(comparison)
    if all(timing_of(entry) == MEASURED for entry in entries.values()):
        spreads = [entry.stats[TIME] for entry in entries.values()]
        diff = _row_difference(comparison, TIME)
        if all(spread.ci is None for spread in spreads) and diff is None:  # one seed each
            cells = {model: duration(entry.stats[TIME].mean) for model, entry in entries.items()}
            return TableRow(TIME, label, cells, comparison.winners[TIME].winner, None)
        fmt = row_fmt(criterion, spreads, diff)
        cells = {model: _cell(fmt, criterion, entry.stats[TIME]) for model, entry in entries.items()}
        difference = difference_text(fmt, criterion, diff) if diff else None
        return TableRow(TIME, label, cells, comparison.winners[TIME].winner, difference)
    measured = {model: entry.stats[TIME] for model, entry in entries.items() if timing_of(entry) == MEASURED}
    if not any(spread.ci for spread in measured.values()):
        # one measurement per model: a seed's time (the stack's share) or all its seeds' wall time
        cells = {model: duration(entry.stats[TIME].mean) for model, entry in entries.items()}
    else:
        fmt = row_fmt(criterion, [entry.stats[TIME] for entry in entries.values()], None)
        cells = {model: _cell(fmt, criterion, measured[model]) if model in measured else fmt.value(
            entry.stats[TIME].mean) for model, entry in entries.items()}
    return TableRow(TIME, label, cells, None, None)


def table_rows(comparison: Comparison) -> list[TableRow]:
    """The comparison's rows, in the criteria's order (contracts.CRITERION_KEYS)."""
    rows = []
    for criterion in CRITERIA:
        if criterion.key == TIME:
            rows.append(_time_row(comparison))
            continue
        spreads = [entry.stats[criterion.key] for entry in comparison.models.values()]
        diff = _row_difference(comparison, criterion.key)
        fmt = row_fmt(criterion, spreads, diff)
        cells = {model: _cell(fmt, criterion, entry.stats[criterion.key])
                 for model, entry in comparison.models.items()}
        difference = difference_text(fmt, criterion, diff) if diff else None
        rows.append(TableRow(criterion.key, criterion.label, cells, comparison.winners[criterion.key].winner,
                             difference))
    return rows
