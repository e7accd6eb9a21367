"""The probability that a seed of one run beats a seed of another, with its interval, worked by hand.

Clopper–Pearson bounds with 3 trials have closed forms: k = 0 or 3 wins give 1 − 0.975^(1/3) and
0.025^(1/3); 1 win gives a lower bound 1 − 0.975^(1/3), 2 wins an upper bound 0.975^(1/3)."""

from __future__ import annotations

import pytest

from mnist_dvc.analysis.superiority import superiority

LOW_1_OF_3 = 1 - 0.975 ** (1 / 3)  # 0.00840
HIGH_2_OF_3 = 0.975 ** (1 / 3)  # 0.99160
LOW_3_OF_3 = 0.025 ** (1 / 3)  # 0.29240


def test_paired_wins_ties_and_losses():
    """Seed by seed: 42 won, 43 lost, 44 tied -> (1 + 1/2) / 3; the tie is a loss for the lower
    bound (1 win of 3) and a win for the upper one (2 wins of 3)."""
    result = superiority({42: 0.9, 43: 0.8, 44: 0.7}, {42: 0.85, 43: 0.85, 44: 0.7}, "higher")
    assert result.paired and result.trials == 3
    assert result.probability == pytest.approx(0.5)
    assert (result.low, result.high) == pytest.approx((LOW_1_OF_3, HIGH_2_OF_3), rel=1e-9)


def test_paired_lower_is_better():
    """Losses: the lower value wins, so a run with the lower loss on every seed wins 3 of 3."""
    result = superiority({1: 0.07, 2: 0.08, 3: 0.075}, {1: 0.09, 2: 0.085, 3: 0.08}, "lower")
    assert result.probability == 1.0
    assert (result.low, result.high) == pytest.approx((LOW_3_OF_3, 1.0), rel=1e-9)
    flipped = superiority({1: 0.07, 2: 0.08, 3: 0.075}, {1: 0.09, 2: 0.085, 3: 0.08}, "higher")
    assert flipped.probability == 0.0
    assert (flipped.low, flipped.high) == pytest.approx((0.0, 1 - LOW_3_OF_3), rel=1e-9)


def test_different_seeds_count_every_pair():
    """A = 3, 4, 5 against B = 0, 1, 2, 3: 11.5 of the 12 pairs won (3 ties 3: a half). The interval
    counts min(3, 4) = 3 trials, 2.875 wins: the lower bound from 2 wins solves P(2 or 3 wins) =
    3p² − 2p³ = 0.025 (p = 0.094299), the upper one from 3 wins is 1."""
    result = superiority({1: 3.0, 2: 4.0, 3: 5.0}, {4: 0.0, 5: 1.0, 6: 2.0, 7: 3.0}, "higher")
    assert not result.paired and result.trials == 3
    assert result.probability == pytest.approx(11.5 / 12)
    assert result.low == pytest.approx(0.094299, abs=1e-6)
    assert result.high == 1.0


def test_bad_direction_is_refused():
    with pytest.raises(ValueError, match="better must be"):
        superiority({1: 1.0}, {1: 2.0}, "bigger")
