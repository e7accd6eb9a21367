"""Two or more runs side by side, as data: each run's curves of one model, its metrics against a
baseline run, the params that differ, and McNemar's test between every pair's predictions.

Built from the runs' files (tui.ground.runs: at their revisions through DVC, or from their
folders), so it blocks: the tab builds it in a thread worker and hands it to its
`RunComparison` widget. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from mnist_dvc.analysis.predictions import Predictions
from tui.experiments import table as exptable
from tui.experiments.collect import ExpTable
from tui.ground.runs import DONE, Run, RunFiles, RunFilesError

MOST_PAIRS = 10
Series = tuple[str, tuple[int, ...], tuple[float, ...]]


@dataclass(frozen=True)
class Comparison:
    heading: str
    runs: tuple[str, ...]  # column labels, in selection order
    accuracy: tuple[Series, ...]
    loss: tuple[Series, ...]
    metrics: tuple[exptable.DiffRow, ...]
    params: tuple[exptable.DiffRow, ...]
    notes: tuple[str, ...]  # McNemar's tests, and what could not be read


@dataclass(frozen=True)
class PairTest:
    """McNemar's exact test between two runs' predictions of one model."""

    first: str
    second: str
    b01: int | None = None  # images only `second` gets right
    b10: int | None = None  # images only `first` gets right
    p_value: float | None = None
    problem: str | None = None

    @property
    def sentence(self) -> str:
        """The project's McNemar sentence (the evaluate stage's words), or why there is no test."""
        from mnist_dvc.analysis.comparison import mcnemar_sentence  # scipy.stats: see mcnemar_between

        head = f"{self.first} vs {self.second}: "
        if self.problem is not None:
            return head + self.problem
        return head + mcnemar_sentence(self.first, self.second,
                                       {"b01": self.b01, "b10": self.b10, "p_value": self.p_value})


def mcnemar_between(first: str, a: Predictions, second: str, b: Predictions) -> PairTest:
    """The test, when both runs predicted the same test images (same test set, same order). The
    comparison module imports scipy.stats (about a second), so only a comparison of runs loads it,
    not the dashboard's start."""
    from mnist_dvc.analysis.comparison import mcnemar

    if a.actual.shape != b.actual.shape or not np.array_equal(a.actual, b.actual):
        return PairTest(first, second,
                        problem="different test sets (data.test_limit differs?): not comparable")
    test = mcnemar(a.actual, a.predicted, b.predicted)
    return PairTest(first, second, test["b01"], test["b10"], test["p_value"])


def build_comparison(files: RunFiles, chosen: tuple[Run, ...], model: str | None, baseline: Run,
                     table: ExpTable) -> Comparison:
    """The comparison of `chosen` runs for one model: reads their files (blocking)."""
    labels = tuple(run.name for run in chosen)
    accuracy, loss, notes = [], [], []
    predictions: dict[str, Predictions | None] = {}
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
        try:
            predictions[run.key] = files.predictions(run, model) if run.state == DONE else None
        except (RunFilesError, OSError, ValueError) as exc:
            predictions[run.key] = None
            notes.append(str(exc))
    pairs = list(combinations(chosen, 2))
    for first, second in pairs[:MOST_PAIRS]:
        a, b = predictions.get(first.key), predictions.get(second.key)
        if a is None or b is None:
            missing = first.name if a is None else second.name
            notes.append(f"McNemar {first.name} vs {second.name}: no test predictions of {missing} yet")
            continue
        notes.append(mcnemar_between(first.name, a, second.name, b).sentence)
    if len(pairs) > MOST_PAIRS:
        notes.append(f"… {len(pairs) - MOST_PAIRS} more pairs: select fewer runs to see them")
    heading = (f"{len(chosen)} runs · model {model or '(none)'} (m: next model) · "
               f"baseline {baseline.name} (b: the run under the cursor)")
    return Comparison(
        heading=heading, runs=labels, accuracy=tuple(accuracy), loss=tuple(loss),
        metrics=tuple(exptable.metric_deltas(chosen, table.metrics, baseline)),
        params=tuple(exptable.param_diff(chosen, table.params)), notes=tuple(notes),
    )
