"""The workspace snapshot (tui/ground/snapshot.py) and the change watcher under it, without Textual."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.runs import write_params, write_run
from tests.helpers import FIXTURES
from tui.ground import watch
from tui.ground.snapshot import WAITING, DataSource


def progress_file(root: Path, model: str = "model_a") -> Path:
    return root / "metrics/train" / model / "seed_42" / "progress.json"


def test_reads_a_finished_project() -> None:
    source = DataSource(FIXTURES / "finished")
    assert source.poll()
    data = source.snapshot
    assert [run.name for run in data.runs] == ["model_a", "model_b"]
    assert [run.status for run in data.runs] == ["finished", "finished"]
    assert [len(run.history) for run in data.runs] == [12, 12]
    model_b = data.run("model_b")
    assert model_b.spec.hidden == (256, 512, 128)
    assert [seed.seed for seed in model_b.seeds] == [42]
    assert model_b.seeds[0].progress.best.test_accuracy_epoch == 8
    assert model_b.seeds[0].progress.seed == 42
    assert model_b.evaluation.params == 399498
    assert set(data.comparison.models) == {"model_a", "model_b"}
    assert data.backprop.check.tensorflow.ok is True
    assert data.warnings == ()
    assert not source.poll(), "nothing changed, so the second poll reports no change"


def test_missing_metrics_means_waiting_without_warnings() -> None:
    source = DataSource(FIXTURES / "empty")
    source.poll()
    data = source.snapshot
    assert [(run.name, run.status, run.epochs_total) for run in data.runs] == [
        ("model_a", WAITING, 12), ("model_b", WAITING, 12)
    ]
    assert not data.has_training
    assert data.comparison is None and data.backprop is None
    assert data.warnings == ()


GOOD = json.loads((FIXTURES / "finished/metrics/train/model_a/seed_42/progress.json").read_text())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"model": "model_a", "state": "runn', "not valid JSON"),
        ("", "empty file"),
        (json.dumps({**GOOD, "state": "exploded"}), "`state`: invalid enum value 'exploded'"),
        (json.dumps({**GOOD, "epoch": -1}), "`epoch`: expected `int` >= 0, got -1"),
        (json.dumps({**GOOD, "last": {"test_accuracy": "high"}}), "`last.test_accuracy`: expected `float"),
        ("[1, 2]", "expected `object`, got `array`"),
    ],
)
def test_bad_progress_keeps_last_good_data_and_warns(finished: Path, content: str, expected: str) -> None:
    """Each damage is one line naming the file and the key (the record's own words)."""
    source = DataSource(finished)
    source.poll()
    progress_file(finished).write_text(content)
    assert source.poll()
    data = source.snapshot
    assert len(data.warnings) == 1
    warning = data.warnings[0]
    assert warning.startswith("metrics/train/model_a/seed_42/progress.json: ")
    assert expected in warning and "showing the last good data" in warning
    assert data.run("model_a").seeds[0].progress.epoch == 12
    assert data.run("model_a").status == "finished"

    write_run(finished, "model_a", 12)
    source.poll()
    assert source.snapshot.warnings == ()


def test_bad_file_on_first_read_warns_without_data(finished: Path) -> None:
    (finished / "reports/comparison.json").write_text("{")
    source = DataSource(finished)
    source.poll()
    assert source.snapshot.comparison is None
    assert source.snapshot.warnings == (
        "reports/comparison.json: not valid JSON (line 1, column 2; half-written or corrupt)",
    )


def test_a_file_that_is_not_utf8_warns_and_keeps_the_last_data(finished: Path) -> None:
    source = DataSource(finished)
    source.poll()
    progress_file(finished).write_bytes(b'{"state": "running", "model": "\xff\xfe"}')
    source.poll()
    assert source.snapshot.warnings == (
        "metrics/train/model_a/seed_42/progress.json: not UTF-8 text (corrupt); showing the last good data",
    )
    assert source.snapshot.run("model_a").seeds[0].progress.epoch == 12


def test_a_file_deleted_while_being_read_means_no_data(
    finished: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stat saw the file, the read did not (a stage deleting its outputs): no data, no warning."""
    source = DataSource(finished)
    source.poll()
    comparison = finished / "reports/comparison.json"
    seen = comparison.stat()
    comparison.unlink()
    monkeypatch.setattr(watch, "stamp", lambda path: (seen.st_mtime_ns + 1, seen.st_size, seen.st_ino))
    assert source.poll()
    assert source.snapshot.comparison is None
    assert source.snapshot.warnings == ()


def test_deleted_outputs_mean_a_new_run_not_old_data(finished: Path) -> None:
    """`dvc repro` deletes a stage's outputs before running it: the deleted log is never shown; the
    run evaluate committed (reports/history) is, labelled as such, and without it the run waits."""
    source = DataSource(finished)
    source.poll()
    shutil.rmtree(finished / "metrics/train/model_a")
    assert source.poll()
    run = source.snapshot.run("model_a")
    assert run.committed and all(seed.progress is None for seed in run.seeds)
    assert source.snapshot.warnings == ()
    shutil.rmtree(finished / "reports/history/model_a")
    assert source.poll()
    run = source.snapshot.run("model_a")
    assert run.status == WAITING and run.seeds[0].progress is None and len(run.history) == 0
    assert source.snapshot.warnings == ()


def test_growing_run_is_seen_epoch_by_epoch(tmp_path: Path) -> None:
    write_params(tmp_path, epochs=5)
    source = DataSource(tmp_path)
    source.poll()
    for epoch in range(1, 4):
        write_run(tmp_path, "model_a", epoch, epochs=5, state="running", pid=os.getpid())
        assert source.poll()
        run = source.snapshot.run("model_a")
        seen = (run.status, run.epochs_done, run.epochs_total, len(run.history))
        assert seen == ("running", epoch, 5, epoch)


def test_half_written_log_row_is_skipped_without_warning(finished: Path) -> None:
    tsv = finished / "metrics/train/model_b/seed_42/plots/metrics/eval/accuracy.tsv"
    source = DataSource(finished)
    source.poll()
    with tsv.open("a") as handle:
        handle.write("13\t0.98")
    source.poll()
    assert len(source.snapshot.run("model_b").history) == 12
    assert source.snapshot.warnings == ()


def test_running_state_with_a_dead_pid_is_interrupted(tmp_path: Path) -> None:
    write_params(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_run(tmp_path, "model_a", 3, state="running", pid=gone.pid)
    write_run(tmp_path, "model_b", 3, state="running", pid=os.getpid())
    source = DataSource(tmp_path)
    source.poll()
    run_a, run_b = source.snapshot.runs
    assert run_a.status == "interrupted" and f"pid {gone.pid}" in run_a.reason
    assert run_b.status == "running" and run_b.reason is None


def test_failed_run_keeps_its_reason(tmp_path: Path) -> None:
    write_params(tmp_path)
    reason = "loss became NaN at epoch 3; lower train.learning_rate"
    write_run(tmp_path, "model_a", 2, state="failed", error=reason)
    source = DataSource(tmp_path)
    source.poll()
    run = source.snapshot.run("model_a")
    assert (run.status, run.reason) == ("failed", reason)


def test_broken_params_warns_and_keeps_models(finished: Path) -> None:
    source = DataSource(finished)
    source.poll()
    (finished / "params.yaml").write_text("train: [unclosed\n")
    source.poll()
    data = source.snapshot
    assert data.warnings == (
        "params.yaml: not valid YAML at line 2; fix the syntax; showing the last good data",
    )
    assert data.params is not None and [run.name for run in data.runs] == ["model_a", "model_b"]


def test_a_model_only_in_metrics_train_is_shown(finished: Path) -> None:
    write_run(finished, "model_c", 4, state="interrupted", error="stopped by SIGINT after epoch 4")
    source = DataSource(finished)
    source.poll()
    run = source.snapshot.run("model_c")
    assert [r.name for r in source.snapshot.runs][-1] == "model_c"
    assert run.spec is None and run.status == "interrupted" and run.epochs_done == 4


def test_seeds_come_from_params_and_from_disk(finished: Path) -> None:
    """params.yaml asks for 3 seeds (42-44), two have run; a seed 7 of another seed list is on disk."""
    write_params(finished, seeds=3)
    write_run(finished, "model_a", 12, seed=43)
    write_run(finished, "model_a", 12, seed=7)
    source = DataSource(finished)
    source.poll()
    run = source.snapshot.run("model_a")
    assert [(seed.seed, seed.status) for seed in run.seeds] == [
        (7, "finished"), (42, "finished"), (43, "finished"), (44, WAITING)]
    assert (run.status, run.reason) == (WAITING, "seed 44 not trained yet")
    assert run.epochs_done == 0 and run.epochs_total == 12
    model_b = source.snapshot.run("model_b")
    assert (model_b.status, model_b.reason) == (WAITING, "seeds 43, 44 not trained yet")
    assert source.snapshot.warnings == ()


def test_a_model_is_the_mean_of_its_seeds_on_the_epochs_all_have(tmp_path: Path) -> None:
    write_params(tmp_path, epochs=5, seeds=2)
    write_run(tmp_path, "model_a", 4, epochs=5, state="running", pid=os.getpid(), seed=42)
    write_run(tmp_path, "model_a", 3, epochs=5, state="running", pid=os.getpid(), seed=43)
    source = DataSource(tmp_path)
    source.poll()
    run = source.snapshot.run("model_a")
    first, second = (seed.history for seed in run.seeds)
    assert run.history.epoch == [1, 2, 3] and run.epochs_done == 3
    for column in ("train_loss", "test_accuracy", "train_time_s"):
        pairs = zip(getattr(first, column), getattr(second, column), strict=False)
        expected = [(a + b) / 2 for a, b in pairs]
        assert getattr(run.history, column) == pytest.approx(expected)
    assert first.test_accuracy[:3] != second.test_accuracy[:3], "the seeds' curves differ"


def test_the_first_problem_of_a_seed_is_the_models(tmp_path: Path) -> None:
    write_params(tmp_path, seeds=3)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for seed in (42, 43, 44):
        write_run(tmp_path, "model_a", 3, state="running", pid=gone.pid, seed=seed)
    write_run(tmp_path, "model_b", 12, seed=42)
    write_run(tmp_path, "model_b", 3, state="failed", error="boom", seed=43)
    write_run(tmp_path, "model_b", 3, state="running", pid=os.getpid(), seed=44)
    source = DataSource(tmp_path)
    source.poll()
    run_a, run_b = source.snapshot.runs
    assert run_a.status == "interrupted"
    assert run_a.reason == f"the training process (pid {gone.pid}) ended without saying so"
    assert [seed.status for seed in run_b.seeds] == ["finished", "failed", "running"]
    assert (run_b.status, run_b.reason) == ("running", None)
    write_run(tmp_path, "model_b", 4, state="finished", seed=44)
    source.poll()
    assert (source.snapshot.run("model_b").status, source.snapshot.run("model_b").reason) == (
        "failed", "seed 43: boom")
