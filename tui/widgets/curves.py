"""A terminal line chart of metrics against epoch (textual-plotext)."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

Series = tuple[str, tuple[int, ...], tuple[float, ...]]
COLORS = ("cyan", "orange", "magenta", "green", "red", "blue")


class CurvesPlot(PlotextPlot):
    """Named series vs epoch. Redraws only when the data changed, so polling the same
    files twice a second costs nothing and the chart never flickers."""

    def __init__(self, title: str, percent: bool = False, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.chart_title = title
        self.percent = percent
        self.series: tuple[Series, ...] = ()
        self._draw()

    def show(self, series: Sequence[tuple[str, Sequence[int], Sequence[float]]]) -> None:
        """Replace the plotted series: (label, epochs, values) each."""
        scale = 100.0 if self.percent else 1.0
        new = tuple((label, tuple(xs), tuple(y * scale for y in ys)) for label, xs, ys in series)
        if new == self.series:
            return
        self.series = new
        self._draw()
        self.refresh()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        drawn = [item for item in self.series if item[1]]
        plt.title(self.chart_title if drawn else f"{self.chart_title}: no epochs yet")
        plt.xlabel("epoch")
        for (label, xs, ys), color in zip(drawn, COLORS, strict=False):
            plt.plot(xs, ys, label=label, color=color, marker="braille")
        if drawn:
            plt.xticks(epoch_ticks(max(max(xs) for _, xs, _ in drawn)))


def epoch_ticks(last: int, most: int = 6) -> list[int]:
    """Round whole epochs for the x axis (plotext alone would label 1.0, 3.8, 6.5, ...)."""
    steps = [base * 10**power for power in range(7) for base in (1, 2, 5)]
    step = next(step for step in steps if last / step <= most)
    return list(range(step, last + 1, step))
