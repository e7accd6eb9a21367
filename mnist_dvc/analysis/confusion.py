"""Confusion counts and per-digit scores from test labels and predictions."""

from __future__ import annotations

import numpy as np

from mnist_dvc.core.contracts import CLASSES
from mnist_dvc.core.records.evaluation import ClassScores


def confusion_counts(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """10×10 counts, rows = actual digit, columns = predicted digit."""
    counts = np.zeros((CLASSES, CLASSES), dtype=np.int64)
    np.add.at(counts, (np.asarray(actual, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return counts


def per_class(counts: np.ndarray) -> dict[int, ClassScores]:
    """Precision, recall and F1 of each digit (0 where undefined: no predictions or no samples)."""
    result = {}
    for digit in range(CLASSES):
        hit = counts[digit, digit]
        predicted, actual = counts[:, digit].sum(), counts[digit, :].sum()
        precision = hit / predicted if predicted else 0.0
        recall = hit / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[digit] = ClassScores(precision=float(precision), recall=float(recall), f1=float(f1),
                                    support=int(actual))
    return result
