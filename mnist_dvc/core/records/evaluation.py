"""`reports/eval/<model>.json`: written by `evaluate`."""

from __future__ import annotations

from mnist_dvc.core.records.base import Count, Digit, Record, Seed


class ClassScores(Record):
    precision: float
    recall: float
    f1: float
    support: Count


class SeedEvaluation(Record):
    """One seed's final model on the test set."""

    test_accuracy: float
    test_loss: float
    test_error: float
    per_class: dict[Digit, ClassScores]  # digit -> scores
    confusion_matrix: list[list[Count]]  # 10×10, rows = actual digit


class Evaluation(Record):
    """`reports/eval/<model>.json`: the parameter count and each seed's test figures, by seed."""

    model: str
    params: Count
    seeds: dict[Seed, SeedEvaluation]
