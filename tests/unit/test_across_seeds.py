"""Statistics across seeds against values worked out by hand (t quantiles from a printed table)."""

from __future__ import annotations

import math

import pytest

from mnist_dvc.analysis.across_seeds import EXACT, PAIRED, WELCH, difference, flipped, spread
from mnist_dvc.core.records.comparison import Spread

# Student's t, two-sided 95% (the 0.975 quantile), from a printed table.
T_975 = {1: 12.706, 2: 4.303, 4: 2.776}
TABLE = 1e-3  # the table's rounding, relative


def test_spread_of_five_values():
    """1..5: mean 3, sd sqrt(10/4), CI 3 ± t(4) · sd / sqrt(5)."""
    result = spread([1, 2, 3, 4, 5])
    sd = math.sqrt(2.5)
    half = T_975[4] * sd / math.sqrt(5)
    assert (result.n, result.mean) == (5, 3.0)
    assert result.sd == pytest.approx(sd, rel=1e-12)
    assert result.ci == pytest.approx((3 - half, 3 + half), rel=TABLE)


def test_spread_of_two_values_is_wide():
    """Two seeds: t(1) = 12.706, so 97% and 98% give 97.5% ± 6.35 points."""
    result = spread([0.97, 0.98])
    half = T_975[1] * (0.01 / math.sqrt(2)) / math.sqrt(2)
    assert result.mean == pytest.approx(0.975)
    assert result.ci == pytest.approx((0.975 - half, 0.975 + half), rel=TABLE)
    assert half == pytest.approx(0.0635, rel=TABLE)


def test_one_value_has_no_spread():
    assert spread([0.981]) == Spread(n=1, mean=0.981, sd=None, ci=None)


def test_equal_values_have_a_point_interval():
    assert spread([2.0, 2.0, 2.0]) == Spread(n=3, mean=2.0, sd=0.0, ci=(2.0, 2.0))


def test_spread_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        spread([])


def test_paired_difference_not_significant():
    """Differences 0.01, 0.005, 0.015: mean 0.01, sd 0.005, t = 0.01 / (0.005/sqrt 3) = 2 sqrt 3.
    With 2 degrees of freedom the two-sided p has a closed form: 1 - t / sqrt(t² + 2)."""
    result = difference({1: 0.98, 2: 0.97, 3: 0.99}, {1: 0.97, 2: 0.965, 3: 0.975})
    t = 2 * math.sqrt(3)
    half = T_975[2] * 0.005 / math.sqrt(3)
    assert (result.test, result.n, result.df) == (PAIRED, (3, 3), 2.0)
    assert result.difference == pytest.approx(0.01)
    assert result.p_value == pytest.approx(1 - t / math.sqrt(t * t + 2), rel=1e-9)
    assert result.p_value == pytest.approx(0.0742, abs=1e-4)
    assert result.ci == pytest.approx((0.01 - half, 0.01 + half), rel=TABLE)
    assert result.ci[0] < 0 < result.ci[1], "not significant: the interval holds 0"


def test_pairing_is_by_seed_not_by_order():
    """The same values listed in another seed order pair the same way."""
    forward = difference({1: 0.98, 2: 0.97, 3: 0.99}, {1: 0.97, 2: 0.965, 3: 0.975})
    shuffled = difference({3: 0.99, 1: 0.98, 2: 0.97}, {2: 0.965, 3: 0.975, 1: 0.97})
    assert shuffled == forward


def test_welch_when_the_seeds_differ():
    """1,2,3 vs 4,6,8,10: variances 1 and 20/3, se² = 1/3 + 5/3 = 2, t = -5/sqrt 2; Welch–
    Satterthwaite df = 2² / ((1/3)²/2 + (5/3)²/3) = 4.0755; t(4.08) lies just under t(4)."""
    result = difference({1: 1.0, 2: 2.0, 3: 3.0}, {4: 4.0, 5: 6.0, 6: 8.0, 7: 10.0})
    assert (result.test, result.n) == (WELCH, (3, 4))
    assert result.difference == pytest.approx(-5.0)
    assert result.df == pytest.approx(4 / (1 / 18 + 25 / 27), rel=1e-12)
    low, high = result.ci
    assert (low + high) / 2 == pytest.approx(-5.0)
    assert 2.7 * math.sqrt(2) < (high - low) / 2 < T_975[4] * math.sqrt(2)
    assert 0.02 < result.p_value < 0.05  # |t| = 3.54 lies between t(4) at 0.05 (2.78) and 0.02 (3.75)


def test_a_difference_that_never_varies_needs_no_test():
    paired = difference({1: 10.0, 2: 20.0}, {1: 7.0, 2: 17.0})
    assert paired.test == PAIRED
    assert (paired.difference, paired.ci, paired.p_value) == (3.0, (3.0, 3.0), None)
    assert paired.note == EXACT
    welch = difference({1: 5.0, 2: 5.0}, {3: 2.0, 4: 2.0, 5: 2.0})
    assert (welch.test, welch.difference, welch.p_value) == (WELCH, 3.0, None)


def test_one_seed_allows_no_test():
    assert difference({1: 0.9}, {1: 0.8}) is None
    assert difference({1: 0.9, 2: 0.91}, {1: 0.8}) is None


def test_flipped_tells_it_the_other_way():
    result = difference({1: 1.0, 2: 2.0, 3: 3.0}, {4: 4.0, 5: 6.0, 6: 8.0, 7: 10.0})
    back = flipped(result)
    assert back.difference == 5.0
    assert back.ci == (-result.ci[1], -result.ci[0])
    assert (back.n, back.p_value) == ((4, 3), result.p_value)
