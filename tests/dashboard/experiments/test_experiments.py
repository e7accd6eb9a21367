"""Experiments tab (tui/experiments/pane.py): pilot tests on real git + DVC repositories, snapshots,
then (slow) real tiny trainings run, queued, killed and followed from the tab.

The fast tests use experiments saved with `dvc exp save` (bench/experiment_repo.py: no
training, and no stages, so an experiment run there finishes in seconds); the slow ones share one
trained copy of the project and train three tiny experiments in it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path

import pytest
import yaml
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Log, Static

from bench.experiment_repo import BASELINE, EXPERIMENTS, TEST_IMAGES, Made, git
from tests.helpers import (
    BIN,
    ROOT,
    SIZE,
    TINY,
    WIDE,
    make_app,
    new_project,
    run,
    settle,
    snapshot_app,
    text,
    wait_for,
)
from tui.app import DashboardApp
from tui.errors.pane import ErrorsPane
from tui.experiments import collect as experiments
from tui.experiments import control as expctl
from tui.experiments.pane import ExperimentsPane
from tui.experiments.screens import Confirm, ExperimentForm, LogScreen, Prompt, field_id
from tui.ground import jobs
from tui.ground.dvc import DvcError
from tui.ground.process import pid_alive
from tui.ground.runs import DONE, FAILED, QUEUED, RUNNING, WORKSPACE, live_progress
from tui.ground.widgets import CurvesPlot

NASTY = """x1*w1; touch PWNED1 && $(touch PWNED2) `touch PWNED3` "q" 'r'"""


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


# --- the table -------------------------------------------------------------------------------


async def test_sorting_by_any_column_up_down_and_off(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        natural = names(app)
        await cursor_to(pilot, WORKSPACE, "metric:model_a.acc")
        await pilot.press("s")
        accuracies = [float(cell(app, name, "metric:model_a.acc")) for name in names(app)]
        assert accuracies == sorted(accuracies) and names(app)[0] == "fast-lr" and names(app)[-1] == "long"
        assert "sorted by model_a.acc ascending" in text(app, "#exp-status")
        await pilot.press("s")
        assert names(app)[0] == "long" and names(app)[-1] == "fast-lr"
        assert "descending" in text(app, "#exp-status")
        table = app.query_one("#exp-table", DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == WORKSPACE, \
            "the cursor stays on its run"
        await pilot.press("s")
        assert names(app) == natural
        await cursor_to(pilot, WORKSPACE, "param:train.learning_rate")
        await pilot.press("s", "s")
        assert names(app)[0] == "fast-lr"


async def test_the_filter_narrows_the_rows_and_the_param_columns(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        await pilot.press("slash")
        assert app.focused is app.query_one("#exp-filter", Input)
        await pilot.press(*"learning_rate=0.01")
        assert names(app) == ["fast-lr"]
        await pilot.press("ctrl+u", *"epochs=12")
        assert WORKSPACE in names(app) and "long" not in names(app)
        assert "train.epochs" not in headings(app), "every run listed has 12 epochs"
        assert text(app, "#exp-status").startswith("4 of 5 runs")
        await pilot.press("enter")
        assert app.focused is app.query_one("#exp-table", DataTable)
        await pilot.press("slash", "ctrl+u", "escape")
        assert len(names(app)) == 5 and app.focused is app.query_one("#exp-table", DataTable)


# --- comparing ------------------------------------------------------------------------------------


async def test_two_selected_runs_are_compared(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_tab(pilot)
        compare = app.query_one("#exp-compare")
        await cursor_to(pilot, "wide")
        await pilot.press("space")
        assert cell(app, "wide", "mark") == "✓" and not compare.display
        await cursor_to(pilot, "fast-lr")
        await pilot.press("space")
        assert compare.display
        accuracy = app.query_one("#compare-accuracy", CurvesPlot)
        await wait_for(pilot, lambda: len(accuracy.series) == 2, what="two curves")
        assert [label for label, _, _ in accuracy.series] == ["wide", "fast-lr"]
        assert accuracy.series[0][2][-1] == pytest.approx(97.5, abs=0.1), "percent, from wide's own log"
        assert text(app, "#compare-heading") == ("2 runs · model model_a (m: next model) · baseline wide "
                                                 "(b: the run under the cursor)")
        metrics = app.query_one("#compare-metrics", DataTable)
        assert str(metrics.get_cell("model_a.acc", "c2")) == "0.96183 (-0.013)"
        params = app.query_one("#compare-params", DataTable)
        assert [key.value for key in params.rows] == ["train.learning_rate", "models.model_a.hidden"]
        notes = text(app, "#compare-notes")
        assert notes == ("wide vs fast-lr: wide's edge is significant (McNemar exact p = 0.0312; "
                         "0 images only fast-lr gets right, 6 only wide).")
        await pilot.press("b")
        await wait_for(pilot, lambda: str(metrics.get_cell("model_a.acc", "c1")) == "0.97483 (+0.013)",
                       what="deltas against fast-lr")
        assert cell(app, "fast-lr", "mark") == "◆"
        await pilot.press("m")
        await wait_for(pilot, lambda: "model model_b" in text(app, "#compare-heading"), what="model_b")
        await cursor_to(pilot, "wide")
        await pilot.press("space")
        assert not compare.display, "one run left selected: nothing to compare"


async def test_the_run_under_the_cursor_is_the_apps_selected_run(experiments_copy: Path) -> None:
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot)
        await cursor_to(pilot, "long")
        await wait_for(pilot, lambda: app.selected_run is not None and app.selected_run.name == "long",
                       what="the selected run")
        assert app.following is None, "a finished run: the Training tab shows the workspace"
        assert "long: experiment " in text(app, "#exp-status")


def misclassified(made: Made) -> str:
    """The start of the Errors tab's heading for model_a of a made-up run."""
    return f"model_a · {round((1 - made.accuracy) * TEST_IMAGES)} of {TEST_IMAGES} test digits misclassified"


async def test_the_errors_tab_follows_the_selected_run(experiments_copy: Path) -> None:
    long = next(made for made in EXPERIMENTS if made.name == "long")
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        errors = app.query_one(ErrorsPane)
        await wait_for(pilot, lambda: errors.errors is not None, what="the workspace's predictions")
        assert text(app, "#errors-heading").startswith(misclassified(BASELINE))
        await open_tab(pilot)
        await cursor_to(pilot, "long")
        await pilot.press("6")
        heading = f"long · {misclassified(long)}"
        await wait_for(pilot, lambda: text(app, "#errors-heading").startswith(heading),
                       what="the run's mistakes")
        assert errors.source is not None and errors.source.rev == app.selected_run.rev
        await pilot.press("5")
        await cursor_to(pilot, WORKSPACE)
        await pilot.press("6")
        await wait_for(pilot, lambda: text(app, "#errors-heading").startswith(misclassified(BASELINE)),
                       what="the workspace again")
        assert errors.source.rev is None


# --- launching and acting -----------------------------------------------------------------------------


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
        await wait_for(pilot, lambda: state_of(app, "from-the-tab") == QUEUED, timeout=60,
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
        assert done.params["backprop.expression"] == NASTY and done.params["train.seed"] == 9
        assert done.log and Path(done.log).is_file(), "the queue task's log, tied to the finished run"
        assert expctl.log_file(experiments_copy, done) == Path(done.log)
        await cursor_to(pilot, "from-the-tab")
        await pilot.press("l")
        assert isinstance(app.screen, LogScreen)
        await pilot.press("escape")
    stored = yaml.safe_load(git(experiments_copy, "show", f"{done.rev}:params.yaml"))
    assert stored["backprop"]["expression"] == NASTY
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
        await wait_for(pilot, lambda: "fast-lr" not in names(app), timeout=60, what="fast-lr removed")
        await cursor_to(pilot, "wide")
        await pilot.press("B")
        assert isinstance(app.screen, Prompt)
        await pilot.press("enter")  # the proposed name, exp-wide
        await wait_for(pilot, lambda: "exp-wide" in git(experiments_copy, "branch", "--list", "exp-wide"),
                       timeout=60, what="the branch")
        await cursor_to(pilot, "wide")
        await pilot.press("A", "y")
        def applied() -> bool:
            params = yaml.safe_load((experiments_copy / "params.yaml").read_text())
            return params["models"]["model_a"]["hidden"] == [128, 128, 64]

        await wait_for(pilot, applied, timeout=60, what="wide applied to the workspace")
        await cursor_to(pilot, "main")
        await pilot.press("D")
        assert not isinstance(app.screen, Confirm), "a commit is not removed from here"


async def test_the_last_table_shows_at_once_while_dvc_collects(experiments_copy: Path) -> None:
    experiments.save_cached(experiments_copy, experiments.collect(experiments_copy))
    app = make_app(experiments_copy)
    async with app.run_test(size=SIZE) as pilot:
        assert len(names(app)) == 5 and not pane(app).collecting, "the last session's rows; DVC not asked yet"
        await pilot.press("5")
        await wait_for(pilot, lambda: pane(app).collecting, what="the collection to start")
        assert len(names(app)) == 5 and "from the last session, refreshing…" in text(app, "#exp-status")
        await wait_for(pilot, lambda: not pane(app).collecting, what="the fresh table")
        assert "refreshing" not in text(app, "#exp-status")


async def test_outside_a_git_repository_the_tab_says_why(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    run([str(BIN / "dvc"), "init", "-q", "--no-scm"], tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await wait_for(pilot, lambda: pane(app).problem is not None, timeout=60, what="the problem")
        status = text(app, "#exp-status")
        assert status.startswith(f"{tmp_path} is not a git repository; experiments need git")
        assert app.query_one("#exp-table", DataTable).row_count == 0


# --- snapshots --------------------------------------------------------------------------------


async def _loaded_by_name(pilot: Pilot) -> None:
    """The table sorted by name (DVC lists experiments saved in the same second in any order),
    the cursor on the workspace: no date or commit hash on screen."""
    await open_tab(pilot)
    await cursor_to(pilot, WORKSPACE, "run")
    await pilot.press("s")
    await settle(pilot)


def test_experiments_table(snap_compare: Callable, experiments_copy: Path) -> None:
    """Every run, DVC's metrics and the params that differ (a: every param, then back)."""

    async def listed(pilot: Pilot) -> None:
        await open_tab(pilot)
        app = pilot.app
        assert app.focused is not None and app.focused.id == "exp-table"
        assert names(app)[:2] == [WORKSPACE, "main"]
        assert set(names(app)[2:]) == {made.name for made in EXPERIMENTS}
        assert headings(app) == ["", "run", "state", "model_a.acc", "model_a.loss", "model_a.time_s",
                                 "model_b.acc", "model_b.loss", "model_b.time_s", "train.epochs",
                                 "train.learning_rate", "models.model_a.hidden"]
        assert cell(app, "wide", "param:models.model_a.hidden") == "[128, 128, 64]"
        assert cell(app, "long", "metric:model_a.acc") == "0.981"
        assert cell(app, "fast-lr", "state") == DONE
        await pilot.press("a")
        assert len(headings(app)) > 30 and "backprop.inputs.x1" in headings(app)
        await pilot.press("a")
        assert headings(app)[-1] == "models.model_a.hidden"
        assert text(app, "#exp-status").startswith("5 runs · 1 commit · 3 experiments\n")
        await _loaded_by_name(pilot)

    assert snap_compare(snapshot_app(experiments_copy), terminal_size=(120, 24), run_before=listed)


def test_experiments_compared(snap_compare: Callable, experiments_copy: Path) -> None:
    async def compared(pilot: Pilot) -> None:
        await _loaded_by_name(pilot)
        for name in ("long", "wide"):
            await cursor_to(pilot, name)
            await pilot.press("space")
        await cursor_to(pilot, WORKSPACE)
        accuracy = pilot.app.query_one("#compare-accuracy", CurvesPlot)
        await wait_for(pilot, lambda: len(accuracy.series) == 2, what="two curves")
        await settle(pilot)

    assert snap_compare(snapshot_app(experiments_copy), terminal_size=WIDE, run_before=compared)


# --- real tiny trainings (slow) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, shared_dvc_cache: Path, mnist_mirror: Path,
            ) -> Iterator[Path]:
    """The project, tiny, after one `dvc repro`, committed: experiments train only what they change.
    Afterwards the queue workers the tests started are stopped, with any task they still run."""
    repo = new_project(tmp_path_factory.mktemp("trained") / "repo", shared_dvc_cache, TINY)
    env = {"MNIST_MIRROR": str(mnist_mirror)}
    run([str(BIN / "dvc"), "repro"], repo, **env)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "tiny run"], repo)
    yield repo
    run([str(BIN / "dvc"), "queue", "stop", "--kill"], repo, check=False)


@pytest.fixture
def mirror_env(mnist_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_MIRROR", str(mnist_mirror))


async def launch(pilot: Pilot, values: dict[str, str], name: str, key: str) -> None:
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExperimentForm), what="the form")
    await changed_in_form(pilot, values)
    pilot.app.screen.query_one("#form-name", Input).value = name
    await pilot.press(key)
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ExperimentForm), timeout=30,
                   what="started")


def queue_copies(repo: Path) -> list[Path]:
    """The temporary copies DVC's queue workers run experiments in."""
    return sorted((repo / ".dvc/tmp/exps").glob("tmp*"))


@contextlib.asynccontextmanager
async def frozen_once_training(pilot: Pilot, folders: Callable[[], Iterable[Path]]) -> AsyncIterator[None]:
    """As soon as a training starts in one of `folders` (its progress.json says running, before its
    first epoch), stop it (SIGSTOP) until the block ends (SIGCONT): the run cannot end while the
    tabs are looked at, so nothing races it."""
    found: list[int] = []

    def started() -> bool:
        found[:] = [p.pid for folder in folders() for p in live_progress(folder).values()
                    if p.state == RUNNING and p.pid and pid_alive(p.pid)]
        return bool(found)

    await wait_for(pilot, started, timeout=300, what="a training to start")
    os.kill(found[0], signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(found[0], signal.SIGCONT)


async def queue_and_start(pilot: Pilot, values: dict[str, str], name: str) -> None:
    """Queue a run from the form and have a queue worker take it: one is started (w) unless one still
    alive from an earlier run took it already (DVC's worker idles a while before it exits)."""
    app = pilot.app
    await open_tab(pilot)
    await launch(pilot, values, name, "ctrl+e")
    await wait_for(pilot, lambda: state_of(app, name) in (QUEUED, RUNNING), timeout=60, what="queued")
    if state_of(app, name) == QUEUED:
        await pilot.press("w", "enter")


@pytest.mark.slow
@pytest.mark.usefixtures("mirror_env")
async def test_a_queued_run_trains_live_and_appears_with_its_metrics(trained: Path) -> None:
    app = make_app(trained)
    async with app.run_test(size=(160, 45)) as pilot:
        await queue_and_start(pilot, {"train.seed": "11", "train.epochs": "3"}, "q-real")
        async with frozen_once_training(pilot, lambda: queue_copies(trained)):
            await wait_for(pilot, lambda: state_of(app, "q-real") == RUNNING, timeout=120, what="running")
            await cursor_to(pilot, "q-real")
            run_ = next(r for r in pane(app).table.runs if r.name == "q-real")
            assert run_.folder and ".dvc/tmp/exps/" in run_.folder
            await wait_for(pilot, lambda: " epoch " in cell(app, "q-real", "live"), what="live progress")
            live = cell(app, "q-real", "live")
            assert live.startswith("model_") and "/3 · " in live
            await wait_for(pilot, lambda: app.following is not None, what="the Training tab following q-real")
            assert app.training is not None and app.training.root == Path(run_.folder)
            await pilot.press("1")
            assert text(app, "#training-following").startswith("Following experiment q-real, running in ")
            await pilot.press("5")
        await wait_for(pilot, lambda: state_of(app, "q-real") == DONE, timeout=400, what="q-real done")
        await wait_for(pilot, lambda: app.following is None, what="back to the workspace")
        done = next(r for r in pane(app).table.runs if r.name == "q-real")
        accuracy = "model_a.acc"
        assert 0 < done.metrics[accuracy] <= 1 and done.params["train.seed"] == 11
        assert cell(app, "q-real", f"metric:{accuracy}") not in ("–", "")
        main = pane(app).table.runs[1]
        assert done.metrics[accuracy] != main.metrics[accuracy], "it trained: not the baseline's result"


@pytest.mark.slow
@pytest.mark.usefixtures("mirror_env")
async def test_a_killed_run_shows_as_failed_and_its_training_stops(trained: Path) -> None:
    app = make_app(trained)
    async with app.run_test(size=(160, 45)) as pilot:
        await queue_and_start(pilot, {"train.seed": "13", "train.epochs": "5000"}, "q-kill")
        await wait_for(pilot, lambda: state_of(app, "q-kill") == RUNNING, timeout=300, what="running")
        await wait_for(pilot, lambda: cell(app, "q-kill", "live").startswith("model_a epoch ")
                       and " epoch 0/" not in cell(app, "q-kill", "live"), timeout=180, what="an epoch")
        key = next(r.key for r in pane(app).table.runs if r.name == "q-kill")
        trainers = [p.pid for p in pane(app).progress[key].values() if p.state == RUNNING and p.pid]
        assert trainers
        await cursor_to(pilot, "q-kill")
        await pilot.press("x")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await wait_for(pilot, lambda: state_of(app, "q-kill") == FAILED, timeout=120, what="failed")
        assert cell(app, "q-kill", "state") == FAILED
    assert not any(pid_alive(pid) for pid in trainers), "the training outlived its experiment"


@pytest.mark.slow
@pytest.mark.usefixtures("mirror_env")
async def test_run_now_in_the_workspace_while_the_pipeline_tab_shows_its_stage(trained: Path) -> None:
    app = make_app(trained)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_tab(pilot)
        await launch(pilot, {"train.seed": "12", "train.epochs": "3"}, "now-real", "ctrl+r")
        assert jobs.current(trained, jobs.EXP_RUN).running
        status = app.query_one("#pipeline-status", Static)
        stages = app.query_one("#stages", DataTable)

        def training_shown() -> bool:
            return any(str(stages.get_cell(key, "status")) == "running"
                       and " epoch " in str(stages.get_cell(key, "details")) for key in stages.rows)

        async with frozen_once_training(pilot, lambda: [trained]):
            await wait_for(pilot, lambda: state_of(app, "now-real") == RUNNING, timeout=120, what="running")
            await pilot.press("4")
            await wait_for(pilot, training_shown, what="the running stage and its epoch")
            assert str(status.render()).startswith("Another dvc command runs here (pid ")
            assert "dvc exp run" in str(status.render()) and "is busy" not in str(status.render())
        await pilot.press("5")
        await wait_for(pilot, lambda: state_of(app, "now-real") == DONE, timeout=600, what="done")
        await pilot.press("4")
        await wait_for(pilot, lambda: "Another dvc command" not in str(status.render()), timeout=120,
                       what="the statuses again")
    assert jobs.current(trained, jobs.EXP_RUN).returncode == 0
