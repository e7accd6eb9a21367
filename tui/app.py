"""The dashboard: tabs over the project's files, refreshed by polling their mtimes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tui.data import Dashboard, DataSource
from tui.panes import Pane
from tui.panes.backprop import BackpropPane
from tui.panes.compare import ComparePane
from tui.panes.errors import ErrorsPane
from tui.panes.pipeline import PipelinePane
from tui.panes.training import TrainingPane
from tui.screens import ConfirmQuit, HelpScreen

POLL_S = 0.5
TABS = ("training", "compare", "backprop", "pipeline")


class DashboardApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "MNIST: two dense networks"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (150, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_tab('training')", "Training"),
        Binding("2", "show_tab('compare')", "Compare"),
        Binding("3", "show_tab('backprop')", "Backprop"),
        Binding("4", "show_tab('pipeline')", "Pipeline"),
        Binding("6", "show_tab('errors')", "Errors"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    data: var[Dashboard | None] = var(None)
    pane_warnings: var[tuple[str, ...]] = var(())  # problems a pane reads on its own (Errors)

    def __init__(self, root: Path | str, poll_s: float = POLL_S) -> None:
        super().__init__()
        self.root = Path(root).resolve()
        self.source = DataSource(self.root)
        self.poll_s = poll_s

    def compose(self) -> ComposeResult:
        yield Static(id="warnings")
        with TabbedContent(initial="training", id="tabs"):
            with TabPane("1 Training", id="training"):
                yield TrainingPane(id="training-pane").data_bind(DashboardApp.data)
            with TabPane("2 Compare", id="compare"):
                yield ComparePane(id="compare-pane").data_bind(DashboardApp.data)
            with TabPane("3 Backprop", id="backprop"):
                yield BackpropPane(id="backprop-pane").data_bind(DashboardApp.data)
            with TabPane("4 Pipeline", id="pipeline"):
                yield PipelinePane(self.root, id="pipeline-pane")
            with TabPane("6 Errors", id="errors"):
                yield ErrorsPane(self.root, self.poll_s, id="errors-pane").data_bind(DashboardApp.data)
        yield Footer()

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(self.poll_s, self.poll)
        self._focus_active_pane()

    def poll(self) -> None:
        if self.source.poll() or self.data is None:
            self.data = self.source.snapshot

    def on_errors_pane_warnings(self, message: ErrorsPane.Warnings) -> None:
        self.pane_warnings = message.problems

    def watch_pane_warnings(self) -> None:
        self._show_warnings()

    def watch_data(self) -> None:
        self._show_warnings()

    def _show_warnings(self) -> None:
        """One line per problem of the files the app polls and of those a pane reads itself."""
        warnings = self.query_one("#warnings", Static)
        problems = (*(self.data.warnings if self.data else ()), *self.pane_warnings)
        warnings.update("\n".join(f"⚠ {problem}" for problem in problems))
        warnings.display = bool(problems)

    # --- tabs -------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_active_pane()

    def on_tabbed_content_tab_activated(self) -> None:
        self._focus_active_pane()

    def _focus_active_pane(self) -> None:
        """Tell the open tab's pane to take the focus; where it goes inside is the pane's choice."""
        tab = self.query_one(TabbedContent).active_pane
        pane = tab.children[0] if tab is not None and tab.children else None
        if isinstance(pane, Pane):
            pane.focus_default()

    # --- help and quit ----------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        run = self.query_one(PipelinePane).active_repro
        if run is None:
            self.exit()
            return

        def answered(quit_: bool | None) -> None:
            if quit_:
                self.exit()

        self.push_screen(ConfirmQuit(f"`{run.label}` (pid {run.pid})"), answered)
