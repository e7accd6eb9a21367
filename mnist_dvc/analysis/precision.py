"""Numbers written with the digits their interval supports, one format for a whole row.

A mean printed with more digits than its 95% interval pins down claims a precision it does
not have, and one printed with fewer hides a difference it does have ("Epoch of best test
accuracy 2 ± 6" for a mean of 2.5; "-0.00 pts (-0.00 to +0.00)"). The rule: the interval's
half-width gets two significant digits, and every number of the row (means, bounds, other
models' cells) gets the same number of decimals, so cells line up and compare digit by digit
(`2.04e-05 ± 8.77e-05 | 0.0000 ± 0.0000` becomes `2.0e-05 ± 8.8e-05 | 0.0e-05 ± 0.0e-05`).
A row with no spread at all (one measurement per model) keeps the unit's usual decimals, or
three significant digits. Rounding is half away from zero (2.5 -> 3, not Python's 2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Significant digits of the smallest half-width in a row; of the smallest value in a row with no spread.
SPREAD_DIGITS = 2
VALUE_DIGITS = 3
# More decimals than this and the row is written with one shared power of ten (2.0e-05).
MAX_DECIMALS = 4
# A spread below this share of the row's largest value is float noise (1708.4085 s ± 2.8e-13 s), not a spread.
NOISE = 1e-9


@dataclass(frozen=True)
class Unit:
    """How a criterion is written: `scale` times the stored value, then `suffix`; `decimals` when
    the row has no spread (None: three significant digits)."""

    scale: float = 1.0
    suffix: str = ""
    decimals: int | None = None


PLAIN = Unit()
PERCENT = Unit(100.0, "%", 2)  # a fraction as a percentage: 0.98183 -> 98.18%
POINTS = Unit(100.0, " pts", 2)  # a difference of two fractions, in percentage points
SECONDS = Unit(1.0, " s")

# criterion key (comparison.CRITERIA) -> (unit of its values, unit of a difference of two values)
UNITS = {
    "best_test_accuracy": (PERCENT, POINTS),
    "final_test_accuracy": (PERCENT, POINTS),
    "best_train_accuracy": (PERCENT, POINTS),
    "generalization_gap": (POINTS, POINTS),
    "min_test_loss": (PLAIN, PLAIN),
    "min_train_loss": (PLAIN, PLAIN),
    "train_time_s": (SECONDS, SECONDS),
    "best_test_epoch": (PLAIN, PLAIN),
}


def _round(value: float, decimals: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RowFormat:
    """One row's way of writing numbers: `decimals` after the point, of the value divided by
    10**`exponent` (0: plain decimals; else every number ends in e<exponent>)."""

    unit: Unit = PLAIN
    decimals: int = 2
    exponent: int = 0

    def number(self, value: float, signed: bool = False) -> str:
        """The number alone (no suffix); `signed`: "+" before a positive one. A number that
        rounds to zero has no sign: -0.00001 is "0.00", never "-0.00"."""
        if value is None or not math.isfinite(value):
            return "–"
        rounded = _round(value * self.unit.scale / 10.0 ** self.exponent, self.decimals)
        if rounded == 0:
            rounded = abs(rounded)
        text = f"{rounded:.{self.decimals}f}"
        if self.exponent:
            text += f"e{self.exponent:+03d}"
        return f"+{text}" if signed and rounded > 0 else text

    def value(self, value: float, signed: bool = False) -> str:
        """The number with its unit: 98.18%, 439 s, +0.43 pts."""
        return self.number(value, signed) + self.unit.suffix

    def pm(self, mean: float, half: float) -> str:
        """A mean and the half-width of its interval: "98.18 ± 0.19%", "2.5 ± 6.4"."""
        return f"{self.number(mean)} ± {self.number(half)}{self.unit.suffix}"

    def interval(self, low: float, high: float, signed: bool = False) -> str:
        """Two bounds: "-0.79 to -0.07 pts"."""
        return f"{self.number(low, signed)} to {self.number(high, signed)}{self.unit.suffix}"


def _finite(values: Iterable[float | None]) -> list[float]:
    return [abs(v) for v in values if v is not None and math.isfinite(v)]


def row_format(unit: Unit = PLAIN, values: Iterable[float | None] = (),
               spreads: Iterable[float | None] = ()) -> RowFormat:
    """The one format for a row holding `values` (means, bounds, differences) and `spreads`
    (half-widths of their intervals; None or 0 where a cell has none), all in stored units.

    Two significant digits for the smallest half-width; with no half-width, the unit's decimals,
    or three significant digits of the smallest non-zero value. Past MAX_DECIMALS the row shares
    one power of ten instead of a run of zeros."""
    sizes = [v * unit.scale for v in _finite(values)]
    largest = max(sizes, default=0.0)
    halves = [h * unit.scale for h in _finite(spreads)]
    halves = [h for h in halves if h > NOISE * largest and h > 0]
    if halves:
        anchor, digits = min(halves), SPREAD_DIGITS
    elif unit.decimals is not None:
        return RowFormat(unit, unit.decimals)
    else:
        nonzero = [v for v in sizes if v > 0]
        if not nonzero:
            return RowFormat(unit, 0)
        anchor, digits = min(nonzero), VALUE_DIGITS
    magnitude = math.floor(math.log10(anchor))
    decimals = digits - 1 - magnitude
    if decimals > MAX_DECIMALS:
        return RowFormat(unit, digits - 1, magnitude)
    return RowFormat(unit, max(decimals, 0))
