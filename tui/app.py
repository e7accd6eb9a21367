"""The dashboard: six tabs over the project's files, refreshed by polling their stamps.

The app is the only place that knows every tab. It polls the workspace snapshot and binds it
down to the tabs, and it carries what one tab does to another: the Experiments tab posts the
run under its cursor up (`RunSelected`), the app hands it down to the Errors tab (`run`), a McNemar
count chosen there (`OpenDisagreement`) becomes the Errors tab's `versus` images, and,
while that run trains in a queue worker's folder, lets the Training tab follow it
(`following`, with that folder's snapshot as its data). A tab never imports another tab.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import var
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tui.backprop.pane import BackpropPane
from tui.compare.pane import ComparePane
from tui.errors.pane import ErrorsPane
from tui.experiments.pane import ExperimentsPane
from tui.experiments.widgets import BetweenPanel
from tui.ground import jobs
from tui.ground.runs import Run
from tui.ground.snapshot import Dashboard, DataSource
from tui.ground.widgets import AlwaysKey, Pane
from tui.pipeline.pane import PipelinePane
from tui.screens import ConfirmQuit, HelpScreen
from tui.training.pane import TrainingPane

POLL_S = 0.5


class DashboardApp(App[None]):
    # One stylesheet per tab beside its pane, after the app's own (in this order: later rules win ties).
    CSS_PATH: ClassVar[list[str]] = ["app.tcss", *(f"{tab}/{tab}.tcss" for tab in (
        "training", "compare", "backprop", "pipeline", "errors", "experiments"))]
    TITLE = "MNIST: two dense networks"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (150, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_tab('training')", "Training"),
        Binding("2", "show_tab('compare')", "Compare"),
        Binding("3", "show_tab('backprop')", "Backprop"),
        Binding("4", "show_tab('pipeline')", "Pipeline"),
        Binding("5", "show_tab('experiments')", "Experiments"),
        Binding("6", "show_tab('errors')", "Errors"),
        # Shown apart, at the footer's right end (AlwaysKey): the footer lists the focused
        # widget's keys first and a narrow terminal cuts the last ones.
        Binding("question_mark", "help", "Help", show=False),
        Binding("q", "quit", "Quit", show=False),
    ]

    data: var[Dashboard | None] = var(None)
    # The run under the Experiments tab's cursor (set by its RunSelected message) and what the
    # Training tab shows: the workspace, or the folder of the selected run while it runs.
    selected_run: var[Run | None] = var(None)
    training: var[Dashboard | None] = var(None)
    following: var[Run | None] = var(None)
    pane_warnings: var[tuple[str, ...]] = var(())  # problems of the files the Errors tab reads on its own

    def __init__(self, root: Path | str, poll_s: float = POLL_S) -> None:
        super().__init__()
        self.root = Path(root).resolve()
        self.source = DataSource(self.root)
        self.training_source = self.source
        self.poll_s = poll_s

    def compose(self) -> ComposeResult:
        yield Static(id="warnings")
        with TabbedContent(initial="training", id="tabs"):
            with TabPane("1 Training", id="training"):
                yield TrainingPane(id="training-pane").data_bind(
                    data=DashboardApp.training, following=DashboardApp.following)
            with TabPane("2 Compare", id="compare"):
                yield ComparePane(id="compare-pane").data_bind(DashboardApp.data)
            with TabPane("3 Backprop", id="backprop"):
                yield BackpropPane(id="backprop-pane").data_bind(DashboardApp.data)
            with TabPane("4 Pipeline", id="pipeline"):
                yield PipelinePane(self.root, id="pipeline-pane")
            with TabPane("5 Experiments", id="experiments"):
                yield ExperimentsPane(self.root, id="experiments-pane")
            with TabPane("6 Errors", id="errors"):
                yield ErrorsPane(self.root, self.poll_s, id="errors-pane").data_bind(
                    DashboardApp.data, run=DashboardApp.selected_run)
        with Horizontal(id="footer-bar"):
            yield Footer()
            yield AlwaysKey("question_mark", "?", "Help")
            yield AlwaysKey("q", "q", "Quit")

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(self.poll_s, self.poll)
        self._focus_active_pane()

    def poll(self) -> None:
        if self.source.poll() or self.data is None:
            self.data = self.source.snapshot
        if self.training_source is self.source:
            self.training = self.data
        elif self.training_source.poll() or self.training is None:
            self.training = self.training_source.snapshot

    # --- the selected run -------------------------------------------------------------

    def on_experiments_pane_run_selected(self, message: ExperimentsPane.RunSelected) -> None:
        self.selected_run = message.run

    def watch_selected_run(self, run: Run | None) -> None:
        """The Training tab follows the selected run while it runs outside the workspace
        (a queue worker's temporary folder); otherwise it shows the workspace."""
        folder = Path(run.folder).resolve() if run is not None and run.running and run.folder else None
        following = run if folder is not None and folder != self.root else None
        if _where(following) == _where(self.following):
            return
        self.following = following
        self.training_source = DataSource(folder) if following is not None else self.source
        self.training = None
        self.poll()

    def on_between_panel_open_disagreement(self, message: BetweenPanel.OpenDisagreement) -> None:
        """A McNemar count chosen in the Experiments tab: the Errors tab shows those images."""
        self.query_one(ErrorsPane).versus = message.disagreement
        self.action_show_tab("errors")

    def on_errors_pane_warnings(self, message: ErrorsPane.Warnings) -> None:
        self.pane_warnings = message.problems

    def watch_pane_warnings(self) -> None:
        self._show_warnings()

    def watch_data(self) -> None:
        self._show_warnings()

    def watch_training(self) -> None:
        self._show_warnings()

    def _show_warnings(self) -> None:
        """One line per problem of the files the open tab reads, and only on that tab: the
        Training tab's snapshot (the workspace or the followed folder), the workspace snapshot's
        files Compare and Backprop read, the files the Errors tab reads itself."""
        tab = self.query_one(TabbedContent).active
        if tab == "errors":
            problems = self.pane_warnings
        else:
            data = self.training if tab == "training" else self.data
            problems = data.warnings_for(tab) if data is not None else ()
        warnings = self.query_one("#warnings", Static)
        warnings.update("\n".join(f"⚠ {problem}" for problem in problems))
        warnings.display = bool(problems)

    # --- tabs -------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_active_pane()

    def on_tabbed_content_tab_activated(self) -> None:
        self._focus_active_pane()
        self._show_warnings()

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
        run = jobs.running(self.root)
        if run is None:
            self.exit()
            return

        def answered(quit_: bool | None) -> None:
            if quit_:
                self.exit()

        self.push_screen(ConfirmQuit(f"`{run.label}` (pid {run.pid})"), answered)


def _where(run: Run | None) -> tuple[str, str | None] | None:
    """Which run the Training tab follows, and in which folder (its other fields change as it runs)."""
    return None if run is None else (run.key, run.folder)
