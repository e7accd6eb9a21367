"""The Experiments tab's actions (tui/experiments/pane.py, screens.py, control.py) through the tab:
the new-experiment form refusing a bad value, a run queued and run by a worker with nothing of
its params reaching a shell, apply, branch and remove. Real DVC in the repository of made-up
experiments (its dvc.yaml has no stages, so an experiment there runs in seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from textual.widgets import Input, Log, Static

from bench.experiment_repo import git
from tests.dashboard.experiments.driving import (
    cell,
    changed_in_form,
    cursor_to,
    names,
    open_tab,
    pane,
    state_of,
)
from tests.helpers import ROOT, SIZE, make_app, wait_for
from tui.experiments import collect as experiments
from tui.experiments import control as expctl
from tui.experiments.screens import Confirm, ExperimentForm, LogScreen, Prompt, field_id
from tui.ground import jobs
from tui.ground.dvc import DvcError
from tui.ground.runs import DONE, QUEUED

NASTY = """x1*w1; touch PWNED1 && $(touch PWNED2) `touch PWNED3` "q" 'r'"""
SHELLISH = "relu(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"  # a valid expression: a shell would glob and group it


async def test_a_bad_value_is_refused_in_the_form_and_nothing_starts(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentForm), what="the form")
        await changed_in_form(pilot, {"train.epochs": "0"})
        await pilot.press("ctrl+e")
        error = app.screen.query_one("#form-error", Static)
        await wait_for(pilot, lambda: error.display, what="the error line")
        assert str(error.render()) == "✗ params.yaml: train.epochs = 0 is invalid; expected an integer >= 1"
        assert app.screen.query_one(f"#{field_id('train.epochs')}", Input).has_class("-invalid")
        await changed_in_form(pilot, {"train.epochs": "3", "models.model_a.hidden": "[32, x"})
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "DVC cannot parse this value" in str(error.render()),
                       what="a parse error")
        # A message longer than the form is one line ending in …, all of it in its tooltip.
        await changed_in_form(pilot, {"models.model_a.hidden": "[32]", "backprop.expression": "x1 ** x2"})
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: "must be a number" in str(error.render()),
                       what="the expression refused")
        await pilot.pause()
        assert len(str(error.render())) > error.size.width and error.size.height == 1
        assert error.tooltip is not None and "only powers by a constant" in str(error.tooltip)
        await pilot.press("escape")
        assert not isinstance(app.screen, ExperimentForm)
    assert jobs.current(experiments_copy, jobs.EXP_RUN) is None
    assert [r.name for r in experiments.collect(experiments_copy).runs if r.state == QUEUED] == []


async def test_queued_from_the_form_then_run_by_a_worker_and_nothing_injected(experiments_copy: Path) -> None:
    """The injection test through the tab: the value is one argument and lands in params.yaml as typed.
    The queue's status (Q), a worker (w), the finished run with its task's log (l), and dvc's refusals
    in one line."""
    app = make_app(experiments_copy)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentForm), what="the form")
        await changed_in_form(pilot, {"backprop.expression": NASTY, "train.seed": "9"})
        app.screen.query_one("#form-name", Input).value = "from-the-tab"
        await pilot.press("ctrl+e")
        error = app.screen.query_one("#form-error", Static)
        await wait_for(pilot, lambda: error.display, what="the form's refusal")
        assert "backprop.expression = " in str(error.render()) and "cannot parse" in str(error.render())
        assert [r.name for r in experiments.collect(experiments_copy).runs if r.state == QUEUED] == []
        # A valid expression still holds what a shell would act on (spaces, *, parentheses): it must
        # arrive as typed, one argument.
        await changed_in_form(pilot, {"backprop.expression": SHELLISH})
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: state_of(app, "from-the-tab") == QUEUED,
                       what="the queued run")
        assert cell(app, "from-the-tab", "state") == QUEUED
        await pilot.press("Q")

        def queue_status_shown() -> bool:
            screen = app.screen
            return isinstance(screen, LogScreen) and any("from-the-tab" in line
                                                         for log in screen.query(Log) for line in log.lines)

        await wait_for(pilot, queue_status_shown, what="dvc queue status naming the queued run")
        await pilot.press("escape", "w")
        assert isinstance(app.screen, Prompt)
        await pilot.press("enter")  # 1 worker
        await wait_for(pilot, lambda: state_of(app, "from-the-tab") == DONE, timeout=300, what="the run done")
        done = next(r for r in pane(app).table.runs if r.name == "from-the-tab")
        assert done.params["backprop.expression"] == SHELLISH and done.params["train.seed"] == 9
        assert done.log and Path(done.log).is_file(), "the queue task's log, tied to the finished run"
        assert expctl.log_file(experiments_copy, done) == Path(done.log)
        await cursor_to(pilot, "from-the-tab")
        await pilot.press("l")
        assert isinstance(app.screen, LogScreen)
        await pilot.press("escape")
    stored = yaml.safe_load(git(experiments_copy, "show", f"{done.rev}:params.yaml"))
    assert stored["backprop"]["expression"] == SHELLISH
    assert list(experiments_copy.glob("PWNED*")) == [] and list(ROOT.glob("PWNED*")) == []
    with pytest.raises(DvcError, match=r"^dvc exp run --queue failed: ERROR: "):
        expctl.queue(experiments_copy, ["train.seed=6"], "from-the-tab")
    with pytest.raises(DvcError, match="whole number"):
        expctl.start_workers(experiments_copy, 0)


async def test_apply_branch_and_remove_ask_first(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        await cursor_to(pilot, "fast-lr")
        await pilot.press("D")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await pilot.press("u")
        await wait_for(pilot, lambda: not pane(app).collecting, what="a refresh")
        assert "fast-lr" in names(app)
        await pilot.press("D", "y")
        await wait_for(pilot, lambda: "fast-lr" not in names(app), what="fast-lr removed")
        await cursor_to(pilot, "wide")
        await pilot.press("B")
        prompt = app.screen
        assert isinstance(prompt, Prompt)
        prompt.query_one(Input).value = "bad name"
        await pilot.press("enter")
        assert app.screen is prompt, "a bad branch name keeps the prompt open to correct it"
        assert str(prompt.query_one("#prompt-error", Static).render()).startswith(
            "✗ branch 'bad name': not a valid git branch name")
        prompt.query_one(Input).value = "exp-wide"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "exp-wide" in git(experiments_copy, "branch", "--list", "exp-wide"),
                       what="the branch")
        await cursor_to(pilot, "wide")
        await pilot.press("A", "y")
        def applied() -> bool:
            # dvc rewrites params.yaml in place: a look mid-write reads it empty, so look again
            params = yaml.safe_load((experiments_copy / "params.yaml").read_text()) or {}
            return params.get("models", {}).get("model_a", {}).get("hidden") == [128, 128, 64]

        await wait_for(pilot, applied, what="wide applied to the workspace")
        await cursor_to(pilot, "main")
        await pilot.press("D")
        assert not isinstance(app.screen, Confirm), "a commit is not removed from here"
