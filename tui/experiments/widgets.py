"""Two or more runs side by side: curves of one model, the statistics between runs, param diff.

The between-runs panel shows every selected run against the baseline (difference with its
interval, the test, Holm's adjusted p, the chance that a seed beats a seed, verdicts), McNemar
seed by seed, and a chosen criterion against the one param the runs differ in; Enter on a
McNemar count posts `OpenDisagreement` up: the app opens the Errors tab on those images.

It shows a `Comparison` it is given (tui.experiments.compare builds it in a worker, never here),
updating its tables in place so a live refresh keeps the scroll position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from tui.experiments.compare import Comparison
from tui.experiments.table import DiffRow
from tui.ground.disagreement import Disagreement
from tui.ground.widgets import COLORS, CurvesPlot

if TYPE_CHECKING:
    from mnist_dvc.analysis.vs_param import VsTable
    from tui.experiments.between import Between


class RunComparison(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(id="compare-heading", classes="title")
        with Horizontal(id="compare-curves"):
            yield CurvesPlot("test accuracy % per epoch", percent=True, id="compare-accuracy")
            yield CurvesPlot("test loss per epoch", id="compare-loss")
        yield Static(id="compare-notes")
        yield BetweenPanel(id="between")
        yield Static("Params that differ", classes="title")
        yield DataTable(id="compare-params", cursor_type="none", zebra_stripes=True)

    def show(self, view: Comparison) -> None:
        self.query_one("#compare-heading", Static).update(view.heading)
        self.query_one("#compare-accuracy", CurvesPlot).show(view.accuracy)
        self.query_one("#compare-loss", CurvesPlot).show(view.loss)
        self.query_one("#compare-notes", Static).update("\n".join(view.notes))
        self.query_one(BetweenPanel).show(view.between)
        self._fill(self.query_one("#compare-params", DataTable), "param", view.runs, view.params)

    @staticmethod
    def _fill(table: DataTable, first: str, runs: tuple[str, ...], rows: tuple[DiffRow, ...]) -> None:
        columns = [first, *runs]
        if [str(column.label) for column in table.columns.values()] != columns or \
                [key.value for key in table.rows] != [row.key for row in rows]:
            table.clear(columns=True)
            for i, label in enumerate(columns):
                table.add_column(label, key=f"c{i}")
            for row in rows:
                table.add_row(row.key, *(Text(cell, justify="right") for cell in row.cells), key=row.key)
            return
        for row in rows:
            for i, cell in enumerate(row.cells, start=1):
                text = Text(cell, justify="right")
                if table.get_cell(row.key, f"c{i}") != text:
                    table.update_cell(row.key, f"c{i}", text, update_width=True)


BETWEEN_COLUMNS = ("model", "criterion", "run", "run: mean ± 95% CI", "baseline", "run − baseline",
                   "test", "p", "Holm p", "P(seed beats seed)")
MCNEMAR_COLUMNS = ("run (A)", "baseline (B)", "model", "seed", "only A right", "only B right", "Holm p")
COUNT_COLUMNS = {"only A right": "first", "only B right": "second"}


class VsChart(PlotextPlot):
    """A criterion against a param: per model each run's mean with its 95% CI bar, its seeds as dots."""

    def show(self, table: VsTable | None) -> None:
        plt = self.plt
        plt.clear_figure()
        if table is None:
            self.display = False
            return
        self.display = True
        from mnist_dvc.analysis.criteria import BY_KEY

        label = BY_KEY[table.criterion].label.split(" (")[0]
        plt.title(f"{label} vs {table.param}: each run's mean, 95% CI bar, seeds as dots")
        plt.xlabel(table.param)
        for model, color in zip(table.models(), COLORS, strict=False):
            rows = [row for row in table.rows if row.model == model]
            xs = [float(row.value) for row in rows]
            plt.plot(xs, [row.estimate.value for row in rows], label=model, color=color, marker="braille")
            for row in rows:
                e = row.estimate
                if e.low is not None:
                    plt.plot([float(row.value)] * 2, [e.low, e.high], color=color, marker="│")
                plt.scatter([float(row.value)] * e.n, list(e.values), color=color, marker="•")
        self.refresh()


class BetweenPanel(Vertical):
    class OpenDisagreement(Message):
        """Open the Errors tab on these images (Enter on a McNemar count)."""

        def __init__(self, disagreement: Disagreement) -> None:
            super().__init__()
            self.disagreement = disagreement

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: Between | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="between-scope", classes="hint")
        yield Static("Runs against the baseline, per model and criterion", classes="title")
        yield DataTable(id="between-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="between-family")
        yield Static(id="between-verdicts")
        yield Static("McNemar seed by seed (enter on a count: those images in the Errors tab)",
                     classes="title")
        yield DataTable(id="mcnemar-table", cursor_type="cell", zebra_stripes=True)
        yield Static(id="mcnemar-summary")
        yield Static(id="vs-note")
        yield VsChart(id="vs-chart")

    def show(self, view: Between) -> None:
        self.view = view
        self.query_one("#between-scope", Static).update(view.scope)
        table = self.query_one("#between-table", DataTable)
        table.clear(columns=True)
        table.add_columns(*BETWEEN_COLUMNS)
        for row in view.rows:
            table.add_row(row.model, row.criterion, row.run, row.run_value, row.baseline_value,
                          row.difference, row.test, row.p, row.p_adjusted, row.beats)
        self.query_one("#between-family", Static).update(
            "\n".join([view.family, *(f"⚠ {problem}" for problem in view.problems)]))
        self.query_one("#between-verdicts", Static).update("\n".join(view.verdicts))
        mcnemar = self.query_one("#mcnemar-table", DataTable)
        mcnemar.clear(columns=True)
        for label in MCNEMAR_COLUMNS:
            mcnemar.add_column(label, key=label)
        for i, pair in enumerate(view.seed_pairs):
            mcnemar.add_row(pair.first.name, pair.second.name, pair.model, str(pair.seed),
                            str(len(pair.only_first)), str(len(pair.only_second)), f"{pair.p_adjusted:.3g}",
                            key=str(i))
        self.query_one("#mcnemar-summary", Static).update("\n".join(view.mcnemar))
        self.query_one("#vs-note", Static).update(view.vs_note)
        self.query_one(VsChart).show(view.vs)

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if event.data_table.id != "mcnemar-table" or self.view is None:
            return
        event.stop()
        only = COUNT_COLUMNS.get(str(event.cell_key.column_key.value))
        if only is None:
            self.notify("enter on an 'only A right' or 'only B right' count opens those images",
                        severity="warning")
            return
        self.open(int(event.cell_key.row_key.value), only)

    def open(self, index: int, only: str) -> None:
        """Post the images of one McNemar count of `view.seed_pairs[index]` up to the app."""
        pair = self.view.seed_pairs[index]
        indices = pair.only_first if only == "first" else pair.only_second
        self.post_message(self.OpenDisagreement(
            Disagreement(pair.first, pair.second, pair.model, pair.seed, only, tuple(indices))))
