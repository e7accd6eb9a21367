"""The dashboard's fixture projects are what the pipeline writes, checked file by file.

Against the records (mnist_dvc/core/records: each file decoded by its record) and against the
real writers: DVCLive for the per-epoch log, `Progress` for progress.json, the evaluation and
comparison functions for reports/eval, reports/predictions, reports/comparison.json and
metrics/summary.json, the backprop check (TensorFlow included) for reports/backprop.json and
its headline metrics/backprop.json. And the committed folders are what tests/fixtures/runs.py
writes today, so they cannot drift from it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from mnist_dvc.analysis import evaluation
from mnist_dvc.analysis.comparison import compare, headline, run_summary
from mnist_dvc.analysis.history import load_history
from mnist_dvc.analysis.predictions import read_predictions
from mnist_dvc.backprop.check import (
    FD_TOLERANCE,
    TF_TOLERANCE,
    check_record,
    finite_difference_gradients,
)
from mnist_dvc.backprop.record import trace
from mnist_dvc.core.contracts import (
    BACKPROP_FILE,
    BACKPROP_REPORT,
    COMPARISON_FILE,
    MEASURED,
    PREDICTION_COLUMNS,
    PROGRESS_NAME,
    SERIES,
    SERIES_METRICS,
    SUMMARY_FILE,
    eval_file,
    predictions_file,
    progress_file,
    seed_dir,
    series_file,
)
from mnist_dvc.core.params import load_params
from mnist_dvc.core.records.backprop import Backprop, BackpropHeadline
from mnist_dvc.core.records.base import read_record
from mnist_dvc.core.records.comparison import Comparison, Summary
from mnist_dvc.core.records.evaluation import Evaluation
from mnist_dvc.core.records.progress import Progress as ProgressFile
from mnist_dvc.training.model import parameter_count
from mnist_dvc.training.progress import EpochTime, Progress
from tests.fixtures import runs
from tests.helpers import FIXTURES

FINISHED = FIXTURES / "finished"
PARAMS = load_params(FINISHED / "params.yaml")
MODELS = tuple(PARAMS.models)
SEED = runs.SEED


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_params_files_pass_the_real_validator() -> None:
    assert MODELS == ("model_a", "model_b")
    assert load_params(FIXTURES / "empty" / "params.yaml").models.keys() == PARAMS.models.keys()
    assert sorted(p.name for p in (FIXTURES / "empty").iterdir()) == ["params.yaml"]


def test_the_static_folders_are_what_runs_py_writes(tmp_path: Path) -> None:
    runs.write_finished(tmp_path)
    committed = {p.relative_to(FINISHED) for p in FINISHED.rglob("*") if p.is_file()}
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert committed - written == {BACKPROP_FILE, BACKPROP_REPORT}, "the backprop stage writes those"
    assert written <= committed
    stale = [str(p) for p in sorted(written) if (tmp_path / p).read_bytes() != (FINISHED / p).read_bytes()]
    assert stale == [], "run `python -m tests.fixtures.runs` and commit the result"


@pytest.mark.parametrize("model", MODELS)
def test_the_log_is_what_dvclive_writes(tmp_path: Path, model: str) -> None:
    """The same rows logged with DVCLive the way Trainer logs them give the same files."""
    from dvclive import Live

    history = load_history(seed_dir(model, SEED, FINISHED))
    assert history.epoch == list(range(1, PARAMS.train.epochs + 1))
    live = Live(str(tmp_path / model), resume=False, dvcyaml=False, save_dvc_exp=False)
    for i, epoch in enumerate(history.epoch):
        live.step = epoch
        for column, name in SERIES_METRICS.items():
            live.log_metric(name, float(getattr(history, column)[i]))
        live.make_summary()
    live.end()
    by_dvclive = {p.relative_to(tmp_path / model) for p in (tmp_path / model).rglob("*") if p.is_file()}
    fixture = seed_dir(model, SEED, FINISHED)
    assert by_dvclive == {series_file(Path(), column) for column in SERIES} | {Path("metrics.json")}
    in_fixture = {p.relative_to(fixture) for p in fixture.rglob("*") if p.is_file()}
    assert in_fixture == by_dvclive | {Path(PROGRESS_NAME)}
    for relative in by_dvclive:
        assert (fixture / relative).read_text() == (tmp_path / model / relative).read_text(), relative


@pytest.mark.parametrize(("model", "epochs_done", "state", "error"), [
    *((model, 12, "finished", None) for model in MODELS),
    ("model_b", 7, "running", None),
    ("model_b", 3, "interrupted", "stopped by SIGINT"),
    ("model_b", 0, "failed", "data/prepared/x_train.npy not found"),
])
def test_progress_is_what_the_progress_writer_writes(
    tmp_path: Path, model: str, epochs_done: int, state: str, error: str | None
) -> None:
    """Progress fed the logged epochs writes the same document; only the pid and clock are pinned.
    The finished runs are the static fixture's, the others what `write_run` writes for the tests."""
    root = FINISHED if state == "finished" else tmp_path
    if root == tmp_path:
        runs.write_run(tmp_path, model, epochs_done, state=state, error=error)
    doc = ProgressFile.read(progress_file(model, SEED, root))
    assert (doc.state, doc.error, doc.epoch) == (state, error, epochs_done)
    assert (doc.last.test_accuracy is None) == (doc.best.test_accuracy_epoch is None) == (epochs_done == 0)

    history = load_history(seed_dir(model, SEED, root))
    assert len(history) == epochs_done
    real = Progress(tmp_path / "real.json", model, SEED, PARAMS.train.epochs, runs.BACKEND)
    for i, epoch in enumerate(history.epoch):
        metrics = {key: getattr(history, key)[i] for key in ("train_loss", "train_accuracy", "test_loss",
                                                             "test_accuracy")}
        real.record_epoch(epoch, metrics, EpochTime(history.epoch_s[i], history.epoch_s[i], MEASURED))
    real.write(state, error)
    assert read_json(progress_file(model, SEED, root)) == {**read_json(real.path), "pid": runs.PID,
                                                           "updated_at": runs.UPDATED_AT}


def predictions(model: str, root: Path = FINISHED, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) from reports/predictions/<model>/seed_<s>.csv, as evaluate writes it."""
    with predictions_file(model, seed, root).open() as handle:
        assert tuple(next(csv.reader(handle))) == PREDICTION_COLUMNS
    rows = read_predictions(predictions_file(model, seed, root))
    return rows.actual, rows.predicted


@pytest.mark.parametrize("model", MODELS)
def test_evaluation_is_what_evaluate_writes(model: str) -> None:
    report = Evaluation.read(eval_file(model, FINISHED))
    assert list(report.seeds) == [SEED]
    record = report.seeds[SEED]
    y, predicted = predictions(model)
    assert len(y) == 10_000 and set(np.unique(y)) == set(range(10))
    top2, p_top2 = runs.synthetic_top2(y, predicted)
    result = evaluation.TestResult(top2, p_top2, record.test_loss)
    expected = evaluation.evaluation_report(model, parameter_count(PARAMS.models[model]),
                                            {SEED: evaluation.seed_record(result, y)})
    assert report == expected
    # The final model on the same test set: the log's last epoch says the same.
    history = load_history(seed_dir(model, SEED, FINISHED))
    assert record.test_accuracy == history.test_accuracy[-1]
    assert record.test_loss == history.test_loss[-1]


def test_comparison_is_what_the_comparison_writes() -> None:
    comparison = Comparison.read(FINISHED / COMPARISON_FILE)
    logs = {m: load_history(seed_dir(m, SEED, FINISHED)) for m in MODELS}
    summaries = {m: {SEED: run_summary(logs[m], parameter_count(PARAMS.models[m]))} for m in MODELS}
    y = predictions(MODELS[0])[0]
    assert all(np.array_equal(predictions(m)[0], y) for m in MODELS), "one test set for every model"
    assert comparison == compare(summaries, y, {m: {SEED: predictions(m)[1]} for m in MODELS},
                                 dict.fromkeys(MODELS, MEASURED))
    assert read_record(Summary, FINISHED / SUMMARY_FILE) == headline(comparison)
    for entry in comparison.models.values():
        assert entry.stats["best_test_accuracy"].ci is None, "one seed: no interval"
    (test,) = comparison.mcnemar
    exact = binomtest(test.b01, test.b01 + test.b10).pvalue
    assert test.p_value == pytest.approx(exact, rel=1e-12)


def test_several_seeds_are_what_the_writers_write(tmp_path: Path) -> None:
    """`write_seeds`: each seed's log in the per-seed layout, evaluated and compared across seeds."""
    runs.write_params(tmp_path)
    seeds = [42, 43, 44, 45, 46]
    runs.write_seeds(tmp_path, seeds)
    comparison = Comparison.read(tmp_path / COMPARISON_FILE)
    assert comparison.differences[0].test == "paired t-test"
    assert [t.seed for t in comparison.mcnemar] == seeds
    for model in MODELS:
        report = Evaluation.read(eval_file(model, tmp_path))
        assert list(report.seeds) == seeds
        for seed in seeds:
            history = load_history(seed_dir(model, seed, tmp_path))
            assert history.epoch == list(range(1, PARAMS.train.epochs + 1))
            assert report.seeds[seed].test_accuracy == history.test_accuracy[-1]
            assert comparison.models[model].runs[seed] == run_summary(history, report.params)
            assert np.array_equal(predictions(model, tmp_path, seed)[0], predictions(MODELS[0])[0])
    seed_42 = load_history(seed_dir("model_a", 42, tmp_path))
    assert seed_42 == load_history(seed_dir("model_a", SEED, FINISHED)), "seed 42 is the finished run"


def test_backprop_is_what_the_backprop_stage_writes() -> None:
    """The engine's trace, TensorFlow's float64 gradients and finite differences, checked as the
    stage checks them, give the file exactly."""
    from mnist_dvc.backprop.check import tensorflow_gradients

    record = Backprop.read(FINISHED / BACKPROP_REPORT)
    assert BackpropHeadline.read(FINISHED / BACKPROP_FILE) == record.headline()
    tf_check, fd_check = record.check.tensorflow, record.check.finite_difference
    assert (tf_check.tolerance, fd_check.tolerance) == (TF_TOLERANCE, FD_TOLERANCE)
    assert tf_check.ok and tf_check.max_abs_diff <= TF_TOLERANCE
    assert fd_check.ok and fd_check.max_abs_diff <= FD_TOLERANCE
    spec = PARAMS.backprop
    engine = trace(spec.expression, spec.inputs)
    tf_f, tf_grads = tensorflow_gradients(spec.expression, spec.inputs)
    expected = check_record(engine, tf_f, tf_grads, finite_difference_gradients(spec.expression, spec.inputs))
    assert record == expected
