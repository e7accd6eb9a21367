"""The dashboard driven headless with Textual's pilot: every tab, live updates, the repro."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Log, ProgressBar, Static, TabbedContent

from mnist_dvc.backprop.engine import fmt, trace
from mnist_dvc.core.atomic import write_json
from tests.fixtures.runs import write_params, write_run
from tests.helpers import BIN, FIXTURES, TINY, run
from tui import repro
from tui.app import DashboardApp
from tui.data import pid_alive
from tui.panes.backprop import AUTOPLAY_S, BackpropPane, GraphView
from tui.panes.pipeline import PipelinePane
from tui.report import COMPARE_HINT, START_HINT
from tui.screens import ConfirmQuit, HelpScreen
from tui.widgets.curves import CurvesPlot
from tui.widgets.model_panel import ModelPanel

SIZE = (100, 32)
POLL_S = 0.1


def make_app(root: Path) -> DashboardApp:
    app = DashboardApp(root, poll_s=POLL_S)
    app.animation_level = "none"
    return app


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 15.0, what: str = "",
                   ) -> None:
    """Let the app run until `condition` holds (the dashboard polls files asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


async def open_backprop(pilot: Pilot) -> BackpropPane:
    """Switch to the Backprop tab once its first trace is computed (the form mounts asynchronously)."""
    pane = pilot.app.query_one(BackpropPane)
    await wait_for(pilot, lambda: pane.trace is not None, what="the first trace")
    await pilot.press("3")
    return pane


def text(app: DashboardApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "finished", root)
    return root


def git_dvc_repo(source: Path, target: Path) -> Path:
    """A git + DVC repository holding a copy of `source`, committed."""
    shutil.copytree(source, target)
    run(["git", "init", "-q", "-b", "main"], target)
    run([str(BIN / "dvc"), "init", "-q"], target)
    run(["git", "add", "-A"], target)
    run(["git", "commit", "-q", "-m", "init"], target)
    return target


# --- tabs ---------------------------------------------------------------------------------


async def test_number_keys_switch_tabs_and_focus_their_content() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "training"
        for key, tab, focused in [("2", "compare", "comparison"), ("3", "backprop", "graph-view"),
                                  ("4", "pipeline", "stages"), ("1", "training", "training-pane")]:
            await pilot.press(key)
            assert tabs.active == tab
            assert app.focused is not None and app.focused.id == focused


async def test_clicking_a_tab_focuses_its_content_too() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        clicks = [("backprop", "graph-view"), ("compare", "comparison"), ("training", "training-pane")]
        for tab, focused in clicks:
            await pilot.click(f"#--content-tab-{tab}")
            await pilot.pause()
            assert app.query_one(TabbedContent).active == tab
            assert app.focused is not None and app.focused.id == focused


async def test_help_opens_and_closes() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_quit_without_a_repro_exits_at_once() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_quit_while_a_repro_runs_asks_first(finished: Path) -> None:
    """A repro is running when its runner's pid is alive and it wrote no exit status (this test's pid)."""
    write_json(finished / repro.STATE, {"pid": os.getpid(), "command": ["/venv/bin/dvc", "repro", "hold"],
                                        "started_at": "2025-01-01T12:00:00+00:00"})
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        question = str(app.screen.query_one(Static).render())
        assert question.startswith(f"`dvc repro hold` (pid {os.getpid()}) is running.")
        await pilot.press("n")
        assert app.is_running and not isinstance(app.screen, ConfirmQuit)
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running


# --- training -----------------------------------------------------------------------------


async def test_finished_runs_show_their_numbers() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_b", ModelPanel)
        assert panel.border_title == "model_b  784→256→512→128→10"
        assert panel.border_subtitle == "finished"
        assert str(panel.query_one(".run-line", Static).render()) == (
            "finished · epoch 12/12 · elapsed 27.2 s · last epoch 2.00 s · tensorflow"
        )
        metrics = str(panel.query_one(".run-metrics", Static).render())
        assert "test accuracy     98.15%   98.37%  at epoch 8" in metrics
        assert not app.query_one("#training-hint").display
        assert not app.query_one("#warnings").display


async def test_panels_sit_side_by_side_once_the_terminal_is_wide() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        await pilot.pause()
        first, second = (panel.virtual_region for panel in app.query(ModelPanel))
        assert app.screen.has_class("-narrow")
        assert second.y >= first.bottom and second.x == first.x
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        first, second = (panel.virtual_region for panel in app.query(ModelPanel))
        assert app.screen.has_class("-wide")
        assert second.y == first.y and second.x >= first.right
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        first, second = (panel.virtual_region for panel in app.query(ModelPanel))
        assert second.y >= first.bottom


async def test_a_growing_run_moves_the_progress_bar_and_the_charts(tmp_path: Path) -> None:
    write_params(tmp_path, epochs=5)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_a", ModelPanel)
        bar = panel.query_one(ProgressBar)
        loss_chart = panel.query_one(".loss-chart", CurvesPlot)
        assert app.query_one("#training-hint").display
        assert (bar.progress, bar.total) == (0, 5)
        assert panel.border_subtitle == "waiting: not started yet"
        drawn_before = loss_chart.plt.build()
        for epoch in range(1, 4):
            write_run(tmp_path, "model_a", epoch, epochs=5, state="running", pid=os.getpid())
            await wait_for(pilot, lambda e=epoch: bar.progress == e, what=f"progress bar at epoch {epoch}")
            assert [len(xs) for _, xs, _ in loss_chart.series] == [epoch, epoch]
            assert panel.border_subtitle == "running"
            assert f"epoch {epoch}/5" in str(panel.query_one(".run-line", Static).render())
        assert loss_chart.plt.build() != drawn_before, "the chart was redrawn with the new epochs"
        assert not app.query_one("#training-hint").display
        write_run(tmp_path, "model_a", 5, epochs=5, state="finished", pid=os.getpid())
        await wait_for(pilot, lambda: panel.border_subtitle == "finished", what="finished state")
        assert bar.progress == 5


async def test_a_corrupt_file_shows_a_warning_and_keeps_the_last_data(finished: Path) -> None:
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        warnings = app.query_one("#warnings", Static)
        progress = finished / "metrics/train/model_a/progress.json"
        good = progress.read_text()
        progress.write_text(good[: len(good) // 2])
        await wait_for(pilot, lambda: warnings.display, what="the warning bar")
        assert str(warnings.render()).startswith("⚠ metrics/train/model_a/progress.json: not valid JSON")
        panel = app.query_one("#panel-model_a", ModelPanel)
        assert panel.border_subtitle == "finished"
        assert panel.query_one(ProgressBar).progress == 12
        progress.write_text(good)
        await wait_for(pilot, lambda: not warnings.display, what="the warning to clear")


async def test_missing_metrics_shows_how_to_start(tmp_path: Path) -> None:
    write_params(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        hint = app.query_one("#training-hint", Static)
        await wait_for(pilot, lambda: hint.display, what="the training hint")
        assert str(hint.render()) == START_HINT
        await pilot.press("2")
        compare_hint = app.query_one("#compare-hint", Static)
        assert compare_hint.display and str(compare_hint.render()) == COMPARE_HINT
        assert not app.query_one("#comparison").display


# --- compare ------------------------------------------------------------------------------


async def test_compare_marks_winners_and_keeps_the_cursor_on_updates(finished: Path) -> None:
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.query_one("#comparison", DataTable)
        await wait_for(pilot, lambda: table.row_count == 9, what="the comparison rows")
        assert str(table.get_cell("best_test_accuracy", "model_b")) == "★ 98.37%"
        assert str(table.get_cell("best_test_accuracy", "model_a")) == "97.84%"
        assert str(table.get_cell("train_time_s", "model_a")) == "★ 11.9 s"
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3
        comparison = finished / "metrics/comparison.json"
        comparison.write_text(comparison.read_text().replace('"train_time_s": 11.9', '"train_time_s": 99.5'))
        await wait_for(pilot, lambda: str(table.get_cell("train_time_s", "model_a")) == "1 min 40 s",
                       what="the updated training time")
        assert str(table.get_cell("train_time_s", "model_b")) == "★ 27.2 s"
        assert table.cursor_row == 3, "an update must not move the user's cursor"
        verdicts = text(app, "#verdicts")
        assert "Time: model_a. model_a trains 2.3 times faster." in verdicts
        assert "McNemar's exact test (model_a vs model_b): b01 = 61, b10 = 105, p = 0.000803" in verdicts
        overlay = app.query_one("#overlay", CurvesPlot)
        assert [label for label, _, _ in overlay.series] == ["model_a", "model_b"]


# --- backprop -----------------------------------------------------------------------------


EXPRESSION = "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
INPUTS = {"x1": 0.7, "w1": -1.5, "x2": 0.34, "w2": -0.35, "x3": 0.2, "w3": -0.25, "x4": -0.9, "w4": 0.2}


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


async def test_space_plays_and_pauses_and_play_stops_at_the_end() -> None:
    app = make_app(FIXTURES / "finished")
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_backprop(pilot)
        await pilot.press("space")
        assert pane.playing
        await wait_for(pilot, lambda: pane.step >= 1, what="autoplay to advance")
        await pilot.press("space")
        assert not pane.playing
        paused_at = pane.step
        await pilot.pause(2 * AUTOPLAY_S)
        assert pane.step == paused_at
        pane.step = pane.last_step - 1
        await pilot.press("space")
        await wait_for(pilot, lambda: not pane.playing, what="autoplay to stop at the last step")
        assert pane.step == pane.last_step == 20


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
        await wait_for(pilot, lambda: field.value == "1.5", what="the new x1 in the form")
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
        assert "✓ TensorFlow: max |Δ| 5.96e-08 ≤ 1e-06" in check
        assert "✓ finite differences: max |Δ| 2.1e-10 ≤ 1e-06" in check
        report = finished / "metrics/backprop.json"
        report.write_text(report.read_text().replace('"ok": true', '"ok": false', 1))
        await wait_for(pilot, lambda: "✗" in text(app, "#backprop-check"), what="the failed check")


# --- pipeline -----------------------------------------------------------------------------


def stage_statuses(app: DashboardApp) -> dict[str, str]:
    table = app.query_one("#stages", DataTable)
    return {key.value: str(table.get_cell(key, "status")) for key in table.rows}


@pytest.mark.slow
async def test_repro_runs_in_the_background_once_and_outlives_the_dashboard(tmp_path: Path) -> None:
    root = git_dvc_repo(FIXTURES / "pipeline", tmp_path / "pipeline")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: stage_statuses(app) == {"greet": "never run", "hold": "never run"},
                       what="dvc status of a fresh pipeline")
        await pilot.press("r")
        pane = app.query_one(PipelinePane)
        await wait_for(pilot, lambda: pane.running, what="the repro to start")
        log = app.query_one("#repro-log", Log)
        await wait_for(pilot, lambda: "holding until ./release exists" in "\n".join(log.lines),
                       what="the hold stage's output in the log")
        assert stage_statuses(app) == {"greet": "done", "hold": "running"}
        pid = pane.run.pid
        await pilot.press("r")
        assert pane.run.pid == pid and repro.current(root).pid == pid, "a second repro was started"
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        assert app.is_running and not isinstance(app.screen, ConfirmQuit)
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running
    assert pid_alive(pid) and repro.current(root).running, "quitting the dashboard stopped the repro"
    (root / "release").touch()
    deadline = time.monotonic() + 60
    while repro.current(root).returncode is None:
        assert time.monotonic() < deadline, "the repro did not finish"
        time.sleep(0.1)
    assert repro.current(root).returncode == 0
    assert (root / "out/held.txt").read_text() == "released\n"

    again = make_app(root)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: stage_statuses(again) == {"greet": "up to date", "hold": "up to date"},
                       what="up-to-date statuses after the repro")
        assert text(again, "#pipeline-status").startswith("dvc repro: finished (started ")
        assert "Updating lock file 'dvc.lock'" in "\n".join(again.query_one("#repro-log", Log).lines)


@pytest.mark.slow
async def test_a_stage_repro_and_its_stop_key(tmp_path: Path) -> None:
    root = git_dvc_repo(FIXTURES / "pipeline", tmp_path / "pipeline")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.query_one("#stages", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2, what="the stage list")
        await pilot.press("down", "s")
        pane = app.query_one(PipelinePane)
        await wait_for(pilot, lambda: pane.running, what="the repro to start")
        assert pane.run.label == "dvc repro hold"
        await wait_for(pilot, lambda: stage_statuses(app).get("hold") == "running", what="hold running")
        await pilot.press("x")
        await wait_for(pilot, lambda: not pane.running, what="the repro to stop")
        assert repro.current(root).returncode not in (None, 0)
        assert "failed (exit" in text(app, "#pipeline-status")


@pytest.mark.slow
async def test_repro_of_the_real_pipeline_shows_finished_training(
    make_repo: Callable[..., Path], mnist_mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MNIST_MIRROR", str(mnist_mirror))
    root = make_repo(TINY)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.query_one("#stages", DataTable)
        await wait_for(pilot, lambda: table.row_count >= 4, what="the stage list")
        await pilot.press("r")
        pane = app.query_one(PipelinePane)
        await wait_for(pilot, lambda: pane.running, what="the repro to start")
        await wait_for(pilot, lambda: not pane.running, timeout=600, what="the repro to finish")
        log = "\n".join(app.query_one("#repro-log", Log).lines)
        assert repro.current(root).returncode == 0, log
        await pilot.press("1")
        for model in ("model_a", "model_b"):
            panel = app.query_one(f"#panel-{model}", ModelPanel)
            await wait_for(pilot, lambda p=panel: p.border_subtitle == "finished", what=f"{model} finished")
            assert str(panel.query_one(".run-line", Static).render()).startswith("finished · epoch 2/2 · ")
            assert panel.query_one(ProgressBar).progress == 2
        await wait_for(pilot, lambda: set(stage_statuses(app).values()) == {"up to date"},
                       what="every stage up to date")
