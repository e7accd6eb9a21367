"""How often a seed of one run beats a seed of another: the probability of superiority.

Also called the common-language effect size: P(a seed of A is better than a seed of B), ties
counting half. It says what a difference of means does not: whether A wins most draws, or wins
on average through one lucky seed. 0.5 is a coin toss, 1 means A always wins.

- Same seeds in both runs (paired): seed s of A against seed s of B, the share of seeds A wins.
  Seeds are independent draws, so the wins are a binomial count and the interval is the exact
  Clopper–Pearson one (`scipy.stats.binomtest(...).proportion_ci(method="exact")`); a tie is
  counted as a loss for the lower bound and as a win for the upper one, so ties only widen it.
- Different seeds: every seed of A against every seed of B, U / (nA·nB) with U from
  `scipy.stats.mannwhitneyu`. The nA·nB comparisons are not independent, so they are not a
  binomial count of nA·nB; the variance of U / (nA·nB) is at most θ(1 − θ) / min(nA, nB)
  (Birnbaum & Klose 1957), the variance of a proportion of min(nA, nB) independent trials. The
  interval is the exact one for that many trials (Bamber's 1975 conservative approach, with the
  exact binomial in place of the normal approximation): wider than the data need, never narrower.

Bootstrap intervals were rejected: with 3 seeds a resample takes one of 10 multisets, and when
every seed of A beats every seed of B every resample says 1, so the interval would be [1, 1],
a certainty three seeds cannot give. The exact intervals are wide at n = 3 (3 wins of 3 seeds:
0.29 to 1), which is the truth about three seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
PAIRED_METHOD = "share of seeds won, exact (Clopper–Pearson) interval"
UNPAIRED_METHOD = "U / (nA·nB), exact interval for min(nA, nB) trials (Birnbaum–Klose bound)"


@dataclass(frozen=True)
class Superiority:
    """P(a seed of the first run is better than a seed of the second), ties half, with its interval.

    `trials`: the seeds compared (paired), or min(nA, nB), the trials the interval counts."""

    probability: float
    low: float
    high: float
    paired: bool
    trials: int
    method: str


def _bounds(wins_low: int, wins_high: int, trials: int) -> tuple[float, float]:
    """The exact interval's lower bound from `wins_low` wins, its upper bound from `wins_high`."""
    low = stats.binomtest(wins_low, trials).proportion_ci(LEVEL, method="exact").low
    high = stats.binomtest(wins_high, trials).proportion_ci(LEVEL, method="exact").high
    return float(low), float(high)


def superiority(first: Mapping[int, float], second: Mapping[int, float], better: str) -> Superiority:
    """How often a seed of `first` beats a seed of `second` (seed -> value each); `better` is
    "higher" or "lower", the criterion's good side. Paired when both have the same seeds."""
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    if not first or not second:
        raise ValueError("a run with no seed has nothing to compare")
    sign = 1.0 if better == "higher" else -1.0
    if sorted(first) == sorted(second):
        diffs = sign * np.array([first[s] - second[s] for s in sorted(first)], dtype=float)
        wins, ties = int(np.sum(diffs > 0)), int(np.sum(diffs == 0))
        low, high = _bounds(wins, wins + ties, diffs.size)
        return Superiority((wins + ties / 2) / diffs.size, low, high, True, int(diffs.size), PAIRED_METHOD)
    a = sign * np.array(list(first.values()), dtype=float)
    b = sign * np.array(list(second.values()), dtype=float)
    u = float(stats.mannwhitneyu(a, b).statistic)  # pairs a > b, ties half
    probability = u / (a.size * b.size)
    trials = min(a.size, b.size)
    wins = probability * trials
    # floor / ceil of the equivalent number of wins, so that the bounds never come out narrower.
    low, high = _bounds(math.floor(wins + 1e-9), math.ceil(wins - 1e-9), trials)
    return Superiority(probability, low, high, False, trials, UNPAIRED_METHOD)
