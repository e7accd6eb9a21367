"""How the Experiments tab's tests drive the tab: what its table lists, where its cursor is, and
the new-experiment form."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.helpers import wait_for
from tui.app import DashboardApp
from tui.experiments.pane import ExperimentsPane
from tui.experiments.screens import ExperimentForm, field_id


def pane(app: DashboardApp) -> ExperimentsPane:
    return app.query_one(ExperimentsPane)


def names(app: DashboardApp) -> list[str]:
    """The run names as listed, top to bottom."""
    table = app.query_one("#exp-table", DataTable)
    return [str(table.get_cell(key, "run")).strip() for key in table.rows]


def headings(app: DashboardApp) -> list[str]:
    columns = app.query_one("#exp-table", DataTable).columns.values()
    return [str(column.label).rstrip(" ▲▼") for column in columns]


def cell(app: DashboardApp, name: str, column: str) -> str:
    table = app.query_one("#exp-table", DataTable)
    key = next(key for key in table.rows if str(table.get_cell(key, "run")).strip() == name)
    return str(table.get_cell(key, column))


def live(app: DashboardApp, name: str) -> str:
    """A run's progress cell; empty while the column is not shown (no training read yet)."""
    table = app.query_one("#exp-table", DataTable)
    return cell(app, name, "live") if "live" in table.columns else ""


def state_of(app: DashboardApp, name: str) -> str | None:
    run = next((r for r in pane(app).table.runs if r.name == name), None) if pane(app).table else None
    return run.state if run else None


async def open_tab(pilot: Pilot, timeout: float = 60) -> None:
    """Press 5 and wait for DVC's list of runs."""
    await pilot.press("5")
    tab = pane(pilot.app)
    await wait_for(pilot, lambda: tab.table is not None and not tab.collecting, timeout=timeout,
                   what="the runs from DVC")
    await pilot.pause(0.1)


async def cursor_to(pilot: Pilot, name: str, column: str | None = None) -> None:
    table = pilot.app.query_one("#exp-table", DataTable)
    row = names(pilot.app).index(name)
    col = table.get_column_index(column) if column else table.cursor_column
    table.move_cursor(row=row, column=col, animate=False)
    await pilot.pause()


async def changed_in_form(pilot: Pilot, values: dict[str, str]) -> None:
    form = pilot.app.screen
    assert isinstance(form, ExperimentForm)
    for key, value in values.items():
        form.query_one(f"#{field_id(key)}", Input).value = value
    await pilot.pause()


async def launch(pilot: Pilot, values: dict[str, str], name: str, key: str) -> None:
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExperimentForm), what="the form")
    await changed_in_form(pilot, values)
    pilot.app.screen.query_one("#form-name", Input).value = name
    await pilot.press(key)
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ExperimentForm),
                   what="started")
