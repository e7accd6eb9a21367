"""The Experiments table as data: its columns, cells, order, filter, comparisons and exports.

Pure functions over tui.experiments.collect's rows, shared by the tab and `python -m tui --once
--experiments`, so the table in a report and on screen are the same. No Textual import here.

The columns are the run, its state, DVC's metrics (the numbers in the files the pipeline
declares under `metrics:`, whatever they are named: its headline numbers) and the params
whose values differ among the runs listed (`dvc exp show --only-changed`), or every param
with `all_params`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mnist_dvc.core.records.progress import Progress
from tui.experiments.collect import ExpTable
from tui.ground.runs import COMMIT, DONE, EXPERIMENT, FAILED, QUEUED, RUNNING, Run
from tui.ground.text import progress_brief

NAME, REV, STATE, LIVE = "run", "rev", "state", "live"
METRIC, PARAM = "metric", "param"
TEXT, MARKDOWN, CSV = "text", "md", "csv"
FORMATS = (TEXT, MARKDOWN, CSV)


@dataclass(frozen=True)
class Column:
    key: str  # unique among the columns: "metric:<label>", "param:<label>", or a fixed name
    label: str
    kind: str


FIXED = (Column(NAME, "run", NAME), Column(REV, "rev", REV), Column(STATE, "state", STATE))
LIVE_COLUMN = Column(LIVE, "progress", LIVE)
# A running experiment between trainings (preparing, evaluating, or a model not started yet).
NOT_TRAINING = "not training now"
# A metric cell of an experiment that has no result of its own: not yet (queued, running), or
# none (failed, killed). DVC's numbers for it are its baseline's, never shown as its own.
PENDING, NO_RESULT = "…", "✗"


def metric_column(label: str) -> Column:
    return Column(f"{METRIC}:{label}", label, METRIC)


def param_column(label: str) -> Column:
    return Column(f"{PARAM}:{label}", label, PARAM)


# --- columns ------------------------------------------------------------------------------


def _same(value: Any) -> str:
    """A param value as a comparable text ([64, 128] and [64,128] are the same list)."""
    return json.dumps(value, sort_keys=True, default=str)


def differing_params(runs: Sequence[Run], params: Iterable[str]) -> list[str]:
    """The params whose value (or absence) is not the same in every run; `dvc exp show --only-changed`."""
    return [key for key in params if len({_same(run.params.get(key)) for run in runs}) > 1]


def constant_metrics(runs: Sequence[Run], metrics: Iterable[str]) -> list[str]:
    """The metrics with one value in every finished run listed (an unfinished one has none of its own)."""
    done = [run for run in runs if finished(run)]
    return [key for key in metrics if len({_same(run.metrics.get(key)) for run in done}) <= 1]


def columns(table: ExpTable, runs: Sequence[Run], everything: bool = False, live: bool = False,
            rev: bool = False) -> list[Column]:
    """The table's columns for `runs` (the rows listed, after the filter): the params that differ
    among them first (what the user changed), then the metrics that differ; the columns equal in
    every row (`hidden`) only with `everything`, after those. One row alone has nothing to be
    compared with: every column. The tab leaves the revision out (its status line shows the
    cursor's); exports keep it."""
    fixed = [column for column in FIXED if rev or column.kind != REV]
    shown = [column for column in _ranked(table, runs) if everything or len(runs) < 2
             or column not in hidden(table, runs)]
    return [*fixed, *([LIVE_COLUMN] if live else []), *shown]


def hidden(table: ExpTable, runs: Sequence[Run]) -> list[Column]:
    """The metric and param columns whose value is the same in every row listed: constant metrics
    (say, the backprop walkthrough's `f` and `grads.*`, equal in every run) and unchanged params."""
    if len(runs) < 2:
        return []
    changed = set(differing_params(runs, table.params))
    return [*map(metric_column, constant_metrics(runs, table.metrics)),
            *(param_column(key) for key in table.params if key not in changed)]


def _ranked(table: ExpTable, runs: Sequence[Run]) -> list[Column]:
    changed = differing_params(runs, table.params)
    constant = set(constant_metrics(runs, table.metrics)) if len(runs) > 1 else set()
    return [*map(param_column, changed),
            *(metric_column(key) for key in table.metrics if key not in constant),
            *(metric_column(key) for key in table.metrics if key in constant),
            *(param_column(key) for key in table.params if key not in changed)]


def value(run: Run, column: Column) -> Any:
    """A cell's value, for sorting and for CSV: numbers stay numbers."""
    if column.kind == NAME:
        return run.name
    if column.kind == REV:
        return run.short_rev
    if column.kind == STATE:
        return run.state
    if column.kind == METRIC:
        return run.metrics.get(column.label)
    if column.kind == PARAM:
        return run.params.get(column.label)
    return None


def fmt(value: Any) -> str:
    """A cell as text: five significant digits like `dvc exp show`, lists as written in params.yaml."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.5g}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(item) for item in value) + "]"
    return str(value)


def finished(run: Run) -> bool:
    """Whether the run's metrics are its own results: every run but an experiment queued, running
    or failed (tui.experiments.collect leaves such a run's metrics out)."""
    return run.kind != EXPERIMENT or run.state == DONE


def cell(run: Run, column: Column, progress: Mapping[str, Progress] | None = None) -> str:
    if column.kind == LIVE:
        return live_text(progress or {}) if run.running else ""
    if column.kind == METRIC and not finished(run):
        return NO_RESULT if run.state == FAILED else PENDING
    return fmt(value(run, column))


def live_text(progress: Mapping[str, Progress]) -> str:
    """A running experiment in one cell: the model training now, its epoch, ETA, test accuracy
    (`progress`: its trainings that are running now)."""
    if not progress:
        return NOT_TRAINING
    return progress_brief(next(iter(progress.values()))).replace(" test accuracy ", " acc ")


# --- order and filter -----------------------------------------------------------------------


def sort_runs(runs: Sequence[Run], column: Column, descending: bool = False) -> list[Run]:
    """Runs by one column: numbers by value, text by text; runs without a value last, and the
    unfinished experiments (queued, running, failed) after every finished run, sorted among
    themselves: they have no results to rank."""

    def key(run: Run) -> tuple:
        item = value(run, column)
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            return (0, item, "")
        return (1, 0, fmt(item).lower())

    ordered = []
    for group in ([run for run in runs if finished(run)], [run for run in runs if not finished(run)]):
        present = [run for run in group if value(run, column) is not None]
        ordered += sorted(present, key=key, reverse=descending)
        ordered += [run for run in group if value(run, column) is None]
    return ordered


def search_text(run: Run) -> str:
    """What the filter matches: name, rev, kind, state, and every param as key=value."""
    parts = [run.name, run.rev, run.kind, run.state, *(f"{k}={fmt(v)}" for k, v in run.params.items())]
    return " ".join(parts).lower().replace(", ", ",")


def matches(run: Run, text: str) -> bool:
    """Every word of `text` occurs in the run's search text (case-insensitive)."""
    haystack = search_text(run)
    return all(word in haystack for word in text.lower().replace(", ", ",").split())


# --- two or more runs side by side --------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    key: str
    cells: tuple[str, ...]


def param_diff(runs: Sequence[Run], params: Iterable[str]) -> list[DiffRow]:
    """The params that differ among `runs`, one row each, a cell per run."""
    return [DiffRow(key, tuple(fmt(run.params.get(key)) for run in runs))
            for key in differing_params(runs, params)]


def delta(value: float | None, base: float | None) -> str:
    if value is None or base is None:
        return ""
    change = value - base
    return "±0" if change == 0 else f"{change:+.3g}"


def metric_deltas(runs: Sequence[Run], metrics: Iterable[str], baseline: Run) -> list[DiffRow]:
    """Each metric of each run, with its difference to the baseline run's (the baseline shows none)."""
    rows = []
    for key in metrics:
        base = baseline.metrics.get(key)
        cells = []
        for run in runs:
            number = run.metrics.get(key)
            change = "" if run.key == baseline.key else delta(number, base)
            cells.append(fmt(number) + (f" ({change})" if change else ""))
        if any(run.metrics.get(key) is not None for run in runs):
            rows.append(DiffRow(key, tuple(cells)))
    return rows


def models_of(runs: Iterable[Run]) -> list[str]:
    """The models the runs' params define (`models.<name>.…`), in order of first appearance."""
    found: dict[str, None] = {}
    for run in runs:
        for key in run.params:
            parts = key.split(".")
            if len(parts) > 2 and parts[0] == "models":
                found.setdefault(parts[1], None)
    return list(found)


# --- export ---------------------------------------------------------------------------------------


def export(table: ExpTable, fmt_: str = TEXT, everything: bool = False, width: int | None = None) -> str:
    """The table for a report (`text`), a pull request (`md`) or a spreadsheet (`csv`), with the
    tab's columns: the params that differ among the runs, then the metrics that differ (`everything`:
    every column). Text within `width` columns, if given: the columns equal in every row on one
    line below it, with their value, and the last columns that do not fit named on another."""
    runs = list(table.runs)
    cols = columns(table, runs, everything=everything, rev=True)
    if fmt_ == CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["kind", "baseline", "created", *(col.label for col in cols)])
        for run in runs:
            writer.writerow([run.kind, run.baseline[:7], run.created or "",
                             *(_csv_cell(value(run, col)) for col in cols)])
        return out.getvalue()
    indent = "↳ " if fmt_ == MARKDOWN else "  "
    numeric = {col.key: numeric_column(runs, col) for col in cols}
    if fmt_ == MARKDOWN:
        rows = [[_name(run, indent) if col.kind == NAME else cell(run, col) for col in cols] for run in runs]
        lines = ["| " + " | ".join(md_escape(col.label) for col in cols) + " |",
                 "|" + "|".join("---:" if numeric[col.key] else ":---" for col in cols) + "|"]
        lines += ["| " + " | ".join(map(md_escape, row)) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    texts = {col.key: [col.label, *(_name(run, indent) if col.kind == NAME else cell(run, col)
                                    for run in runs)] for col in cols}
    widths = {key: max(map(len, column)) for key, column in texts.items()}
    kept = list(cols)
    while width is not None and len(kept) > len(FIXED) and \
            sum(widths[col.key] for col in kept) + 2 * (len(kept) - 1) > width:
        kept.pop()
    lines = ["  ".join(_pad(texts[col.key][i], widths[col.key], numeric[col.key]) for col in kept).rstrip()
             for i in range(len(runs) + 1)]
    if width is not None and not everything:
        same = hidden(table, runs)
        example = next((run for run in runs if finished(run)), runs[0])
        notes = [f"{col.label} {cell(example, col)}" for col in same if col.kind == METRIC]
        unchanged = sum(col.kind == PARAM for col in same)
        if unchanged:
            notes.append(f"{unchanged} unchanged param{'s' * (unchanged != 1)}")
        lines += _wrapped("equal in every row: ", notes, width)
        left = [col.label for col in cols if col not in kept]
        if left:
            lines += _wrapped("left out for width: ", left, width, "(--all shows every column)")
    return "\n".join(lines) + "\n"


def _wrapped(head: str, items: Sequence[str], width: int, tail: str = "") -> list[str]:
    """`head` then the items joined by ` · `, over as many lines of `width` as they need."""
    if not items:
        return []
    words = [f"{item} ·" for item in items[:-1]] + [items[-1]] + ([tail] if tail else [])
    lines, line = [], head.rstrip()
    for word in words:
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "  " + word
        else:
            line += " " + word
    return [*lines, line]


def numeric_column(runs: Iterable[Run], column: Column) -> bool:
    """A column of numbers (right-aligned); one holding any text or list is text (left-aligned)."""
    if column.kind not in (METRIC, PARAM):
        return False
    return all(isinstance(item, (int, float)) and not isinstance(item, bool)
               for run in runs if (item := value(run, column)) is not None)


# What Markdown (CommonMark and GitHub's tables) would read as markup in a cell: `*` and `_`
# (emphasis), backquotes (code), angles (HTML), `~` (strikethrough), `|` (a new cell). A list's
# brackets stay: `[64, 128]` followed by no `(` or `[` is no link.
_MD_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_<>~|"})


def md_escape(text: str) -> str:
    """A cell's text as literal Markdown."""
    return text.translate(_MD_SPECIAL)


def _csv_cell(item: Any) -> Any:
    """Numbers in full, lists as JSON, nothing as an empty cell."""
    if item is None:
        return ""
    return json.dumps(item) if isinstance(item, list) else item


def _name(run: Run, indent: str) -> str:
    """An experiment's name indented under its commit's."""
    return (indent if run.kind == EXPERIMENT else "") + run.name


def _pad(text: str, width: int, right: bool) -> str:
    return text.rjust(width) if right else text.ljust(width)


def summary_line(table: ExpTable, shown: int, selected: int) -> str:
    """Counts for the tab's status line and the export's last line."""
    experiments = sum(run.kind == EXPERIMENT for run in table.runs)
    commits = sum(run.kind == COMMIT for run in table.runs)
    parts = [f"{shown} of {len(table.runs)} runs" if shown != len(table.runs) else f"{len(table.runs)} runs",
             f"{commits} commit{'s' * (commits != 1)}", f"{experiments} experiment{'s' * (experiments != 1)}"]
    queue = [f"{table.count(state)} {state}" for state in (RUNNING, QUEUED, FAILED) if table.count(state)]
    if queue:
        parts.append(" · ".join(queue))
    if selected:
        parts.append(f"{selected} selected")
    return " · ".join(parts)

