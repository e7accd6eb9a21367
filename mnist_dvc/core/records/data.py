"""`reports/data.json`: written by `prepare`."""

from __future__ import annotations

from mnist_dvc.core.records.base import Count, Digit, Record


class SplitReport(Record):
    count: Count
    mean: float  # of the model inputs (after normalization)
    std: float
    class_counts: dict[Digit, Count]
    class_balance: dict[Digit, float]


class DataReport(Record):
    """`reports/data.json`: how the pixels were normalized, and each split's counts and statistics."""

    normalize: str
    train_pixel_mean: float  # of pixel/255 over the training images, before normalization
    train_pixel_std: float
    train: SplitReport
    test: SplitReport
