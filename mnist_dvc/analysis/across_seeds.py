"""Statistics over training seeds: one model's spread, and two models' difference.

A seed fixes a run's initial weights and batch order, so each criterion of a run (best
test accuracy, training time, …) is one draw of a random quantity, and a model trained
with n seeds gives n draws. `spread` gives their mean, standard deviation and the 95%
confidence interval of the mean (Student's t with n − 1 degrees of freedom);
`difference` tests whether two models' means differ by more than seed-to-seed noise:
paired by seed (`scipy.stats.ttest_rel`) when both models ran the same seeds, which
cancels what a seed does to both, else Welch's t-test (`ttest_ind(equal_var=False)`).
The distributions and tests are scipy.stats'; nothing is computed by hand.

With one seed there is no spread to measure: no standard deviation, no interval, no
test. Pure functions (no files), so every number can be checked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import msgspec
import numpy as np
from scipy import stats

from mnist_dvc.core.contracts import SEED_TESTS
from mnist_dvc.core.records.comparison import Difference, Spread

LEVEL = 0.95
PAIRED, WELCH = SEED_TESTS
# What `difference` records when the difference is the same on every seed (no noise to test).
EXACT = "none needed: the same difference on every seed"


def _ci(low: float, high: float) -> tuple[float, float]:
    return float(low), float(high)


def spread(values: Sequence[float]) -> Spread:
    """`n`, `mean`, `sd` (n − 1 in the denominator) and `ci`, the 95% t interval of the mean;
    `sd` and `ci` are None for a single value. Values all equal: sd 0, the interval a point."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values to describe")
    mean = float(x.mean())
    if x.size == 1:
        return Spread(n=1, mean=mean, sd=None, ci=None)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + LEVEL) / 2, x.size - 1)) * sd / math.sqrt(x.size)
    return Spread(n=int(x.size), mean=mean, sd=sd, ci=_ci(mean - half, mean + half))


def difference(first: Mapping[int, float], second: Mapping[int, float]) -> Difference | None:
    """first − second over seeds (seed -> value for each model), or None when no test is
    possible (a model with fewer than two seeds).

    `test` names the test (paired when the seed lists are equal), `difference` is the mean
    difference (paired) or the difference of the means (Welch), `ci` its 95% interval,
    `p_value` the two-sided p, `df` the degrees of freedom. When the difference cannot vary
    (paired: the same on every seed; Welch: each model the same on every seed) there is no
    noise to test: the interval is that difference, `p_value` is None and `note` says why.
    """
    if min(len(first), len(second)) < 2:
        return None
    paired = sorted(first) == sorted(second)
    seeds = sorted(first)
    a = np.array([first[s] for s in seeds] if paired else list(first.values()), dtype=float)
    b = np.array([second[s] for s in seeds] if paired else list(second.values()), dtype=float)
    test, n = PAIRED if paired else WELCH, (int(a.size), int(b.size))
    exact = np.ptp(a - b) == 0 if paired else np.ptp(a) == 0 and np.ptp(b) == 0
    if exact:
        d = float(a.mean() - b.mean())
        return Difference(test=test, n=n, difference=d, ci=_ci(d, d), p_value=None, df=None, note=EXACT)
    result = stats.ttest_rel(a, b) if paired else stats.ttest_ind(a, b, equal_var=False)
    interval = result.confidence_interval(LEVEL)
    return Difference(test=test, n=n, difference=float(a.mean() - b.mean()),
                      ci=_ci(interval.low, interval.high), p_value=float(result.pvalue), df=float(result.df))


def flipped(diff: Difference) -> Difference:
    """The same comparison told the other way round: second − first."""
    low, high = diff.ci
    return msgspec.structs.replace(diff, difference=-diff.difference, ci=_ci(-high, -low), n=diff.n[::-1])
