"""A sweep at a glance: one criterion against the one numeric param the runs differ in.

Each run contributes, per model, its mean over seeds with the 95% interval and every seed's
value, so a reader sees both the trend and the noise around it. `varying_param` finds the param
(or says why there is none); `vs_table` builds the table as plain data; `vs_text` and `vs_csv`
render it for `python -m tui --once --experiments --vs <param>` (and `--format csv`). A table
whose runs also differ in other params says so: the trend is then not the param's alone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mnist_dvc.analysis.between_runs import INTERVAL_SCOPE, Estimate, RunValues, estimate, value_format
from mnist_dvc.analysis.comparison import BY_KEY

Params = Mapping[str, Mapping[str, Any]]  # run -> flattened params ("train.learning_rate" -> 0.001)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _differing(params: Params) -> list[str]:
    """The params whose value (or absence) is not the same in every run ([64,128] == [64, 128])."""
    keys = sorted({key for values in params.values() for key in values})
    return [key for key in keys if len({_text(values.get(key)) for values in params.values()}) > 1]


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class VsParam:
    """The one numeric param the runs differ in (`param`), or None and `message` saying why not."""

    param: str | None
    differing: tuple[str, ...]
    message: str


def varying_param(params: Params) -> VsParam:
    """The param to draw the runs against: the only one whose value differs, if it is a number."""
    differing = tuple(_differing(params))
    if not differing:
        return VsParam(None, differing, "The runs have the same params: nothing to draw against.")
    if len(differing) > 1:
        return VsParam(None, differing, f"The runs differ in {len(differing)} params "
                                        f"({', '.join(differing)}): pick one with --vs.")
    key = differing[0]
    if not all(_numeric(values.get(key)) for values in params.values()):
        return VsParam(None, differing, f"The runs differ only in {key}, which is not a number in every run.")
    return VsParam(key, differing, f"The runs differ only in {key}.")


@dataclass(frozen=True)
class VsRow:
    """One run's point for one model: the param's value, the criterion over the run's seeds."""

    model: str
    value: int | float
    run: str
    estimate: Estimate


@dataclass(frozen=True)
class VsTable:
    param: str
    criterion: str
    rows: tuple[VsRow, ...]  # by model (first seen order), then by param value
    others: tuple[str, ...]  # other params the runs differ in: the trend is not the param's alone

    def models(self) -> list[str]:
        return list(dict.fromkeys(row.model for row in self.rows))


def vs_table(runs: Sequence[RunValues], params: Params, param: str, criterion: str,
             models: Iterable[str] | None = None) -> VsTable:
    """`criterion` of every run and model against `param` (runs -> their params by run name)."""
    if criterion not in BY_KEY:
        raise ValueError(f"unknown criterion {criterion!r}: one of {', '.join(BY_KEY)}")
    for run in runs:
        value = params.get(run.name, {}).get(param)
        if not _numeric(value):
            raise ValueError(f"{run.name}: param {param} is {value!r}, not a number: --vs needs a "
                             "numeric param")
    wanted = list(dict.fromkeys(m for run in runs for m in run.values)) if models is None else list(models)
    rows = [VsRow(model, params[run.name][param], run.name, estimate(run, model, criterion))
            for model in wanted for run in sorted(runs, key=lambda r: params[r.name][param])
            if model in run.values]
    differing = _differing({run.name: params.get(run.name, {}) for run in runs})
    others = tuple(key for key in differing if key != param)
    return VsTable(param, criterion, tuple(rows), others)


def _title(table: VsTable) -> str:
    label = BY_KEY[table.criterion].label
    return f"{label} vs {table.param}: per run, the mean over its seeds with the 95% CI, each seed's value"


def _warnings(table: VsTable) -> list[str]:
    lines = [INTERVAL_SCOPE]
    if table.others:
        lines.insert(0, f"The runs also differ in {', '.join(table.others)}: the trend is not "
                        f"{table.param}'s alone.")
    return lines


def vs_text(table: VsTable) -> str:
    """The table as aligned text; each model's numbers share one format (precision.row_format)."""
    header = ["model", table.param, "run", "n", "value", "95% CI", "seeds"]
    lines = [header]
    for model in table.models():
        rows = [row for row in table.rows if row.model == model]
        fmt = value_format(*(row.estimate for row in rows))
        for row in rows:
            e = row.estimate
            value = fmt.value(e.value) if e.mean else f"{fmt.value(e.value)} (one measurement)"
            ci = fmt.interval(e.low, e.high) if e.low is not None else (e.note if e.mean else "–")
            seeds = ", ".join(f"{s}: {fmt.value(v)}" for s, v in zip(e.seeds, e.values, strict=True))
            lines.append([model, f"{row.value:.5g}", row.run, str(e.n), value, ci, seeds])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    return "\n".join([_title(table), "", *text, "", *_warnings(table)]) + "\n"


def vs_csv(table: VsTable) -> str:
    """The table for a spreadsheet: one row per model and run, every number in full, a column per seed.
    What the interval covers is a column (`ci_covers`), not a `#` line or a note row: those break
    csv.DictReader, pandas.read_csv and spreadsheets' header detection; a column keeps one table."""
    seeds = sorted({s for row in table.rows for s in row.estimate.seeds})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", table.param, "run", "criterion", "n", "value", "value_is", "ci_low", "ci_high",
                     "ci_covers", *(f"seed_{s}" for s in seeds)])
    for row in table.rows:
        e = row.estimate
        by_seed = dict(zip(e.seeds, e.values, strict=True))
        writer.writerow([row.model, repr(row.value), row.run, table.criterion, e.n, repr(e.value),
                         "mean" if e.mean else "one measurement",
                         "" if e.low is None else repr(e.low), "" if e.high is None else repr(e.high),
                         INTERVAL_SCOPE, *("" if s not in by_seed else repr(by_seed[s]) for s in seeds)])
    return out.getvalue()
