"""Compare tab: the assignment's comparison side by side (with several seeds: mean ± half the
95% CI, and the models' difference with its test across seeds; training time as it was
measured), what the seeds allow to say, the verdicts, McNemar per seed, an overlay of both
models' test accuracy, and where the models stand among published results."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from mnist_dvc.core.records.comparison import Comparison
from tui.compare.text import (
    COMPARE_HINT,
    comparison_rows,
    difference_header,
    mcnemar_lines,
    standing_sentences,
    standings,
    verdict_lines,
)
from tui.ground.snapshot import Dashboard
from tui.ground.widgets import CurvesPlot

WINNER = "★ "
# Below NARROW_BELOW columns the criterion wraps within NARROW_CRITERION, so that both models'
# columns fit an 80-column terminal (the difference column scrolls).
NARROW_BELOW, NARROW_CRITERION = 120, 24


class ComparePane(VerticalScroll):
    """Tables are updated cell by cell (never cleared on a poll), so the cursor stays put.

    The comparison table shows all its rows (height auto), so its own page keys would only move its
    cursor: the tab's take priority and scroll the tab, down to the published results."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "page_up", "Page up", show=False, priority=True),
        Binding("pagedown", "page_down", "Page down", show=False, priority=True),
        Binding("home", "scroll_home", "Top", show=False, priority=True),
        Binding("end", "scroll_end", "Bottom", show=False, priority=True),
    ]

    data: reactive[Dashboard | None] = reactive(None, layout=False)
    _criterion_at: int | None = None

    def focus_default(self) -> None:
        """The comparison table: its cursor moves over the criteria."""
        self.query_one("#comparison", DataTable).focus()

    def compose(self) -> ComposeResult:
        yield Static(COMPARE_HINT, id="compare-hint", classes="hint")
        yield DataTable(id="comparison", cursor_type="row", zebra_stripes=True)
        yield Static(id="verdicts")
        yield CurvesPlot("test accuracy % per epoch", percent=True, id="overlay")
        yield Static("Published MNIST results (test accuracy) and this project's models", classes="title")
        yield DataTable(id="references", cursor_type="none", show_cursor=False)
        yield Static(id="standing")

    def on_mount(self) -> None:
        references = self.query_one("#references", DataTable)
        references.add_column("result", key="result")
        references.add_column("test accuracy", key="test accuracy")

    def watch_data(self, data: Dashboard | None) -> None:
        if data is None:
            return
        comparison = data.comparison
        self.query_one("#compare-hint").display = comparison is None
        self.query_one("#comparison").display = comparison is not None
        self.query_one("#verdicts").display = comparison is not None
        if comparison is not None:
            self._show_comparison(comparison)
        self.query_one("#overlay", CurvesPlot).show(
            [(f"{run.name} (committed run)" if run.committed else run.name, run.history.epoch,
              run.history.test_accuracy) for run in data.runs]
        )
        self._show_references(data)

    def _show_comparison(self, comparison: Comparison) -> None:
        table = self.query_one("#comparison", DataTable)
        models, rows = comparison_rows(comparison)
        header = difference_header(comparison)
        columns = ["criterion", *models, *(["difference"] if header else [])]
        width = self._criterion_width()
        if [str(key.value) for key in table.columns] != columns or width != self._criterion_at:
            self._criterion_at = width
            table.clear(columns=True)
            table.add_column("criterion", key="criterion", width=width)
            for name in models:
                table.add_column(name, key=name)
            if header:
                table.add_column(header, key="difference")
        for row in rows:
            cells: dict[str, str | Text] = {"criterion": row.label}
            cells |= {name: self._cell(row.cells[name], name == row.winner) for name in models}
            if header:
                cells["difference"] = Text(row.difference or "", justify="right")
            if row.key not in table.rows:
                table.add_row(*cells.values(), key=row.key, height=None if width else 1)
                continue
            for name, cell in cells.items():
                if table.get_cell(row.key, name) != cell:
                    table.update_cell(row.key, name, cell, update_width=True)
        note = comparison.seeds_note
        lines = [*([note, ""] if note else []), *verdict_lines(comparison), *mcnemar_lines(comparison)]
        self.query_one("#verdicts", Static).update("\n".join(lines))

    def _criterion_width(self) -> int | None:
        return NARROW_CRITERION if self.app.size.width < NARROW_BELOW else None

    def on_resize(self) -> None:
        comparison = self.data.comparison if self.data is not None else None
        if comparison is not None and self._criterion_width() != self._criterion_at:
            self._show_comparison(comparison)

    @staticmethod
    def _cell(value: str, winner: bool) -> Text:
        if winner:
            return Text(WINNER + value, style="bold green", justify="right")
        return Text(value, justify="right")

    def _show_references(self, data: Dashboard) -> None:
        table = self.query_one("#references", DataTable)
        rows = standings(data)
        keys = [row.label for row in rows]
        if [key.value for key in table.rows] != keys:
            table.clear()
            for row in rows:
                style = "bold" if row.ours else ""
                table.add_row(Text(("▶ " if row.ours else "  ") + row.label, style=style),
                              Text(row.accuracy, style=style, justify="right"), key=row.label)
        else:
            for row in rows:
                cell = Text(row.accuracy, style="bold" if row.ours else "", justify="right")
                if table.get_cell(row.label, "test accuracy") != cell:
                    table.update_cell(row.label, "test accuracy", cell, update_width=True)
        self.query_one("#standing", Static).update("\n".join(standing_sentences(data)))
