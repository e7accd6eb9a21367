"""Backprop tab: the assignment's graph, stepped forward then backward edge by edge.

The engine (mnist_dvc.backprop.engine) records every step with its hand calculation and
mnist_dvc.backprop.walkthrough draws the graph at any step; this pane only chooses the step,
shows that step's line, and recomputes everything when an input is edited. The graph view
posts its keys up as messages (step, jump, play); the pane decides what they do.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Label, Static

from mnist_dvc.backprop.expression import ExpressionError
from mnist_dvc.backprop.notation import fmt
from mnist_dvc.backprop.record import Trace, trace
from mnist_dvc.backprop.walkthrough import render_graph
from mnist_dvc.core.params import BackpropParams
from tui.backprop.text import (
    NO_CHECK,
    check_lines,
    check_note,
    gradient_texts,
    inputs_line,
    step_heading,
    step_lines,
)
from tui.ground.snapshot import Dashboard

AUTOPLAY_S = 0.8
BEFORE_FIRST = -1
STEP_KEYS = "→ or n: next step, End: all, space: play"
CHECK_STYLES = {True: "bold green", False: "bold red"}


def number_text(value: float) -> str:
    """A number as typed in an input box (ASCII minus, no needless digits)."""
    return fmt(value, 12).replace("−", "-")


class GraphView(ScrollableContainer):
    """The drawn graph; focused, its arrow keys ask to step the walkthrough (up/down still scroll).

    It knows nothing of the walkthrough: its keys post messages, and `show` draws what it is given.
    """

    class StepRequested(Message):
        """Move `delta` steps (→ or n: +1, ← or p: −1)."""

        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    class JumpRequested(Message):
        """Go to the start (`where` = "first", Home) or to the last step ("last", End)."""

        def __init__(self, where: str) -> None:
            super().__init__()
            self.where = where

    class PlayToggled(Message):
        """Start or pause stepping on its own (space)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,n", "step(1)", "Next", key_display="→"),
        Binding("left,p", "step(-1)", "Prev", key_display="←"),
        Binding("home", "jump('first')", "Start"),
        Binding("end", "jump('last')", "End"),
        Binding("space", "play", "Play"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="graph")
        yield Static(id="step-list")

    def action_step(self, delta: int) -> None:
        self.post_message(self.StepRequested(delta))

    def action_jump(self, where: str) -> None:
        self.post_message(self.JumpRequested(where))

    def action_play(self) -> None:
        self.post_message(self.PlayToggled())

    def show(self, drawing: Text, steps: Text) -> None:
        """Draw the graph and the list of steps, scrolled so that the highlighted step shows."""
        self.query_one("#graph", Static).update(drawing)
        self._keep_in_view(drawing)
        self.query_one("#step-list", Static).update(steps)

    def _keep_in_view(self, drawing: Text) -> None:
        """Scroll the graph (taller than an 80x24 terminal) so the highlighted step shows."""
        active = [span for span in drawing.spans if "reverse" in str(span.style)]
        if not active:
            return
        row = drawing.plain.count("\n", 0, active[0].start)
        top, height = self.scroll_y, self.scrollable_content_region.height
        if height and not top <= row < top + height - 1:
            self.scroll_to(y=max(0, row - height // 2), animate=False)


class BackpropPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reset_inputs", "Reset"),
        Binding("escape", "focus_graph", "Back to graph", show=False),
    ]

    data: reactive[Dashboard | None] = reactive(None, layout=False)
    trace: reactive[Trace | None] = reactive(None, layout=False)
    step: reactive[int] = reactive(BEFORE_FIRST, layout=False)
    playing: reactive[bool] = reactive(False, layout=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._params: BackpropParams | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="step-info")
        yield Static(id="chain-line")
        with Horizontal(id="backprop-body"):
            yield GraphView(id="graph-view")
            with VerticalScroll(id="backprop-side"):
                yield Static("inputs · ∂f/∂input (Tab: edit, Enter: back)", classes="title")
                yield Grid(id="inputs")
                yield Static(id="backprop-error")
                yield Static(id="backprop-check")

    def on_mount(self) -> None:
        self._timer = self.set_interval(AUTOPLAY_S, self._advance, pause=True)

    # --- data -----------------------------------------------------------------------

    async def watch_data(self, data: Dashboard | None) -> None:
        if data is None:
            return
        params = data.params.backprop if data.params else None
        if params is None and self._params is None:
            self._error("params.yaml could not be read (see the warning above): no expression to trace")
        if params is not None and params != self._params:
            same_inputs = self._params is not None and list(params.inputs) == list(self._params.inputs)
            self._params = params
            if same_inputs:
                for name, value in params.inputs.items():
                    self.query_one(f"#in-{name}", Input).value = number_text(value)
            else:
                await self._build_inputs(params)
            self._recompute(dict(params.inputs))
        self._show_check()

    async def _build_inputs(self, params: BackpropParams) -> None:
        grid = self.query_one("#inputs", Grid)
        await grid.remove_children()
        widgets = []
        for name, value in params.inputs.items():
            widgets.append(Label(name, classes="input-name"))
            widgets.append(Input(number_text(value), type="number", compact=True,
                                 id=f"in-{name}", classes="input-value"))
            widgets.append(Static(id=f"grad-{name}", classes="input-grad"))
        await grid.mount_all(widgets)

    def _recompute(self, inputs: dict[str, float]) -> None:
        if self._params is None:
            return
        try:
            self.trace = trace(self._params.expression, inputs)
        except (ExpressionError, ArithmeticError, ValueError) as exc:
            self._error(f"cannot compute at these inputs: {exc}; showing the last result")
            return
        self._error(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._params is None or not event.input.id:
            return
        event.stop()
        inputs = {}
        fields = {field.id: field for field in self.query(".input-value").results(Input)}
        for name in self._params.inputs:
            field = fields.get(f"in-{name}")
            if field is None:  # the form is being rebuilt for new inputs
                return
            try:
                inputs[name] = float(field.value)
            except ValueError:
                field.add_class("-invalid")
                self._error(f"{name}: {field.value!r} is not a number")
                return
            field.remove_class("-invalid")
        self._recompute(inputs)

    def _error(self, message: str | None) -> None:
        error = self.query_one("#backprop-error", Static)
        error.update(Text(message or "", style="bold red"))
        error.display = message is not None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_default()

    def focus_default(self) -> None:
        """The graph: its keys step the walkthrough."""
        self.query_one(GraphView).focus()

    def action_focus_graph(self) -> None:
        self.focus_default()

    def action_reset_inputs(self) -> None:
        if self._params is None:
            return
        for name, value in self._params.inputs.items():
            self.query_one(f"#in-{name}", Input).value = number_text(value)

    # --- stepping -------------------------------------------------------------------

    def on_graph_view_step_requested(self, message: GraphView.StepRequested) -> None:
        message.stop()
        self.move(message.delta)

    def on_graph_view_jump_requested(self, message: GraphView.JumpRequested) -> None:
        message.stop()
        self.jump(message.where)

    def on_graph_view_play_toggled(self, message: GraphView.PlayToggled) -> None:
        message.stop()
        self.playing = not self.playing

    @property
    def last_step(self) -> int:
        return len(self.trace.steps) - 1 if self.trace else BEFORE_FIRST

    def move(self, delta: int) -> None:
        self.playing = False
        self.step = max(BEFORE_FIRST, min(self.last_step, self.step + delta))

    def jump(self, where: str) -> None:
        self.playing = False
        self.step = BEFORE_FIRST if where == "first" else self.last_step

    def _advance(self) -> None:
        if self.step >= self.last_step:
            self.playing = False
            return
        self.step += 1

    def watch_playing(self, playing: bool) -> None:
        if self._timer is None:
            return
        if playing:
            if self.step >= self.last_step:
                self.step = BEFORE_FIRST
            self._timer.resume()
        else:
            self._timer.pause()

    def validate_step(self, step: int) -> int:
        return max(BEFORE_FIRST, min(self.last_step, step))

    def watch_step(self) -> None:
        self._show()

    def watch_trace(self) -> None:
        self.step = self.validate_step(self.step)
        self._show()

    def _show(self) -> None:
        run = self.trace
        if run is None:
            return
        self.query_one(GraphView).show(render_graph(run, self.step), self._steps_text(run))
        info = self.query_one("#step-info", Static)
        line = self.query_one("#chain-line", Static)
        if self.step == BEFORE_FIRST:
            info.update(f"{step_heading(run, self.step)} · {STEP_KEYS}")
            line.update(inputs_line(run))
        else:
            info.update(step_heading(run, self.step))
            line.update(Text(run.steps[self.step].line, style="bold"))
        self._show_gradients(run)
        self._show_check()

    def _steps_text(self, run: Trace) -> Text:
        """Every step's line: done ones plain, the current one highlighted, the rest dim."""
        lines = Text("all steps\n", style="bold")
        for i, step_line in enumerate(step_lines(run)):
            style = "reverse" if i == self.step else ("" if i < self.step else "dim")
            lines.append(step_line, style=style)
            lines.append("\n")
        return lines

    def _show_gradients(self, run: Trace) -> None:
        """∂f/∂input beside each input, once the backward pass has reached it."""
        for name, gradient in gradient_texts(run, self.step).items():
            for cell in self.query(f"#grad-{name}").results(Static):
                cell.update(Text(gradient, style="red"))

    def _show_check(self) -> None:
        check = self.query_one("#backprop-check", Static)
        report = self.data.backprop if self.data else None
        if report is None:
            check.update(NO_CHECK)
            return
        lines = Text()
        for line in check_lines(report):
            lines.append(f"{line.mark} ", style=CHECK_STYLES[line.ok])
            lines.append(f"{line.text}\n")
        lines.append(check_note(report, self.trace.inputs if self.trace else None), style="dim")
        check.update(lines)
