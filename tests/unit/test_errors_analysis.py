"""A model's mistakes: confusions ordered by count, and each cell's images in the order shown."""

from __future__ import annotations

import numpy as np

from mnist_dvc.analysis.errors import Confusion, ModelErrors, top_confusions
from mnist_dvc.analysis.predictions import Predictions


def rows(actual: list[int], predicted: list[int], p: list[float] | None = None) -> Predictions:
    a, b = np.array(actual), np.array(predicted)
    if p is None:
        return Predictions(a, b, None, None, None)
    second = np.where(a == b, (a + 1) % 10, a)
    return Predictions(a, b, np.array(p), second, (1 - np.array(p)) / 2)


def test_confusions_come_largest_first_then_by_digit() -> None:
    counts = np.zeros((10, 10), dtype=np.int64)
    counts[4, 9], counts[7, 1], counts[2, 3], counts[1, 1] = 17, 3, 17, 900
    assert top_confusions(counts) == [Confusion(2, 3, 17), Confusion(4, 9, 17), Confusion(7, 1, 3)]


def test_each_cell_lists_its_images_mistakes_most_confident_first() -> None:
    errors = ModelErrors(rows(
        actual=[4, 4, 7, 4, 4, 4, 9],
        predicted=[9, 4, 7, 9, 9, 4, 4],
        p=[0.6, 0.99, 0.9, 0.95, 0.6, 0.7, 0.5],
    ))
    assert errors.counts[4, 9] == 3 and errors.counts[4, 4] == 2 and errors.counts.sum() == 7
    assert errors.misclassified == 4
    assert errors.images(4, 9).tolist() == [3, 0, 4], "0.95 first; equal confidences in test order"
    assert errors.images(4, 4).tolist() == [5, 1], "correct ones: the least confident first"
    assert errors.images(9, 4).tolist() == [6]
    assert errors.images(0, 0).tolist() == []
    assert errors.confusions == [Confusion(4, 9, 3), Confusion(9, 4, 1)]
    assert errors.first_mistakes(3).tolist() == [0, 3, 4]


def test_without_probabilities_cells_keep_test_order() -> None:
    errors = ModelErrors(rows(actual=[3, 3, 3, 5], predicted=[5, 5, 3, 3]))
    assert errors.images(3, 5).tolist() == [0, 1]
    assert errors.misclassified == 3
