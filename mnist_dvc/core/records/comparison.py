"""`reports/comparison.json` and `metrics/summary.json`: written by `evaluate`
(mnist_dvc/analysis/comparison.py decides what they say)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from mnist_dvc.core.contracts import CRITERION_KEYS, SEED_TESTS, TIMINGS, VERDICTS
from mnist_dvc.core.records.base import Count, Record, Seed, complete


class RunSummary(Record):
    """One seed's run of one model, as the assignment asks to compare it."""

    epochs: Count
    best_train_accuracy: float
    best_test_accuracy: float
    best_test_accuracy_selected_on: str
    best_test_epoch: Count
    final_train_accuracy: float
    final_test_accuracy: float
    min_train_loss: float
    min_test_loss: float
    final_test_loss: float
    generalization_gap: float
    train_time_s: float
    mean_epoch_s: float
    params: Count
    note: str | None = None  # said when the best test accuracy is well above the final one


class Spread(Record):
    """One criterion over a model's seeds: the mean, sd and 95% CI of the mean (None with one seed).
    A training time that was not measured seed by seed (ModelEntry.timing) is one measurement:
    n = 1, its value in `mean`, no sd and no interval."""

    n: Annotated[int, Meta(ge=1)]
    mean: float
    sd: float | None
    ci: tuple[float, float] | None


class ModelEntry(Record):
    """One model in comparison.json: its seeds, each seed's run summary, each criterion's spread, and
    how its training time was measured."""

    seeds: list[Seed]
    params: Count
    epochs: Count
    runs: dict[Seed, RunSummary]
    stats: dict[str, Spread]  # criterion -> spread over the seeds
    # contracts.TIMINGS: `measured` (each seed timed on its own: time has a spread and a test),
    # `stack_share` or `model_total` (one measurement per model). None: a file written before it was
    # recorded, whose seeds all carry the model's wall time (as `model_total`).
    timing: Literal[TIMINGS] | None = None

    def __post_init__(self) -> None:
        if sorted(self.runs) != self.seeds:
            raise ValueError(f"`runs` has seeds {sorted(self.runs)}, `seeds` says {self.seeds}")
        complete(self.stats, CRITERION_KEYS, "stats")


class Difference(Record):
    """first − second on one criterion over the seeds, with its 95% CI and the test's p; a difference
    that is the same on every seed has no noise to test: p and df are None and `note` says so."""

    test: Literal[SEED_TESTS]
    n: tuple[Annotated[int, Meta(ge=1)], Annotated[int, Meta(ge=1)]]
    difference: float
    ci: tuple[float, float]
    p_value: float | None
    df: float | None
    note: str | None = None


class PairDifferences(Record):
    """Two models compared across seeds, criterion by criterion."""

    models: tuple[str, str]
    test: Literal[SEED_TESTS]
    criteria: dict[str, Difference]


class McNemar(Record):
    """McNemar's exact test of two final models' test predictions on one seed both ran."""

    models: tuple[str, str]
    seed: Seed
    b01: Count  # images only the second model gets right
    b10: Count  # images only the first gets right
    p_value: float
    sentence: str
    winner: str | None  # the model significantly better on this seed, or None


class Decision(Record):
    """Which model is better, decided once by the comparison: `winner` (None: no model is), and why."""

    winner: str | None
    why: str


class Verdict(Record):
    """The answer to one of the assignment's questions: the winner (None: no model is) and a sentence."""

    winner: str | None
    sentence: str


class Comparison(Record):
    """`reports/comparison.json`: the models compared on every criterion across their seeds."""

    models: dict[str, ModelEntry]
    differences: list[PairDifferences]  # empty while a model has fewer than two seeds
    mcnemar: list[McNemar]
    mcnemar_summary: list[str]
    winners: dict[str, Decision]  # criterion -> the better model, or none, and why
    verdicts: dict[str, Verdict]  # one per question (VERDICTS)
    seeds_note: str

    def __post_init__(self) -> None:
        complete(self.winners, CRITERION_KEYS, "winners")
        complete(self.verdicts, VERDICTS, "verdicts")


class Headline(Record):
    """One model's headline numbers in `metrics/summary.json` (the DVC metric), means over its seeds."""

    acc: float  # final test accuracy
    best_acc: float  # best-epoch test accuracy
    loss: float  # minimum test loss
    gap: float  # generalization gap
    time_s: float  # training time
    params: Count


# `metrics/summary.json`: model -> its headline; read it with `base.read_record(Summary, path)`.
Summary = dict[str, Headline]
