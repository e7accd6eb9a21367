"""Two or more runs side by side: curves of one model, the statistics between runs, param diff.

It shows a `Comparison` it is given (tui.experiments.compare builds it in a worker, never here),
updating its tables in place so a live refresh keeps the scroll position.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from tui.experiments.between_view import BetweenPanel
from tui.experiments.compare import Comparison
from tui.experiments.table import DiffRow
from tui.ground.widgets import CurvesPlot


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
