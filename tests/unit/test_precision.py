"""One format per row, digits fitted to the interval: the issue's three bad cells, and the rules."""

from __future__ import annotations

from mnist_dvc.analysis.across_seeds import spread
from mnist_dvc.analysis.precision import PERCENT, PLAIN, POINTS, SECONDS, RowFormat, row_format


def test_tiny_losses_share_one_power_of_ten():
    """`2.04e-05 ± 8.77e-05 | 0.0000 ± 0.0000` (the committed run's min train loss, model_a | model_b)."""
    mean_a, low_a, high_a = 2.037306937078635e-05, -6.728517317080268e-05, 0.00010803131191237539
    half_a = (high_a - low_a) / 2
    fmt = row_format(PLAIN, [mean_a, low_a, high_a, 0.0, 0.0, 0.0], [half_a, 0.0])
    assert fmt.pm(mean_a, half_a) == "2.0e-05 ± 8.8e-05"
    assert fmt.pm(0.0, 0.0) == "0.0e-05 ± 0.0e-05"
    assert fmt.interval(low_a, high_a) == "-6.7e-05 to 10.8e-05"


def test_a_tiny_difference_keeps_its_digits():
    """"-0.00 pts (-0.00 to +0.00)": best train accuracy, model_a − model_b, in the committed run."""
    diff, low, high = -5.543231964111328e-06, -2.9393834106129406e-05, 1.830737017790675e-05
    fmt = row_format(POINTS, [diff, low, high], [(high - low) / 2])
    assert fmt.value(diff, signed=True) == "-0.0006 pts"
    assert fmt.interval(low, high, signed=True) == "-0.0029 to +0.0018 pts"


def test_a_mean_of_two_and_a_half_epochs_is_not_two():
    """"Epoch of best test accuracy 2 ± 6" for epochs 2 and 3: the half-width 6.35 gets two digits."""
    described = spread([2, 3])
    half = (described.ci[1] - described.ci[0]) / 2
    assert row_format(PLAIN, [described.mean], [half]).pm(described.mean, half) == "2.5 ± 6.4"


def test_rounding_is_half_away_from_zero():
    assert row_format(PLAIN, [2.5], [60.0]).pm(2.5, 60.0) == "3 ± 60"
    assert RowFormat(PLAIN, 1).number(-0.25) == "-0.3"


def test_zero_after_rounding_has_no_sign():
    assert RowFormat(POINTS, 2).value(-1e-7, signed=True) == "0.00 pts"
    assert RowFormat(POINTS, 2).value(0.0123, signed=True) == "+1.23 pts"


def test_accuracy_with_its_interval():
    """The committed run's model_a best test accuracy: 98.18% with a 95% CI of 97.995% to 98.371%."""
    mean, low, high = 0.9818333188692728, 0.979952354383838, 0.9837142833547077
    fmt = row_format(PERCENT, [mean, low, high], [(high - low) / 2])
    assert fmt.pm(mean, (high - low) / 2) == "98.18 ± 0.19%"


def test_rows_without_spread():
    """One measurement per model: the unit's decimals, else three significant digits of the smallest."""
    assert row_format(PERCENT, [0.98, 0.9861]).value(0.98) == "98.00%"
    losses = row_format(PLAIN, [0.0865, 0.0705])
    assert (losses.value(0.0865), losses.value(0.0705)) == ("0.0865", "0.0705")
    times = row_format(SECONDS, [438.9772, 1708.4085])
    assert (times.value(438.9772), times.value(1708.4085)) == ("439 s", "1708 s")


def test_float_noise_is_not_a_spread():
    """The committed run's model_b time: sd 2.8e-13 s from summing equal floats, not a spread."""
    fmt = row_format(SECONDS, [1708.4084999999995, 1708.408500000001], [2.8e-13])
    assert fmt.value(1708.4085) == "1708 s"
