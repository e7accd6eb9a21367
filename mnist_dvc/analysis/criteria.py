"""The comparison's criteria: each row's key, label, better side and spelling.

Apart from mnist_dvc/analysis/comparison.py, which computes the comparison with scipy.stats
(a second-long import), so that a reader that only shows a written comparison (the dashboard,
`python -m tui --once`) can name and format its rows without that import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mnist_dvc.analysis.formats import count, duration, loss, pct, points

SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Criterion:
    """One row of the comparison: a field of `RunSummary`, how to read it, which way is better."""

    key: str
    label: str
    better: str | None  # "higher", "lower", or None for a row that only informs
    fmt: Callable[[float | None], str]


# In contracts.CRITERION_KEYS' order (tests/unit/test_contracts.py checks it).
CRITERIA = (
    Criterion("best_test_accuracy", "Best test accuracy (epoch picked on test set)", "higher", pct),
    Criterion("best_test_epoch", "Epoch of best test accuracy", None, count),
    Criterion("final_test_accuracy", "Final test accuracy", "higher", pct),
    Criterion("best_train_accuracy", "Best train accuracy", "higher", pct),
    Criterion("min_train_loss", "Min train loss", "lower", loss),
    Criterion("min_test_loss", "Min test loss", "lower", loss),
    Criterion("generalization_gap", "Generalization gap (train − test)", "lower", points),
    Criterion("train_time_s", "Training time", "lower", duration),
    Criterion("params", "Parameters", "lower", count),
)
BY_KEY = {criterion.key: criterion for criterion in CRITERIA}
# The assignment's four questions: verdict name -> the criterion that answers it.
VERDICT_KEYS = {"accuracy": "best_test_accuracy", "loss": "min_test_loss",
                "gap": "generalization_gap", "time": "train_time_s"}


def difference_fmt(criterion: Criterion) -> Callable[[float | None], str]:
    """How a difference of the criterion is written: percentage points for two accuracies."""
    return points if criterion.fmt is pct else criterion.fmt


def signed_difference(criterion: Criterion, value: float) -> str:
    """A difference of the criterion with its sign: +0.53 pts (of two accuracies), -1 min 20 s."""
    fmt = difference_fmt(criterion)
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return sign + fmt(abs(value))
