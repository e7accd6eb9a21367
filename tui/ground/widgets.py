"""What the tabs share on screen: the `Pane` a tab holds, and a terminal line chart of metrics
against epoch (textual-plotext), each line optionally over a shaded band (the lowest to the
highest of several seeds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from textual.widgets._footer import FooterKey
from textual_plotext import PlotextPlot

Series = tuple[str, tuple[int, ...], tuple[float, ...]]
Band = tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...]]
COLORS = ("cyan", "orange", "magenta", "green", "red", "blue")
# A dark shade of each line's color (xterm-256 numbers) for its band, so the line stays readable.
BAND_COLORS = (30, 130, 90, 28, 88, 25)


class AlwaysKey(FooterKey):
    """A key that stays in view at the footer's right end (the app's help and quit), styled as the
    footer's own keys and pressed the same way by a click."""

    def __init__(self, key: str, key_display: str, description: str) -> None:
        super().__init__(key, key_display, description, action="")


@runtime_checkable
class Pane(Protocol):
    """What the app asks of the pane in a tab: the app says when, the pane says where.

    A pane shows what it is given (the app binds data down to it as reactive attributes) and
    posts messages up instead of calling the app or another tab."""

    def focus_default(self) -> None:
        """Focus the widget the tab's own keys act on, so they work and show in the footer."""


class CurvesPlot(PlotextPlot):
    """Named series vs epoch. Redraws only when the data changed, so polling the same
    files twice a second costs nothing and the chart never flickers."""

    def __init__(self, title: str, percent: bool = False, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.chart_title = title
        self.percent = percent
        self.series: tuple[Series, ...] = ()
        self.bands: tuple[Band, ...] = ()
        self._draw()

    def show(self, series: Sequence[tuple[str, Sequence[int], Sequence[float]]],
             bands: Sequence[tuple[Sequence[int], Sequence[float], Sequence[float]]] = ()) -> None:
        """Replace the plotted series: (label, epochs, values) each; `bands` (epochs, low, high),
        if given, one per series in the same order, are shaded under their lines."""
        scale = 100.0 if self.percent else 1.0
        new = tuple((label, tuple(xs), tuple(y * scale for y in ys)) for label, xs, ys in series)
        new_bands = tuple((tuple(xs), tuple(y * scale for y in low), tuple(y * scale for y in high))
                          for xs, low, high in bands)
        if (new, new_bands) == (self.series, self.bands):
            return
        self.series, self.bands = new, new_bands
        self._draw()
        self.refresh()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        drawn = [item for item in self.series if item[1]]
        plt.title(self.chart_title if drawn else f"{self.chart_title}: no epochs yet")
        plt.xlabel("epoch")
        for (xs, low, high), color in zip(self.bands, BAND_COLORS, strict=False):
            if xs:  # the band's outline, filled between its upper and lower edge in every column
                plt.plot(xs + xs[::-1], high + low[::-1], color=color, marker="braille", fillx="internal")
        for (label, xs, ys), color in zip(drawn, COLORS, strict=False):
            plt.plot(xs, ys, label=label, color=color, marker="braille")
        if drawn:
            plt.xticks(epoch_ticks(max(max(xs) for _, xs, _ in drawn)))


def epoch_ticks(last: int, most: int = 6) -> list[int]:
    """Round whole epochs for the x axis (plotext alone would label 1.0, 3.8, 6.5, ...)."""
    steps = [base * 10**power for power in range(7) for base in (1, 2, 5)]
    step = next(step for step in steps if last / step <= most)
    return list(range(step, last + 1, step))
