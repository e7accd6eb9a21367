"""The training and evaluation stages run for real: tiny data, 2 epochs, the real DVC."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from mnist_dvc.analysis.confusion import confusion_counts
from mnist_dvc.analysis.history import load_history
from mnist_dvc.analysis.predictions import read_predictions
from tests.helpers import TINY, run, set_params, tool_env

pytestmark = pytest.mark.slow

MODELS = ("model_a", "model_b")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def tiny_repo(make_repo, mnist_mirror):
    return make_repo(TINY)


def test_repro_produces_every_output_and_second_repro_does_nothing(tiny_repo, dvc):
    dvc(tiny_repo, "repro", "evaluate")
    for model in MODELS:
        assert (tiny_repo / "models" / f"{model}.keras").stat().st_size > 0
        run_dir = tiny_repo / "metrics" / "train" / model
        history = load_history(run_dir)
        assert history.epoch == [1, 2]
        assert history.train_time_s[0] > 0
        assert history.train_time_s[1] > history.train_time_s[0]
        assert read_json(run_dir / "metrics.json")["step"] == 2
        progress = read_json(run_dir / "progress.json")
        assert progress["state"] == "finished"
        assert (progress["epoch"], progress["epochs"]) == (2, 2)
        assert 0 < progress["best"]["test_accuracy"] <= 1
        evaluation = read_json(tiny_repo / "metrics" / "eval" / f"{model}.json")
        assert evaluation["test_error"] == pytest.approx(1 - evaluation["test_accuracy"])
        assert set(evaluation["per_class"]) == {str(d) for d in range(10)}
        assert sum(map(sum, evaluation["confusion_matrix"])) == TINY["data.test_limit"]
        predictions_path = tiny_repo / "metrics" / "confusion" / f"{model}.csv"
        assert predictions_path.read_text().splitlines()[0] == "actual,predicted,p_predicted,second,p_second"
        rows = read_predictions(predictions_path)
        assert len(rows) == TINY["data.test_limit"]
        assert confusion_counts(rows.actual, rows.predicted).tolist() == evaluation["confusion_matrix"]
        assert np.all((rows.p_second <= rows.p_predicted) & (rows.p_predicted <= 1))
        assert np.all(rows.p_predicted + rows.p_second <= 1 + 1e-5), "softmax probabilities"
        assert np.all(rows.second != rows.predicted)
    assert evaluation["params"] == 399_498
    comparison = read_json(tiny_repo / "metrics" / "comparison.json")
    assert set(comparison["models"]) == set(MODELS)
    assert comparison["models"]["model_a"]["params"] == 67_466
    assert set(comparison["verdicts"]) == {"accuracy", "loss", "gap", "time"}
    assert comparison["mcnemar"]["models"] == list(MODELS)
    assert 0 <= comparison["mcnemar"]["p_value"] <= 1
    assert not (tiny_repo / ".checkpoints" / "model_a").exists()

    second = dvc(tiny_repo, "repro", "evaluate")
    assert "didn't change, skipping" in second.stdout
    assert "Running stage" not in second.stdout

    shown = dvc(tiny_repo, "metrics", "show", "--json").stdout
    assert "comparison.json" in shown and "test_accuracy" in shown


def test_param_change_reruns_only_that_model_and_run_cache_restores(tiny_repo, dvc):
    dvc(tiny_repo, "repro", "evaluate")
    run(["git", "add", "-A"], tiny_repo)
    run(["git", "commit", "-qm", "baseline"], tiny_repo)

    set_params(tiny_repo, {"models.model_b.hidden": [32, 16, 8]})
    changed = dvc(tiny_repo, "repro", "evaluate").stdout
    assert "Running stage 'train@model_b'" in changed
    assert "Running stage 'train@model_a'" not in changed
    assert "Running stage 'evaluate'" in changed
    diff = dvc(tiny_repo, "metrics", "diff", "--json").stdout
    assert "metrics/eval/model_b.json" in diff and "test_accuracy" in diff
    assert "metrics/eval/model_a.json" not in diff

    set_params(tiny_repo, {"models.model_b.hidden": [256, 512, 128]})
    back = dvc(tiny_repo, "repro", "evaluate").stdout
    assert "Stage 'train@model_b' is cached - skipping run" in back


def test_added_model_gets_its_own_stage_without_code_change(make_repo, dvc):
    repo = make_repo()
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["models"]["model_c"] = {"hidden": [32], "activation": "tanh", "output": "softmax"}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    stages = dvc(repo, "stage", "list", "--name-only").stdout.split()
    assert {"train@model_a", "train@model_b", "train@model_c"} <= set(stages)


def test_killed_run_resumes_to_the_same_log_as_an_uninterrupted_run(make_repo, mnist_mirror, dvc):
    overrides = {**TINY, "train.epochs": 4, "train.checkpoint_every": 2}
    straight = make_repo(overrides, name="straight")
    dvc(straight, "repro", "train@model_a")

    # The same params in a second copy: bypass the run-cache (shared by both) to really train.
    killed = make_repo(overrides, name="killed")
    crash = dvc(killed, "repro", "--no-run-cache", "train@model_a", check=False,
                MNIST_TRAIN_KILL_AFTER_EPOCH="3")
    assert crash.returncode != 0
    assert len(load_history(killed / "metrics/train/model_a")) == 3
    assert list((killed / ".checkpoints" / "model_a").glob("*/epoch-00002"))

    resumed = dvc(killed, "repro", "--no-run-cache", "train@model_a")
    assert "resuming from the checkpoint after epoch 2/4" in resumed.stdout
    expected = load_history(straight / "metrics/train/model_a")
    got = load_history(killed / "metrics/train/model_a")
    assert got.epoch == [1, 2, 3, 4]
    # The same epochs, the same numbers: weights, optimizer state and batch order all carried over.
    for column in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert getattr(got, column) == pytest.approx(getattr(expected, column), rel=1e-5), column
    assert got.train_time_s == sorted(got.train_time_s)
    assert not (killed / ".checkpoints" / "model_a").exists()


def test_sigterm_checkpoints_then_resumes(make_repo, mnist_mirror, dvc):
    repo = make_repo({**TINY, "train.epochs": 60, "train.checkpoint_every": 1000})
    dvc(repo, "repro", "prepare")
    progress_file = repo / "metrics/train/model_a/progress.json"
    proc = subprocess.Popen([sys.executable, "-m", "stages.train", "model_a"], cwd=repo, env=tool_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if progress_file.exists() and read_json(progress_file)["epoch"] >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 128 + signal.SIGTERM, output
    progress = read_json(progress_file)
    assert progress["state"] == "interrupted"
    stopped_at = progress["epoch"]
    assert stopped_at < 60
    assert list((repo / ".checkpoints/model_a").glob(f"*/epoch-{stopped_at:05d}"))

    finish = run([sys.executable, "-m", "stages.train", "model_a"], repo)
    assert f"resuming from the checkpoint after epoch {stopped_at}/60" in finish.stdout
    assert load_history(repo / "metrics/train/model_a").epoch == list(range(1, 61))


def test_changed_param_does_not_resume_a_stale_checkpoint(make_repo, mnist_mirror, dvc):
    repo = make_repo({**TINY, "train.epochs": 3})
    crash = dvc(repo, "repro", "--no-run-cache", "train@model_a", check=False,
                MNIST_TRAIN_KILL_AFTER_EPOCH="2")
    assert crash.returncode != 0
    set_params(repo, {"train.learning_rate": 0.002})
    again = dvc(repo, "repro", "train@model_a")
    assert "resuming" not in again.stdout
    assert load_history(repo / "metrics/train/model_a").epoch == [1, 2, 3]


def test_checkpoint_every_changes_neither_the_stage_nor_the_checkpoint(make_repo, mnist_mirror, dvc):
    """How often a resumable state is saved changes no number: no re-run, no lost checkpoint."""
    repo = make_repo({**TINY, "train.epochs": 3})
    crash = dvc(repo, "repro", "--no-run-cache", "train@model_a", check=False,
                MNIST_TRAIN_KILL_AFTER_EPOCH="2")
    assert crash.returncode != 0
    set_params(repo, {"train.checkpoint_every": 5})
    resumed = dvc(repo, "repro", "train@model_a")
    assert "resuming from the checkpoint after epoch 2/3" in resumed.stdout

    set_params(repo, {"train.checkpoint_every": 7})
    assert "Data and pipelines are up to date" in dvc(repo, "status", "train@model_a").stdout
    again = dvc(repo, "repro", "train@model_a").stdout
    assert "didn't change, skipping" in again and "Running stage" not in again


def test_missing_prepared_data_is_one_line_error_and_failed_progress(make_repo):
    repo = make_repo()
    proc = run([sys.executable, "-m", "stages.train", "model_a"], repo, check=False)
    assert proc.returncode == 2
    assert proc.stdout.strip().splitlines() == [
        "error: data/prepared/x_train.npy not found; run `dvc repro prepare` first"]
    progress = read_json(repo / "metrics/train/model_a/progress.json")
    assert progress["state"] == "failed"
    assert "dvc repro prepare" in progress["error"]
    assert "tensorflow" not in proc.stdout.lower()


@pytest.mark.parametrize(("overrides", "needle"), [
    ({"train.epochs": 0}, "train.epochs = 0"),
    ({"train.batch_size": -1}, "train.batch_size = -1"),
    ({"models.model_a.hidden": [64, 0]}, "models.model_a.hidden[1] = 0"),
])
def test_bad_params_fail_in_one_line_before_training(make_repo, overrides, needle):
    repo = make_repo(overrides)
    proc = run([sys.executable, "-m", "stages.train", "model_a"], repo, check=False)
    assert proc.returncode == 2
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stdout
    assert read_json(repo / "metrics/train/model_a/progress.json")["state"] == "failed"


def test_unknown_model_names_the_known_ones(make_repo):
    repo = make_repo()
    proc = run([sys.executable, "-m", "stages.train", "model_z"], repo, check=False)
    assert proc.returncode == 2
    assert "models.model_z: no such model in params.yaml (defined: model_a, model_b)" in proc.stdout


def test_nan_loss_fails_with_a_hint(make_repo, mnist_mirror, dvc):
    repo = make_repo({**TINY, "train.learning_rate": 1e12, "train.epochs": 3})
    dvc(repo, "repro", "prepare")
    proc = run([sys.executable, "-m", "stages.train", "model_a"], repo, check=False)
    assert proc.returncode == 2
    assert "lower train.learning_rate" in proc.stdout.strip().splitlines()[-1]
    assert read_json(repo / "metrics/train/model_a/progress.json")["state"] == "failed"



def test_jax_backend_produces_the_same_kind_of_outputs(make_repo, mnist_mirror, dvc):
    repo = make_repo({**TINY, "train.backend": "jax"})
    dvc(repo, "repro", "evaluate")
    for model in MODELS:
        progress = read_json(repo / "metrics/train" / model / "progress.json")
        assert (progress["state"], progress["backend"]) == ("finished", "jax")
        assert load_history(repo / "metrics/train" / model).epoch == [1, 2]
        assert read_json(repo / "metrics/eval" / f"{model}.json")["test_accuracy"] > 0.1
    assert set(read_json(repo / "metrics/comparison.json")["models"]) == set(MODELS)
