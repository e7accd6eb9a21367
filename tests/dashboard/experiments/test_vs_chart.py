"""The vs chart draws what it says: each run's mean on the line, its 95% CI bar and its seeds as dots,
at that run's param value (checked on the rendered text, column by column)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from mnist_dvc.analysis.between_runs import MEASURED, RunValues
from mnist_dvc.analysis.vs_param import vs_table
from tui.experiments.widgets import VsChart

ACC, LR = "best_test_accuracy", "train.learning_rate"
TIMED = {"model_a": MEASURED}
# two runs 3 seeds each; their CI (mean ± 4.303 · 0.01 / √3 = ± 0.025) is wider than their seeds
RUNS = [RunValues("slow", {"model_a": {ACC: {42: 0.90, 43: 0.91, 44: 0.92}}}, TIMED),
        RunValues("fast", {"model_a": {ACC: {42: 0.95, 43: 0.96, 44: 0.97}}}, TIMED)]
PARAMS = {"slow": {LR: 1.0}, "fast": {LR: 2.0}}
BRAILLE = range(0x2801, 0x2900)


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VsChart()


def column(lines: list[str], x: int) -> str:
    return "".join(line[x] if x < len(line) else " " for line in lines)


async def test_the_chart_draws_means_ci_bars_and_seed_dots() -> None:
    app = ChartApp()
    async with app.run_test(size=(120, 24)) as pilot:
        chart = app.query_one(VsChart)
        chart.show(vs_table(RUNS, PARAMS, LR, ACC))
        await pilot.pause()
        lines = chart.render().plain.splitlines()
    assert "Best test accuracy vs train.learning_rate: each run's mean, 95% CI bar, seeds as dots" in lines[0]
    assert "model_a" in "\n".join(lines), "the legend names the model"
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    ticks = [x for x, ch in enumerate(lines[axis]) if ch == "┬"]
    plot = lines[top + 1:axis]
    rows = {}
    for name, x in (("slow", ticks[0]), ("fast", ticks[-1])):  # the param's values 1.0 and 2.0
        drawn = column(plot, x)
        dots = [i for i, ch in enumerate(drawn) if ch == "•"]
        bar = [i for i, ch in enumerate(drawn) if ch == "│"]
        assert len(dots) == 3, f"{name}: one dot per seed in its column, got {drawn!r}"
        assert bar and min(bar) < min(dots) and max(bar) > max(dots), f"{name}: the CI bar spans its seeds"
        rows[name] = dots
    assert max(rows["fast"]) < min(rows["slow"]), "the better run's seeds are drawn higher"
    mean_line = column(plot, ticks[0] + 1)
    braille = [i for i, ch in enumerate(mean_line) if ord(ch) in BRAILLE and "model_a" not in plot[i]]
    assert braille and min(rows["slow"]) <= braille[0] <= max(rows["slow"]), "the line starts at slow's mean"
    chart.show(None)
    assert chart.display is False, "no table: no chart"
