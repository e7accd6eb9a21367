"""Training tab: one live panel per model of params.yaml or metrics/train/, in the workspace
or, while the run selected in the Experiments tab runs in a queue worker's folder, in that
folder (the app says which: `following`, and binds that folder's snapshot down as `data`)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from tui.ground.runs import Run
from tui.ground.snapshot import Dashboard
from tui.training.text import following_line, training_hint
from tui.training.widgets import ModelPanel


class TrainingPane(VerticalScroll):
    """Panels are mounted once per model and then updated in place: a poll never
    rebuilds the screen, so nothing flickers and the scroll position stays put."""

    data: reactive[Dashboard | None] = reactive(None, layout=False)
    following: reactive[Run | None] = reactive(None)

    def focus_default(self) -> None:
        """The pane itself: its keys scroll the panels."""
        self.focus()

    def compose(self) -> ComposeResult:
        yield Static(id="training-following", classes="hint")
        yield Static(id="training-hint", classes="hint")
        yield Container(id="panels")

    def watch_following(self, run: Run | None) -> None:
        note = self.query_one("#training-following", Static)
        note.display = run is not None
        if run is not None:
            note.update(following_line(run))

    def watch_data(self, data: Dashboard | None) -> None:
        if data is None:
            return
        hint = training_hint(data)
        shown = self.query_one("#training-hint", Static)
        shown.display = hint is not None
        shown.update(hint or "")
        panels = self.query_one("#panels")
        existing = {panel.id: panel for panel in panels.query(ModelPanel)}
        wanted = [f"panel-{run.name}" for run in data.runs]
        for panel_id, panel in existing.items():
            if panel_id not in wanted:
                panel.remove()
        for run, panel_id in zip(data.runs, wanted, strict=True):
            if panel_id in existing:
                existing[panel_id].run = run
            else:
                panels.mount(ModelPanel(run, id=panel_id))
