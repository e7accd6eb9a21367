"""The Experiments tab's dialogs: the new-experiment form, a question, a one-line prompt, a log.

The form shows every param of params.yaml with its current value; what the user changes
becomes `-S key=value` overrides, validated (tui.experiments.control: DVC's own override
parser, then the project's params validator) before the form closes, so a bad value is one
line under the fields and nothing starts. The dialogs only answer; the pane runs the commands.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Log, Static
from textual.worker import get_current_worker

from tui.experiments import control
from tui.experiments.collect import ExpTable
from tui.ground.dvc import clean_line

LOG_POLL_S = 0.5


@dataclass(frozen=True)
class Launch:
    """What the form asks for: run now in the workspace, or queue; with these overrides and name."""

    queue: bool
    overrides: tuple[str, ...]
    name: str


def field_id(key: str) -> str:
    return "param-" + key.replace(".", "--")


class ExperimentForm(ModalScreen[Launch | None]):
    """Params to set, then Run now (ctrl+r) or Queue (ctrl+e); Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "submit(False)", "Run now", priority=True),
        Binding("ctrl+e", "submit(True)", "Queue", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, root: Path, fields: list[tuple[str, Any]], table: ExpTable | None) -> None:
        super().__init__()
        self.root = root
        self.fields = fields
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box", classes="dialog"):
            yield Static("[b]New experiment[/b]: change params, then [b]ctrl+r[/b] run now in the workspace "
                         "or [b]ctrl+e[/b] queue it. Text params are taken as typed; numbers and "
                         "\\[lists] as in params.yaml.", classes="form-hint")
            with VerticalScroll(id="form-fields"), Grid(id="form-grid"):
                for key, value in self.fields:
                    yield Label(key)
                    yield Input(control.field_text(value), id=field_id(key), compact=True)
                yield Label("name (optional)")
                yield Input(placeholder="a name for dvc (-n)", id="form-name", compact=True)
            yield Static(id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Run now (ctrl+r)", id="run-now", variant="primary")
                yield Button("Queue (ctrl+e)", id="queue")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        self.query_one(Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.action_submit(event.button.id == "queue")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def overrides(self) -> list[str]:
        texts = {key: self.query_one(f"#{field_id(key)}", Input).value for key, _ in self.fields}
        return control.changed_overrides(self.fields, texts)

    def action_submit(self, queue: bool) -> None:
        self._check(queue, tuple(self.overrides()), self.query_one("#form-name", Input).value.strip())

    @work(exclusive=True, group="form-check", thread=True)
    def _check(self, queue: bool, overrides: tuple[str, ...], name: str) -> None:
        """DVC's override parser is imported on first use (a few hundred ms): off the UI thread."""
        worker = get_current_worker()
        try:
            control.validate(self.root, overrides)
            problem = control.name_problem(name, self.table)
        except control.OverrideError as exc:
            problem = str(exc)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._checked, Launch(queue, overrides, name), problem)

    def _checked(self, launch: Launch, problem: str | None) -> None:
        if problem is None:
            self.dismiss(launch)
            return
        error = self.query_one("#form-error", Static)
        error.update(f"✗ {problem}")
        error.tooltip = problem  # the line ends in … where it is wider than the form: all of it here
        error.display = True
        for key, _ in self.fields:
            named = re.search(rf"(?<![\w.]){re.escape(key)}(?!\w)", problem) is not None
            self.query_one(f"#{field_id(key)}", Input).set_class(named, "-invalid")


class Confirm(ModalScreen[bool]):
    """A yes/no question before something that changes the workspace or the experiments."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm-box"):
            yield Static(f"{self.question}\n\n[b]y[/b] yes · [b]n[/b] no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class Prompt(ModalScreen[str | None]):
    """One line of input (a branch name, a number of workers); Enter answers, Esc cancels. With
    `check` (the answer -> why it would be refused, or None), a refused answer keeps the prompt open
    with that one-line reason, so the user corrects it instead of starting over."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "",
                 check: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm-box"):
            yield Static(self.question)
            yield Input(self.value, id="prompt-input")
            yield Static(id="prompt-error")
            yield Static("Enter: ok · Esc: cancel", classes="form-hint")

    def on_mount(self) -> None:
        self.query_one("#prompt-error").display = False
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        problem = self.check(answer) if self.check is not None else None
        if problem is None:
            self.dismiss(answer)
            return
        error = self.query_one("#prompt-error", Static)
        error.update(f"✗ {problem}")
        error.tooltip = problem  # the line ends in … where it is wider than the form: all of it here
        error.display = True
        self.query_one(Input).add_class("-invalid")

    def action_cancel(self) -> None:
        self.dismiss(None)


class LogScreen(ModalScreen[None]):
    """A log: a file followed as it grows (a run's output), or a text (dvc queue status)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,l", "dismiss", "Close")]

    def __init__(self, title: str, path: Path | None = None, text: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.path = path
        self.text = text
        self._offset = 0
        self._tail = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def compose(self) -> ComposeResult:
        with Vertical(id="log-box", classes="dialog"):
            yield Static(f"[b]{self.title_text}[/b]   (Esc closes)")
            yield Log(id="log-view", max_lines=5000, highlight=False)

    def on_mount(self) -> None:
        log = self.query_one(Log)
        if self.text:
            log.write_lines(self.text.splitlines())
        if self.path is not None:
            self._follow()
            self.set_interval(LOG_POLL_S, self._follow)

    def _follow(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return
        self._offset += len(chunk)
        lines = (self._tail + self._decoder.decode(chunk)).split("\n")
        self._tail = lines.pop()
        if lines:
            self.query_one(Log).write_lines([clean_line(line) for line in lines])
