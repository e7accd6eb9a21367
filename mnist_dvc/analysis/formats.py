"""How numbers are written for people: one spelling for the comparison's sentences, the
dashboard, `python -m tui --once` and the figures, so they never disagree."""

from __future__ import annotations

import math


def pct(value: float | None) -> str:
    """A fraction as a percentage with two decimals: 0.98271 -> 98.27%."""
    return "–" if value is None else f"{value * 100:.2f}%"


def loss(value: float | None) -> str:
    """Four decimals, or two significant digits once training has driven it below 0.001."""
    if value is None:
        return "–"
    return f"{value:.4f}" if abs(value) >= 0.001 or value == 0 else f"{value:.2e}"


def points(value: float | None) -> str:
    """A difference of two fractions in percentage points: 0.0173 -> 1.73 pts."""
    return "–" if value is None else f"{value * 100:.2f} pts"


def count(value: float | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def duration(seconds: float | None) -> str:
    """Short human durations: 0.79 s, 12.3 s, 6 min 38 s, 2 h 05 min."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def p_value(value: float) -> str:
    """Three significant digits: 0.0619, 3.9e-41."""
    return f"{value:.3g}"


def seed_list(seeds: list[int]) -> str:
    """Seeds as a reader scans them: "seed 42", "seeds 42-46" when consecutive, else listed."""
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seeds " + ", ".join(str(s) for s in seeds)
