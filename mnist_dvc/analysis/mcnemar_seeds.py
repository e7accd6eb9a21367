"""McNemar's test between two runs' final models, on every seed both runs have, each seed named.

For one seed, the two runs' models of the same model name label the same test images; McNemar's
exact test (comparison.mcnemar, the evaluate stage's) asks whether the images only one of them
gets right split more unevenly than coin tosses would. Each seed is its own test on the same
10,000 images, so the seeds' tests are not independent and their counts must not be pooled into
one binomial (an image one architecture finds hard is counted once per seed). The summary
therefore adjusts the per-seed p-values with Holm's method, valid whatever their dependence: a
seed is called significant only when its adjusted p is below 0.05, and the smallest adjusted p
tests "no seed differs" as a whole. Seeds only one run has are named, never compared silently.

Each seed also keeps the two disagreement sets as test-image indices (rows of the predictions
file), so the dashboard can open the Errors tab on exactly those images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mnist_dvc.analysis.between_runs import holm
from mnist_dvc.analysis.comparison import SIGNIFICANCE, mcnemar
from mnist_dvc.analysis.formats import p_value, seed_list

# seed -> (actual labels, predicted labels) of the test images, in the predictions file's order
Predictions = Mapping[int, tuple[Sequence[int] | np.ndarray, Sequence[int] | np.ndarray]]


@dataclass(frozen=True)
class SeedTest:
    """McNemar's exact test on one seed: the images only one run's model gets right, and the p."""

    seed: int
    only_first_right: tuple[int, ...]  # indices of the test images the first run's model alone gets right
    only_second_right: tuple[int, ...]
    p_value: float
    p_adjusted: float  # Holm over the seeds of this pair

    @property
    def significant(self) -> bool:
        return self.p_adjusted < SIGNIFICANCE

    @property
    def better(self) -> int:
        """0 when the first run is significantly better on this seed, 1 the second, -1 neither."""
        if not self.significant:
            return -1
        return 0 if len(self.only_first_right) > len(self.only_second_right) else 1


@dataclass(frozen=True)
class SeedsMcNemar:
    """McNemar between two runs for one model: a test per common seed, and the seeds left out."""

    first: str
    second: str
    model: str
    tests: tuple[SeedTest, ...]
    only_in_first: tuple[int, ...]
    only_in_second: tuple[int, ...]

    def summary(self) -> str:
        """Every seed named, counted by outcome, with the Holm-adjusted p's; one paragraph."""
        runs = (self.first, self.second)
        left_out = "".join(f" Seeds only {run} has, not compared: {', '.join(map(str, seeds))}."
                           for run, seeds in zip(runs, (self.only_in_first, self.only_in_second), strict=True)
                           if seeds)
        if not self.tests:
            return f"McNemar ({self.model}): {self.first} and {self.second} have no seed in common.{left_out}"
        head = (f"McNemar's exact test, {self.model}'s final models of {self.first} and {self.second}, seed "
                f"by seed ({seed_list([t.seed for t in self.tests])}), p Holm-adjusted over the "
                f"{len(self.tests)} seeds:")
        parts = []
        for side, run in enumerate(runs):
            won = [t for t in self.tests if t.better == side]
            parts.append(f"{run} better on {_seeds(won, *runs)}")
        neither = [t for t in self.tests if t.better == -1]
        parts.append(f"no significant difference on {_seeds(neither, *runs)}")
        best = min(self.tests, key=lambda t: t.p_adjusted)
        if not best.significant:
            overall = "No seed's difference survives the adjustment."
        elif {t.better for t in self.tests} >= {0, 1}:
            overall = "The runs' final models differ, in opposite directions on different seeds."
        else:
            overall = (f"The runs' final models differ on the test set (smallest adjusted p = "
                       f"{p_value(best.p_adjusted)}, seed {best.seed}).")
        return f"{head} {'; '.join(parts)}. {overall}{left_out}"


def _seeds(tests: list[SeedTest], first: str, second: str) -> str:
    if not tests:
        return "no seed"
    listed = ", ".join(f"{t.seed} (adjusted p = {p_value(t.p_adjusted)}; only {first} right: "
                       f"{len(t.only_first_right)}, only {second} right: {len(t.only_second_right)})"
                       for t in tests)
    return f"seed{'s' if len(tests) > 1 else ''} {listed}"


def mcnemar_by_seed(first: str, second: str, model: str, a: Predictions, b: Predictions) -> SeedsMcNemar:
    """McNemar between run `first` (predictions `a`) and `second` (`b`), seed -> (actual,
    predicted) each, on every seed both have. The actual labels must be the same images in the
    same order (a one-line error otherwise: the runs tested on different test sets)."""
    common = sorted(set(a) & set(b))
    raw = []
    for seed in common:
        actual = np.asarray(a[seed][0])
        if not np.array_equal(actual, np.asarray(b[seed][0])):
            raise ValueError(f"{model} seed {seed}: {first} and {second} were tested on different test "
                             "images (data.test_limit or the data differ): McNemar needs the same images")
        pred_a, pred_b = np.asarray(a[seed][1]), np.asarray(b[seed][1])
        if not pred_a.shape == pred_b.shape == actual.shape:
            raise ValueError(f"{model} seed {seed}: the predictions of {first} and {second} do not have one "
                             "label per test image")
        right_a, right_b = pred_a == actual, pred_b == actual
        test = mcnemar(actual, pred_a, pred_b)
        raw.append((seed, tuple(np.flatnonzero(right_a & ~right_b).tolist()),
                    tuple(np.flatnonzero(~right_a & right_b).tolist()), test["p_value"]))
    adjusted = holm([p for *_, p in raw])
    tests = tuple(SeedTest(seed, only_a, only_b, p, q)
                  for (seed, only_a, only_b, p), q in zip(raw, adjusted, strict=True))
    return SeedsMcNemar(first, second, model, tests, tuple(sorted(set(a) - set(b))),
                        tuple(sorted(set(b) - set(a))))
