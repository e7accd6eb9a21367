"""Backprop tab (tui/backprop/): its text, pilot tests, the graph's messages, then snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from msgspec.structs import replace
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Static

from mnist_dvc.backprop.notation import fmt
from mnist_dvc.backprop.record import trace
from mnist_dvc.core.records.backprop import Backprop
from tests.helpers import (
    FIXTURES,
    NARROW,
    SIZE,
    WIDE,
    make_app,
    poll_now,
    settle,
    snapshot_app,
    text,
    wait_for,
)
from tui.backprop import pane as backprop_pane
from tui.backprop import text as backprop_text
from tui.backprop.pane import BackpropPane, GraphView

EXPRESSION = "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
INPUTS = {"x1": 0.7, "w1": -1.5, "x2": 0.34, "w2": -0.35, "x3": 0.2, "w3": -0.25, "x4": -0.9, "w4": 0.2}


def test_walkthrough_lines_follow_the_step() -> None:
    run = trace(EXPRESSION, INPUTS)
    assert backprop_text.step_heading(run, -1) == "step 0/21 · inputs only"
    assert backprop_text.step_heading(run, 0) == "step 1/21 · forward pass · node p"
    x1 = next(i for i, s in enumerate(run.steps) if s.kind == "backward" and s.node == "x1")
    assert backprop_text.step_heading(run, x1) == f"step {x1 + 1}/21 · backward pass · edge p → x1"
    assert backprop_text.inputs_line(run) == (
        "f = (x1*w1 + x2*w2) * (x3*w3 + x4*w4)   with x1 = 0.7, w1 = −1.5, x2 = 0.34, w2 = −0.35, "
        "x3 = 0.2, w3 = −0.25, x4 = −0.9, w4 = 0.2"
    )
    lines = backprop_text.step_lines(run)
    assert len(lines) == 21 and lines[0] == "  1  p = x1 · w1 = 0.7 · (−1.5) = −1.05"
    assert backprop_text.gradient_texts(run, x1 - 1)["x1"] == "∂ ·"
    assert backprop_text.gradient_texts(run, x1)["x1"] == "∂ 0.345"
    assert backprop_text.gradient_texts(run, -1) == dict.fromkeys(INPUTS, "∂ ·")


def test_backprop_check_lines() -> None:
    backprop = Backprop.read(FIXTURES / "finished/reports/backprop.json")
    lines = backprop_text.check_lines(backprop)
    assert [(line.mark, line.text) for line in lines] == [
        ("✓", "finite differences: max |Δ| 2.65e-12 ≤ 1e-06"),
        ("✓", "TensorFlow: max |Δ| 0 ≤ 1e-09"),
    ]
    check = backprop.check
    failed = replace(backprop, check=replace(
        check, tensorflow=replace(check.tensorflow, ok=False, max_abs_diff=0.25),
        finite_difference=replace(check.finite_difference, ok=False, max_abs_diff=None)))
    assert [(line.mark, line.text) for line in backprop_text.check_lines(failed)] == [
        ("✗", "finite differences"),
        ("✗", "TensorFlow: max |Δ| 0.25 > 1e-09"),
    ]


def test_the_check_note_says_when_the_inputs_were_edited() -> None:
    backprop = replace(Backprop.read(FIXTURES / "finished/reports/backprop.json"), inputs=dict(INPUTS))
    assert backprop_text.check_note(backprop, INPUTS) == "(checked by `dvc repro backprop` at its inputs)"
    assert backprop_text.check_note(backprop, None) == "(checked by `dvc repro backprop` at its inputs)"
    assert backprop_text.check_note(backprop, {**INPUTS, "w1": 2.0}) == (
        "(checked by `dvc repro backprop` at its inputs, not at your edited ones)"
    )


async def open_backprop(pilot: Pilot) -> BackpropPane:
    """Switch to the Backprop tab once its first trace is computed (the form mounts asynchronously)."""
    pane = pilot.app.query_one(BackpropPane)
    await wait_for(pilot, lambda: pane.trace is not None, what="the first trace")
    await pilot.press("3")
    return pane


async def test_stepping_the_walkthrough_shows_each_chain_rule_line() -> None:
    expected = trace(EXPRESSION, INPUTS)
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_backprop(pilot)
        assert pane.step == -1
        assert text(app, "#step-info").startswith("step 0/21 · inputs only")
        await pilot.press("right")
        assert text(app, "#chain-line") == "p = x1 · w1 = 0.7 · (−1.5) = −1.05"
        await pilot.press("end")
        assert text(app, "#chain-line") == expected.steps[-1].line
        x1 = next(i for i, s in enumerate(expected.steps) if s.kind == "backward" and s.node == "x1")
        await pilot.press("home", *["n"] * (x1 + 1))
        assert text(app, "#chain-line") == "∂f/∂x1 = ∂f/∂a · ∂a/∂p · ∂p/∂x1 = (−0.23)(1)(−1.5) = 0.345"
        assert text(app, "#step-info") == f"step {x1 + 1}/21 · backward pass · edge p → x1"
        assert text(app, "#grad-x1") == "∂ 0.345"
        assert text(app, "#grad-w4") == "∂ ·", "the backward pass has not reached w4 yet"
        await pilot.press("p")
        assert text(app, "#grad-x1") == "∂ ·"
        graph = str(app.query_one("#graph", Static).render())
        assert "[f ×]" in graph and "0.26887" in graph


class GraphAlone(App[None]):
    """A GraphView with no Backprop pane around it, keeping the messages it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Message] = []

    def compose(self) -> ComposeResult:
        yield GraphView(id="graph-view")

    def on_mount(self) -> None:
        self.query_one(GraphView).focus()

    def on_graph_view_step_requested(self, message: GraphView.StepRequested) -> None:
        self.requests.append(message)

    def on_graph_view_jump_requested(self, message: GraphView.JumpRequested) -> None:
        self.requests.append(message)

    def on_graph_view_play_toggled(self, message: GraphView.PlayToggled) -> None:
        self.requests.append(message)


async def test_the_graph_keys_post_requests_up() -> None:
    """The graph view asks; it does not reach for the pane (there is none here)."""
    app = GraphAlone()
    async with app.run_test() as pilot:
        await pilot.press("right", "n", "left", "p", "home", "end", "space")
        await pilot.pause()
    seen = [(type(m).__name__, getattr(m, "delta", getattr(m, "where", None))) for m in app.requests]
    assert seen == [("StepRequested", 1), ("StepRequested", 1), ("StepRequested", -1), ("StepRequested", -1),
                    ("JumpRequested", "first"), ("JumpRequested", "last"), ("PlayToggled", None)]


async def test_the_pane_handles_the_graph_requests() -> None:
    posted: list[Message] = []
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        pane = await open_backprop(pilot)
        assert app.focused is app.query_one(GraphView)
        await pilot.press("right")
        steps = {m for m in posted if isinstance(m, GraphView.StepRequested)}
        assert [m.delta for m in steps] == [1]
        assert pane.step == 0
        assert text(app, "#chain-line") == "p = x1 · w1 = 0.7 · (−1.5) = −1.05"


async def test_space_plays_and_pauses_and_play_stops_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    # The timer never fires by itself here: the test makes its ticks, one by one, so what autoplay
    # does cannot depend on how busy the machine is.
    monkeypatch.setattr(backprop_pane, "AUTOPLAY_S", 3600)
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_backprop(pilot)
        await pilot.press("space")
        assert pane.playing and pane._timer._active.is_set()
        started_at = pane.step
        pane._advance()  # one tick of the timer
        assert pane.step == started_at + 1
        await pilot.press("space")
        assert not pane.playing
        assert not pane._timer._active.is_set(), "paused: the timer ticks no more"
        pane.step = pane.last_step - 1
        await pilot.press("space")
        pane._advance()
        assert pane.step == pane.last_step == 20
        pane._advance()
        assert not pane.playing and not pane._timer._active.is_set(), "play stops at the last step"
        assert pane.step == 20


async def test_editing_an_input_recomputes_the_gradients() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        await open_backprop(pilot)
        await pilot.press("end")
        assert text(app, "#grad-x1") == "∂ 0.345"
        field = app.query_one("#in-w1", Input)
        field.focus()
        await pilot.press("end", *["backspace"] * len(field.value), "2")
        edited = trace(EXPRESSION, {**INPUTS, "w1": 2.0})
        assert text(app, "#grad-x1") == f"∂ {fmt(edited.grads['x1'])}" == "∂ −0.46"
        assert text(app, "#grad-x3") == f"∂ {fmt(edited.grads['x3'])}"
        assert text(app, "#chain-line") == edited.steps[-1].line
        assert "not at your edited ones" in text(app, "#backprop-check")
        await pilot.press("backspace", "minus")
        assert field.has_class("-invalid")
        assert text(app, "#backprop-error") == "w1: '-' is not a number"
        assert text(app, "#grad-x1") == "∂ −0.46", "a bad entry keeps the last result"
        await pilot.press("enter")
        assert app.focused is app.query_one("#graph-view")
        await pilot.press("r")
        assert field.value == "-1.5"
        assert text(app, "#grad-x1") == "∂ 0.345"


async def test_new_inputs_in_params_yaml_reach_the_form(finished: Path) -> None:
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await open_backprop(pilot)
        await pilot.press("end")
        params = finished / "params.yaml"
        params.write_text(params.read_text().replace("x1: 0.7", "x1: 1.5"))
        field = app.query_one("#in-x1", Input)
        await poll_now(pilot)
        assert field.value == "1.5"
        assert text(app, "#grad-w1") == f"∂ {fmt(trace(EXPRESSION, {**INPUTS, 'x1': 1.5}).grads['w1'])}"
        params.write_text(params.read_text().replace("x1: 1.5", "y1: 1.5").replace("x1*w1", "y1*w1"))
        # ∂f/∂y1 = b·w1 = (−0.23)(−1.5)
        await wait_for(pilot, lambda: len(app.query("#grad-y1")) == 1 and text(app, "#grad-y1") == "∂ 0.345",
                       what="the form rebuilt for y1, with its gradient")
        assert len(app.query("#in-x1")) == 0


async def test_backprop_check_marks(finished: Path) -> None:
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await open_backprop(pilot)
        check = text(app, "#backprop-check")
        assert "✓ TensorFlow: max |Δ| 0 ≤ 1e-09" in check
        assert "✓ finite differences: max |Δ| 2.65e-12 ≤ 1e-06" in check
        report = finished / "reports/backprop.json"
        report.write_text(report.read_text().replace('"ok": true', '"ok": false', 1))
        await poll_now(pilot)
        assert "✗" in text(app, "#backprop-check")


# --- snapshots ------------------------------------------------------------------------


def walkthrough_at(step: int) -> Callable[[Pilot], Awaitable[None]]:
    """Open the Backprop tab once its trace exists, and step to `step` (0-based) with the keys."""

    async def go(pilot: Pilot) -> None:
        pane = pilot.app.query_one(BackpropPane)
        await wait_for(pilot, lambda: pane.trace is not None, what="the first trace")
        await pilot.press("3", *["right"] * (step + 1))
        assert pane.step == step
        await settle(pilot)

    return go


def test_backprop_midway(snap_compare: Callable, finished: Path) -> None:
    """The backward pass has just reached x1: its chain-rule line and the highlighted edge."""
    assert snap_compare(snapshot_app(finished), terminal_size=NARROW, run_before=walkthrough_at(13))


def test_backprop_complete(snap_compare: Callable, finished: Path) -> None:
    assert snap_compare(snapshot_app(finished), terminal_size=WIDE, run_before=walkthrough_at(20))
