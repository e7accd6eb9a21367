"""Modal screens: the key help (`?`) and the quit confirmation."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Keys[/b]
  1-6            Training · Compare · Backprop · Pipeline · Experiments · Errors
  ?              this help          q   quit (asks first while a repro or experiment runs)
  Tab            move the focus

[b]Training[/b]  one panel per model, updated within a second of each epoch;
  ↑ ↓ PgUp PgDn scroll.
[b]Compare[/b]   the assignment's comparison (★ = better), verdicts, McNemar's test,
  test accuracy of both models per epoch, published MNIST results.
[b]Backprop[/b]  → or n next step · ← or p previous · Home start · End all
  space play/pause · Tab to the inputs, edit, Enter back · r reset the inputs
[b]Pipeline[/b]  r run `dvc repro` · s run the selected stage · x stop the repro
  (Ctrl-C: training checkpoints) · u refresh the statuses.
  A repro keeps running after you quit; reopen the dashboard to follow it.
[b]Experiments[/b]  every run: workspace, recent commits, their experiments.
  space select (2+: curves, deltas, McNemar) · b baseline · m model · / filter
  s sort by the cursor's column (again: reverse, again: off) · a all columns
  h hide the cursor's column · H show them again · p pin it beside the name
  n new experiment (ctrl+r run now, ctrl+e queue) · w start queue workers
  Q queue status · l log · x kill · A apply · B branch · D remove · u refresh
  The Training tab follows the run under the cursor while it runs.
[b]Errors[/b] (6) arrows move · Enter opens a cell's digits: → ← page, ] [ confusion
  m model · s seed · o the other model's prediction · Esc back to the matrix.

`python -m tui --once` prints Training and Compare as text and exits;
`--once --experiments [--format md|csv]` prints the Experiments table.
Press Esc, q or ? to close."""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Static(HELP)


class ConfirmQuit(ModalScreen[bool]):
    """Asked when a repro is running: quitting leaves it running, which may surprise."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Quit, leave it running"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(f"{self.what} is running.\n\nQuit the dashboard and leave it running in the "
                         "background? Reopen the dashboard to follow it.\n\n[b]y[/b] quit · [b]n[/b] stay")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
