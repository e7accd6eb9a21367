"""Training tab (tui/training/): its text, pilot tests, then snapshots with what they show asserted too."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import ProgressBar, Static

from mnist_dvc.analysis.formats import duration
from tests.fixtures.runs import EPOCHS, PARAMS_MODELS, SEED, write_params, write_run
from tests.helpers import FIXTURES, NARROW, SIZE, WIDE, make_app, poll_now, settle, snapshot_app, wait_for
from tui.ground.snapshot import DataSource
from tui.ground.widgets import CurvesPlot
from tui.training import text as training_text
from tui.training.text import COMMITTED_HINT, START_HINT
from tui.training.widgets import ModelPanel


def test_a_panel_title_and_its_metric_rows() -> None:
    source = DataSource(FIXTURES / "finished")
    source.poll()
    run = source.snapshot.run("model_b")
    assert training_text.run_title(run) == "model_b  784→256→512→128→10"
    rows = {row.label: row for row in training_text.metric_rows(run)}
    assert list(rows) == ["train accuracy", "test accuracy", "train loss", "test loss"]
    assert (rows["test accuracy"].latest, rows["test accuracy"].best, rows["test accuracy"].note) == (
        "98.15%", "98.37%", "at epoch 8")
    assert rows["test loss"].note == "", "only the best test accuracy says when it was reached"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0.79, "0.79 s"), (12.34, "12.3 s"), (398.2, "6 min 38 s"), (7500, "2 h 05 min"), (None, "–")],
)
def test_durations_read_naturally(seconds: float | None, said: str) -> None:
    assert duration(seconds) == said


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
            await poll_now(pilot)
            assert bar.progress == epoch
            assert [len(xs) for _, xs, _ in loss_chart.series] == [epoch, epoch]
            assert panel.border_subtitle == "running"
            assert f"epoch {epoch}/5" in str(panel.query_one(".run-line", Static).render())
        assert loss_chart.plt.build() != drawn_before, "the chart was redrawn with the new epochs"
        assert not app.query_one("#training-hint").display
        write_run(tmp_path, "model_a", 5, epochs=5, state="finished", pid=os.getpid())
        await poll_now(pilot)
        assert panel.border_subtitle == "finished"
        assert bar.progress == 5


FIVE_SEEDS = tuple(range(SEED, SEED + 5))


def five_seeds(root: Path, epochs_done: int = EPOCHS, epochs: int = EPOCHS, **run: object) -> None:
    """`root` as training leaves it with `train.seeds: 5`: every seed of both models."""
    write_params(root, epochs=epochs, seeds=5)
    for model in PARAMS_MODELS:
        for seed in FIVE_SEEDS:
            write_run(root, model, epochs_done, epochs=epochs, seed=seed, **run)


def seed_states(panel: ModelPanel) -> list[str]:
    return str(panel.query_one(".seed-states", Static).render()).splitlines()


async def test_five_seeds_grow_together_as_a_mean_over_a_band(tmp_path: Path) -> None:
    write_params(tmp_path, epochs=5, seeds=5)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_a", ModelPanel)
        bar = panel.query_one(ProgressBar)
        loss_chart = panel.query_one(".loss-chart", CurvesPlot)
        assert panel.border_title == "model_a  784→64→128→64→10  5 seeds"
        assert panel.border_subtitle == "waiting: not started yet"
        assert seed_states(panel) == [f"seed {seed}  waiting  epoch 0/5" for seed in FIVE_SEEDS]
        for epoch in range(1, 4):
            for seed in FIVE_SEEDS:
                write_run(tmp_path, "model_a", epoch, epochs=5, state="running", pid=os.getpid(), seed=seed)
            await poll_now(pilot)
            assert bar.progress == epoch and all(f"epoch {epoch}/5" in line for line in seed_states(panel))
            assert panel.border_subtitle == "running"
            assert [line.split()[:3] for line in seed_states(panel)] == [
                ["seed", str(seed), "running"] for seed in FIVE_SEEDS]
            (train, train_xs, train_mean), (test, _, test_mean) = loss_chart.series
            assert (train, test, len(train_xs)) == ("train", "test", epoch)
            assert len(loss_chart.bands) == 2
            for (xs, low, high), mean in zip(loss_chart.bands, (train_mean, test_mean), strict=True):
                assert xs == train_xs
                assert all(lo <= m <= hi for lo, m, hi in zip(low, mean, high, strict=True))
                assert any(lo < hi for lo, hi in zip(low, high, strict=True)), "the seeds differ"
        metrics = str(panel.query_one(".run-metrics", Static).render()).splitlines()
        assert metrics[0].startswith("mean of 5 seeds   latest     best  best: lowest–highest seed")
        assert len(metrics) == 5 and all("–" in line for line in metrics[1:])
        for seed in FIVE_SEEDS:
            write_run(tmp_path, "model_a", 5, epochs=5, state="finished", pid=os.getpid(), seed=seed)
        await poll_now(pilot)
        assert panel.border_subtitle == "finished"
        assert bar.progress == 5


async def test_a_failed_seed_fails_the_model_and_is_named(tmp_path: Path) -> None:
    five_seeds(tmp_path)
    for seed in FIVE_SEEDS:
        write_run(tmp_path, "model_a", 3, state="failed", error="model_a seed 44: loss became nan at epoch 4",
                  seed=seed)
    write_run(tmp_path, "model_b", 2, state="failed", error="disk full", seed=45)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel_a = app.query_one("#panel-model_a", ModelPanel)
        panel_b = app.query_one("#panel-model_b", ModelPanel)
        # Every seed says the same: the model's line says it once.
        assert panel_a.border_subtitle == "failed: model_a seed 44: loss became nan at epoch 4"
        assert panel_a.has_class("-failed")
        # One seed differs from the others: the model's line names it.
        assert panel_b.border_subtitle == "failed: seed 45: disk full"
        assert seed_states(panel_b)[3].startswith("seed 45  failed    epoch  2/12")
        assert seed_states(panel_b)[3].endswith("disk full")
        assert seed_states(panel_b)[0].startswith("seed 42  finished  epoch 12/12  best test ")
        assert panel_b.query_one(ProgressBar).progress == 2, "the model is as far as its slowest seed"


async def test_a_progress_file_deleted_while_training_is_a_warning_on_this_tab_only(tmp_path: Path) -> None:
    """progress.json gone while its log has epochs: the state is unknown, not "not started yet";
    one warning line, on the Training tab only; it clears when training writes the file again."""
    write_params(tmp_path, epochs=30)
    write_run(tmp_path, "model_b", 28, epochs=30, state="running", pid=os.getpid())
    progress = tmp_path / "metrics/train/model_b/seed_42/progress.json"
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_b", ModelPanel)
        assert panel.border_subtitle == "running"
        progress.unlink()
        await poll_now(pilot)
        assert "not started" not in panel.border_subtitle and "waiting" not in panel.border_subtitle
        assert panel.border_subtitle == "unknown: progress.json is missing"
        warnings = app.query_one("#warnings", Static)
        assert warnings.display
        assert str(warnings.render()) == (
            "⚠ metrics/train/model_b/seed_42/progress.json: not found, though its per-epoch log has 28 "
            "epochs; the state is unknown until training writes it again (`dvc checkout` restores a "
            "finished run's)")
        await pilot.press("2")
        await pilot.pause()
        assert not warnings.display, "the Compare tab does not read progress.json"
        await pilot.press("1")
        await pilot.pause()
        assert warnings.display
        write_run(tmp_path, "model_b", 29, epochs=30, state="running", pid=os.getpid())
        await poll_now(pilot)
        assert panel.border_subtitle == "running" and not warnings.display


async def test_a_deleted_series_file_is_a_warning_and_its_curve_is_not_drawn(finished: Path) -> None:
    """plots/metrics/eval/accuracy.tsv gone: one warning line naming it (Training and Compare read
    the log), no curve from the log it was part of; back, the warning clears."""
    tsv = finished / "metrics/train/model_a/seed_42/plots/metrics/eval/accuracy.tsv"
    kept = tsv.read_text()
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_a", ModelPanel)
        accuracy = panel.query_one(".accuracy-chart", CurvesPlot)
        assert all(len(xs) == EPOCHS for _, xs, _ in accuracy.series)
        tsv.unlink()
        await poll_now(pilot)
        warnings = app.query_one("#warnings", Static)
        said = ("⚠ metrics/train/model_a/seed_42/: plots/metrics/eval/accuracy.tsv not found, though the "
                "seed's other per-epoch logs are there; run `dvc checkout` or `dvc repro train@model_a`")
        assert warnings.display and str(warnings.render()) == said
        assert all(len(xs) == 0 for _, xs, _ in accuracy.series), "no curve from a log that is gone"
        await pilot.press("2")
        await pilot.pause()
        assert warnings.display and str(warnings.render()) == said, "Compare draws the log's curves too"
        await pilot.press("3")
        await pilot.pause()
        assert not warnings.display, "Backprop reads no training log"
        tsv.write_text(kept)
        await poll_now(pilot)
        await pilot.press("1")
        await pilot.pause()
        assert not warnings.display
        assert all(len(xs) == EPOCHS for _, xs, _ in accuracy.series)


async def test_a_fresh_clone_shows_the_committed_run_until_a_live_log_appears(fresh_clone: Path) -> None:
    """No training log (a clone without the DVC cache): each panel shows the committed run from
    reports/history/, labelled as such, never live (no ETA, no running state, no "unknown");
    Compare's curves draw from it. Once training writes a seed folder, that model is live again."""
    app = make_app(fresh_clone)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(ModelPanel)) == 2, what="two panels")
        panel = app.query_one("#panel-model_b", ModelPanel)
        assert panel.border_subtitle == "the committed run"
        assert panel.has_class("-committed") and not panel.has_class("-finished")
        assert str(panel.query_one(".run-line", Static).render()) == (
            "the committed run · epoch 12/12 · elapsed 27.2 s · last epoch 2.00 s")
        assert panel.query_one(ProgressBar).progress == EPOCHS
        metrics = str(panel.query_one(".run-metrics", Static).render())
        assert "test accuracy     98.15%   98.37%  at epoch 8" in metrics
        assert all(len(xs) == EPOCHS for _, xs, _ in panel.query_one(".loss-chart", CurvesPlot).series)
        hint = app.query_one("#training-hint", Static)
        assert hint.display and str(hint.render()) == COMMITTED_HINT
        assert not app.query_one("#warnings").display, "a committed run is no missing file"
        await pilot.press("2")
        await pilot.pause()
        overlay = app.query_one("#overlay", CurvesPlot)
        assert [(label, len(xs)) for label, xs, _ in overlay.series] == [
            ("model_a (committed run)", EPOCHS), ("model_b (committed run)", EPOCHS)]
        await pilot.press("1")
        write_run(fresh_clone, "model_a", 0, state="running", pid=os.getpid())
        await poll_now(pilot)
        live = app.query_one("#panel-model_a", ModelPanel)
        assert live.border_subtitle == "running", "the live log wins, even before its first epoch"
        assert all(len(xs) == 0 for _, xs, _ in live.query_one(".loss-chart", CurvesPlot).series)
        assert panel.border_subtitle == "the committed run"
        assert str(hint.render()) == COMMITTED_HINT


# --- snapshots ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_training_finished(snap_compare: Callable, finished: Path, size: tuple[int, int]) -> None:
    """Both models finished, one seed each: their numbers, no list of seeds, lines without bands."""

    async def shown(pilot: Pilot) -> None:
        await settle(pilot)
        app = pilot.app
        assert len(app.query(ModelPanel)) == 2
        panel = app.query_one("#panel-model_b", ModelPanel)
        assert panel.border_title == "model_b  784→256→512→128→10"
        assert panel.border_subtitle == "finished"
        assert str(panel.query_one(".run-line", Static).render()) == (
            "finished · epoch 12/12 · elapsed 27.2 s · last epoch 2.00 s · tensorflow"
        )
        metrics = str(panel.query_one(".run-metrics", Static).render())
        assert "test accuracy     98.15%   98.37%  at epoch 8" in metrics
        assert not panel.query_one(".seed-states").display, "one seed: no list of seeds"
        assert panel.query_one(".loss-chart", CurvesPlot).bands == (), "one seed: lines, no band"
        assert not app.query_one("#training-hint").display
        assert not app.query_one("#warnings").display

    assert snap_compare(snapshot_app(finished), terminal_size=size, run_before=shown)


def test_training_running(snap_compare: Callable, finished: Path) -> None:
    """model_b halfway, its writer alive (this test's own process), with an ETA from the file."""
    (finished / "reports/comparison.json").unlink()
    write_run(finished, "model_b", 7, state="running", pid=os.getpid())
    assert snap_compare(snapshot_app(finished), terminal_size=WIDE, run_before=settle)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_training_five_seeds_finished(snap_compare: Callable, tmp_path: Path, size: tuple[int, int]) -> None:
    five_seeds(tmp_path)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=size, run_before=settle)


def test_training_five_seeds_running(snap_compare: Callable, tmp_path: Path) -> None:
    """model_a finished, model_b's five seeds halfway with their writer alive (this process)."""
    five_seeds(tmp_path)
    for seed in FIVE_SEEDS:
        write_run(tmp_path, "model_b", 7, state="running", pid=os.getpid(), seed=seed)
    assert snap_compare(snapshot_app(tmp_path), terminal_size=WIDE, run_before=settle)


def test_training_the_committed_run(snap_compare: Callable, fresh_clone: Path) -> None:
    """A clone without the DVC cache: the committed run, labelled as such, with its curves."""

    async def shown(pilot: Pilot) -> None:
        await settle(pilot)
        assert str(pilot.app.query_one("#training-hint", Static).render()) == COMMITTED_HINT
        assert pilot.app.query_one("#panel-model_a", ModelPanel).border_subtitle == "the committed run"

    assert snap_compare(snapshot_app(fresh_clone), terminal_size=WIDE, run_before=shown)


def test_training_before_any_run(snap_compare: Callable) -> None:
    async def hint(pilot: Pilot) -> None:
        await settle(pilot)
        shown = pilot.app.query_one("#training-hint", Static)
        assert shown.display and str(shown.render()) == START_HINT
        assert not pilot.app.query_one("#warnings").display, "no metrics yet is not a problem"

    assert snap_compare(snapshot_app(FIXTURES / "empty"), terminal_size=NARROW, run_before=hint)


def test_training_with_a_corrupt_file(snap_compare: Callable, finished: Path) -> None:
    """A torn progress.json: one warning line, and the panel keeps the last good data."""

    async def corrupt(pilot: Pilot) -> None:
        await settle(pilot)
        progress = finished / "metrics/train/model_a/seed_42/progress.json"
        progress.write_text(progress.read_text()[:40])
        pilot.app.poll()
        await settle(pilot)
        warnings = pilot.app.query_one("#warnings", Static)
        assert warnings.display
        said = str(warnings.render())
        assert said.startswith("⚠ metrics/train/model_a/seed_42/progress.json: not valid JSON")
        panel = pilot.app.query_one("#panel-model_a", ModelPanel)
        assert panel.border_subtitle == "finished"
        assert panel.query_one(ProgressBar).progress == 12

    assert snap_compare(snapshot_app(finished), terminal_size=NARROW, run_before=corrupt)
