"""A model's mistakes on the test set: which digits it confuses, and which images those are.

Pure numpy over one `Predictions` (mnist_dvc.analysis.predictions): the dashboard's Errors
tab and `python -m tui --once --errors` read it. The images of every cell are sorted once,
so switching cells costs a slice, not a scan of the 10,000 rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_dvc.analysis.confusion import confusion_counts
from mnist_dvc.analysis.predictions import Predictions
from mnist_dvc.core.contracts import CLASSES


@dataclass(frozen=True)
class Confusion:
    """One off-diagonal cell: `count` test images of `actual` predicted as `predicted`."""

    actual: int
    predicted: int
    count: int


def top_confusions(counts: np.ndarray) -> list[Confusion]:
    """The off-diagonal cells that hold images, the largest count first (then by digit)."""
    cells = [
        Confusion(actual, predicted, int(counts[actual, predicted]))
        for actual in range(CLASSES) for predicted in range(CLASSES)
        if actual != predicted and counts[actual, predicted]
    ]
    return sorted(cells, key=lambda cell: (-cell.count, cell.actual, cell.predicted))


class ModelErrors:
    """One model's confusion counts and, per cell, its test images in the order they are shown.

    A mistake is shown most confident first (the model was sure and wrong); a correct
    cell least confident first (right, but barely). Files without probabilities keep
    test-set order.
    """

    def __init__(self, predictions: Predictions) -> None:
        self.predictions = predictions
        actual, predicted = predictions.actual, predictions.predicted
        self.counts = confusion_counts(actual, predicted)
        self.confusions = top_confusions(self.counts)
        cell = actual * CLASSES + predicted
        confidence = predictions.p_predicted if predictions.has_top2 else np.zeros(len(actual))
        # most confident first off the diagonal, least confident first on it; ties in test order
        shown_first = np.where(actual == predicted, confidence, -confidence)
        self._order = np.lexsort((np.arange(len(actual)), shown_first, cell))
        self._bounds = np.searchsorted(cell[self._order], np.arange(CLASSES * CLASSES + 1))

    def __len__(self) -> int:
        return len(self.predictions)

    @property
    def misclassified(self) -> int:
        return int(len(self) - np.trace(self.counts))

    def images(self, actual: int, predicted: int) -> np.ndarray:
        """Test-set indices of the images of one cell, in the order they are shown."""
        key = actual * CLASSES + predicted
        return self._order[self._bounds[key]:self._bounds[key + 1]]

    def first_mistakes(self, count: int) -> np.ndarray:
        """The first `count` misclassified test images, in test-set order."""
        return np.flatnonzero(self.predictions.actual != self.predictions.predicted)[:count]
