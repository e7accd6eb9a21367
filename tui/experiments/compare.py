"""Two or more runs side by side, as data: each run's curves of one model, the params that differ,
and the statistics between the runs (tui.experiments.between: every run against the baseline
across seeds, McNemar on every common seed, a criterion against the param the runs differ in).

Built from the runs' files (tui.ground.runs: at their revisions through DVC, or from their
folders), so it blocks: the tab builds it in a thread worker and hands it to its
`RunComparison` widget. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.experiments import table as exptable
from tui.experiments.collect import ExpTable
from tui.ground.runs import Run, RunFiles

if TYPE_CHECKING:
    from tui.experiments.between import Between

Series = tuple[str, tuple[int, ...], tuple[float, ...]]


@dataclass(frozen=True)
class Comparison:
    heading: str
    runs: tuple[str, ...]  # column labels, in selection order
    accuracy: tuple[Series, ...]
    loss: tuple[Series, ...]
    params: tuple[exptable.DiffRow, ...]
    notes: tuple[str, ...]  # what could not be read
    between: Between


def build_comparison(files: RunFiles, chosen: tuple[Run, ...], model: str | None, baseline: Run,
                     table: ExpTable, criterion: str) -> Comparison:
    """The comparison of `chosen` runs (curves of `model`; statistics of every model, `criterion`
    against the param they differ in): reads their files (blocking). The statistics import
    scipy.stats and statsmodels (about a second), so only a comparison of runs loads them."""
    from tui.experiments.between import build_between

    labels = tuple(run.name for run in chosen)
    accuracy, loss, notes = [], [], []
    for run in chosen:
        if model is None:
            break
        try:
            history = files.history(run, model)
        except Exception as exc:  # DVC's errors for a revision it cannot read: one line, the rest goes on
            said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            notes.append(f"{run.name}: no curves ({said})")
            continue
        accuracy.append((run.name, tuple(history.epoch), tuple(history.test_accuracy)))
        loss.append((run.name, tuple(history.epoch), tuple(history.test_loss)))
    heading = (f"{len(chosen)} runs · curves of {model or '(none)'} (m: next model) · "
               f"baseline {baseline.name} (b: the run under the cursor) · c: criterion against the param")
    return Comparison(
        heading=heading, runs=labels, accuracy=tuple(accuracy), loss=tuple(loss),
        params=tuple(exptable.param_diff(chosen, table.params)), notes=tuple(notes),
        between=build_between(files, chosen, baseline, criterion),
    )
