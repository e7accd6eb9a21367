"""The training and evaluation stages run for real: tiny data, 2-4 epochs, 1-3 seeds, the real DVC."""

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
from mnist_dvc.analysis.history import load_history, report_history
from mnist_dvc.analysis.predictions import read_predictions
from mnist_dvc.core.contracts import history_file, model_file, predictions_file, seed_dir, seeds_of
from mnist_dvc.core.records.comparison import Headline
from mnist_dvc.core.records.history import HistoryReport
from tests.helpers import TINY, run, set_params, tool_env

pytestmark = pytest.mark.slow

MODELS = ("model_a", "model_b")
SEED = 42  # params.yaml's train.seed
# What a working pipeline always reaches on TINY (1,024 training images, 2 epochs, 512 test
# images): measured 0.666-0.762 for model_a and 0.766-0.830 for model_b over seeds 42, 0-3 on
# both backends (seed 42: 0.678 / 0.775 TensorFlow, 0.705 / 0.807 JAX). Chance is 0.1.
TINY_MIN_ACCURACY = 0.5
SEED = 42  # params.yaml's train.seed: the one seed of a run with train.seeds = 1


def log(repo: Path, model: str = "model_a", seed: int = SEED) -> Path:
    return seed_dir(model, seed, repo)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder, by relative path: to tell whether a re-run rewrote them."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def assert_learned(repo: Path, model: str, seed: int = SEED) -> None:
    """The model learned: training loss fell from epoch 1 to 2, and the final model's test accuracy
    is at the level a working pipeline always reaches on TINY."""
    history = load_history(seed_dir(model, seed, repo))
    assert history.train_loss[1] < history.train_loss[0], history.train_loss
    accuracy = read_json(repo / "reports/eval" / f"{model}.json")["seeds"][str(seed)]["test_accuracy"]
    assert accuracy >= TINY_MIN_ACCURACY, f"{model}: test accuracy {accuracy:.3f} after 2 epochs on TINY"
    assert accuracy == pytest.approx(history.test_accuracy[-1], abs=1e-6), "the log's last epoch is the model"


@pytest.fixture
def tiny_repo(make_repo, mnist_mirror):
    return make_repo(TINY)


def test_repro_produces_every_output_and_second_repro_does_nothing(tiny_repo, dvc):
    first = dvc(tiny_repo, "repro", "evaluate").stdout
    for model in MODELS:
        assert model_file(model, SEED, tiny_repo).stat().st_size > 0
        assert [p.name for p in (tiny_repo / "models" / model).iterdir()] == [f"seed_{SEED}.keras"]
        assert seeds_of(tiny_repo / "metrics" / "train" / model) == [SEED]
        run_dir = log(tiny_repo, model)
        history = load_history(run_dir)
        assert history.epoch == [1, 2]
        assert history.train_time_s[0] > 0
        assert history.train_time_s[1] > history.train_time_s[0]
        assert read_json(run_dir / "metrics.json")["step"] == 2
        progress = read_json(run_dir / "progress.json")
        assert (progress["state"], progress["seed"]) == ("finished", SEED)
        assert (progress["epoch"], progress["epochs"]) == (2, 2)
        assert progress["best"]["test_accuracy"] == max(history.test_accuracy)
        assert_learned(tiny_repo, model)
        report = read_json(tiny_repo / "reports" / "eval" / f"{model}.json")
        evaluation = report["seeds"][str(SEED)]
        assert evaluation["test_error"] == pytest.approx(1 - evaluation["test_accuracy"])
        assert set(evaluation["per_class"]) == {str(d) for d in range(10)}
        assert sum(map(sum, evaluation["confusion_matrix"])) == TINY["data.test_limit"]
        predictions_path = predictions_file(model, SEED, tiny_repo)
        assert predictions_path.read_text().splitlines()[0] == "actual,predicted,p_predicted,second,p_second"
        rows = read_predictions(predictions_path)
        assert len(rows) == TINY["data.test_limit"]
        assert confusion_counts(rows.actual, rows.predicted).tolist() == evaluation["confusion_matrix"]
        assert np.all((rows.p_second <= rows.p_predicted) & (rows.p_predicted <= 1))
        assert np.all(rows.p_predicted + rows.p_second <= 1 + 1e-5), "softmax probabilities"
        assert np.all(rows.second != rows.predicted)
    assert report["params"] == 399_498
    comparison = read_json(tiny_repo / "reports" / "comparison.json")
    assert set(comparison["models"]) == set(MODELS)
    assert comparison["models"]["model_a"]["params"] == 67_466
    assert comparison["models"]["model_a"]["seeds"] == [SEED]
    assert set(comparison["verdicts"]) == {"accuracy", "loss", "gap", "time"}
    (mcnemar,) = comparison["mcnemar"]
    assert (mcnemar["models"], mcnemar["seed"]) == (list(MODELS), SEED)
    assert 0 <= mcnemar["p_value"] <= 1
    assert comparison["differences"] == [], "one seed: no test across seeds"
    summary = read_json(tiny_repo / "metrics" / "summary.json")
    assert {model: set(keys) for model, keys in summary.items()} == {
        m: set(Headline.__struct_fields__) for m in MODELS}
    assert summary["model_a"]["acc"] == read_json(tiny_repo / "reports/eval/model_a.json")["seeds"]["42"][
        "test_accuracy"]
    if "Running stage 'train@model_a'" in first:  # not restored from the session's shared run-cache
        # Only the checkpoint after the last epoch stays: the finished run, for a re-run that lost it.
        assert [p.name for p in (tiny_repo / ".checkpoints" / "model_a").glob("*/*")] == ["epoch-00002"]

    second = dvc(tiny_repo, "repro", "evaluate")
    assert "didn't change, skipping" in second.stdout
    assert "Running stage" not in second.stdout

    # The DVC metrics are the headline alone: the reports are not metrics.
    # The last line is the JSON (a line before it says metrics/backprop.json is not there yet).
    (shown,) = json.loads(dvc(tiny_repo, "metrics", "show", "--json").stdout.splitlines()[-1]).values()
    assert set(shown["data"]) == {"metrics/summary.json", "metrics/backprop.json"}
    assert shown["data"]["metrics/summary.json"]["data"] == summary


def test_two_seeds_are_evaluated_and_compared_across_seeds(make_repo, mnist_mirror, dvc):
    repo = make_repo({**TINY, "train.seeds": 2})
    dvc(repo, "repro", "evaluate")
    comparison = read_json(repo / "reports" / "comparison.json")
    for model in MODELS:
        report = read_json(repo / "reports" / "eval" / f"{model}.json")
        assert list(report["seeds"]) == ["42", "43"]
        for seed in (SEED, SEED + 1):
            assert_learned(repo, model, seed)
            # each seed's log records its own seed (seed s of several is the run with seed s alone:
            # tests/unit/test_seeds.py)
            logged = yaml.safe_load((log(repo, model, seed) / "params.yaml").read_text())
            assert logged["seed"] == seed
        accuracies = [report["seeds"][s]["test_accuracy"] for s in ("42", "43")]
        assert accuracies[0] != accuracies[1], "two seeds, two different runs"
        stats = comparison["models"][model]["stats"]["final_test_accuracy"]
        assert stats["n"] == 2 and stats["mean"] == pytest.approx(sum(accuracies) / 2)
        assert stats["ci"][0] < stats["mean"] < stats["ci"][1]
        assert read_json(repo / "metrics" / "summary.json")[model]["acc"] == pytest.approx(stats["mean"])
    (pair,) = comparison["differences"]
    assert (pair["models"], pair["test"]) == (list(MODELS), "paired t-test")
    assert 0 <= pair["criteria"]["best_test_accuracy"]["p_value"] <= 1
    assert [test["seed"] for test in comparison["mcnemar"]] == [SEED, SEED + 1]
    assert comparison["seeds_note"].startswith("2 seeds per model, the same for every model (seeds 42, 43)")
    for verdict in comparison["verdicts"].values():
        assert ("not significant" in verdict["sentence"]) == (verdict["winner"] is None) \
            or "tie on" in verdict["sentence"] or "one measurement" in verdict["sentence"], verdict
    # Each seed logs its own time: params.yaml stacks model_a's seeds (each gets an equal share of
    # the stacked epoch) and trains model_b's one after another (each seed timed on its own).
    for model, timing in (("model_a", "stack_share"), ("model_b", "measured")):
        progress = [read_json(log(repo, model, seed) / "progress.json") for seed in (SEED, SEED + 1)]
        assert [p["timing"] for p in progress] == [timing, timing]
        wall = progress[0]["model_elapsed_s"]
        assert progress[1]["model_elapsed_s"] == wall
        own = [load_history(log(repo, model, seed)).train_time_s for seed in (SEED, SEED + 1)]
        assert [t[-1] for t in own] == pytest.approx([p["elapsed_s"] for p in progress], abs=1e-3)
        assert 0 < sum(t[-1] for t in own) <= wall + 1e-3, "the seeds' own times fit in the model's"
        if timing == "stack_share":
            assert own[0] == own[1]
        # The committed history is the log, value for value, with the seed's timing label.
        for seed in (SEED, SEED + 1):
            report = HistoryReport.read(history_file(model, seed, repo))
            assert report.timing == timing
            assert report_history(report) == load_history(log(repo, model, seed))
        assert comparison["models"][model]["timing"] == timing
    # model_a's time is one measurement (stacked): no interval, no test, no winner, no "mean".
    assert comparison["models"]["model_a"]["stats"]["train_time_s"]["ci"] is None
    assert comparison["models"]["model_b"]["stats"]["train_time_s"]["ci"] is not None, "measured: a spread"
    assert "train_time_s" not in pair["criteria"]
    assert comparison["winners"]["train_time_s"]["winner"] is None
    time_verdict = comparison["verdicts"]["time"]
    assert time_verdict["winner"] is None
    assert time_verdict["sentence"].startswith(
        "Training time is one measurement for model_a, so there is no test and no cheaper model is named: "
        "model_a trains its 2 seeds stacked in ")


def test_param_change_reruns_only_that_model_and_run_cache_restores(make_repo, mnist_mirror, dvc):
    tiny_repo = make_repo({**TINY, "train.seeds": 2})  # the run-cache restores every seed
    dvc(tiny_repo, "repro", "evaluate")
    run(["git", "add", "-A"], tiny_repo)
    run(["git", "commit", "-qm", "baseline"], tiny_repo)

    set_params(tiny_repo, {"models.model_b.hidden": [32, 16, 8]})
    changed = dvc(tiny_repo, "repro", "evaluate").stdout
    assert "Running stage 'train@model_b'" in changed
    assert "Running stage 'train@model_a'" not in changed
    assert "Running stage 'evaluate'" in changed
    diff = json.loads(dvc(tiny_repo, "metrics", "diff", "--json").stdout.splitlines()[-1])
    changed = set(diff["metrics/summary.json"])
    assert {"model_b.acc", "model_b.params"} <= changed
    assert not [key for key in changed if key.startswith("model_a.")], "model_a did not change"

    set_params(tiny_repo, {"models.model_b.hidden": [256, 512, 128]})
    back = dvc(tiny_repo, "repro", "evaluate").stdout
    assert "Stage 'train@model_b' is cached - skipping run" in back
    assert seeds_of(tiny_repo / "metrics/train/model_b") == [SEED, SEED + 1]
    saved = sorted(p.name for p in (tiny_repo / "models/model_b").iterdir())
    assert saved == ["seed_42.keras", "seed_43.keras"]


def test_added_model_gets_its_own_stage_without_code_change(make_repo, dvc):
    repo = make_repo()
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["models"]["model_c"] = {"hidden": [32], "activation": "tanh", "output": "softmax"}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    stages = dvc(repo, "stage", "list", "--name-only").stdout.split()
    assert {"train@model_a", "train@model_b", "train@model_c"} <= set(stages)


def assert_same_log(got: Path, expected: Path, epochs: int) -> None:
    """The same epochs, the same numbers: weights, optimizer state and batch order all carried over."""
    resumed, straight = load_history(got), load_history(expected)
    assert resumed.epoch == straight.epoch == list(range(1, epochs + 1))
    for column in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert getattr(resumed, column) == pytest.approx(getattr(straight, column), rel=1e-5), column
    assert resumed.train_time_s == sorted(resumed.train_time_s)


# One seed on JAX, three stacked seeds on TensorFlow; TensorFlow's one-seed resume is the SIGTERM test's.
@pytest.mark.parametrize(("backend", "seeds"), [("jax", 1), ("tensorflow", 3)])
def test_killed_run_resumes_to_the_same_log_as_an_uninterrupted_run(make_repo, mnist_mirror, dvc, backend,
                                                                    seeds):
    overrides = {**TINY, "train.epochs": 4, "train.checkpoint_every": 2, "train.backend": backend,
                 "train.seeds": seeds}
    straight = make_repo(overrides, name="straight")
    if backend == "jax":  # the whole pipeline runs on JAX: both models, then evaluate and compare
        dvc(straight, "repro", "evaluate")
        for model in MODELS:
            progress = read_json(seed_dir(model, SEED, straight) / "progress.json")
            assert (progress["state"], progress["backend"]) == ("finished", "jax")
            assert load_history(seed_dir(model, SEED, straight)).epoch == [1, 2, 3, 4]
            assert_learned(straight, model)
        assert set(read_json(straight / "reports/comparison.json")["models"]) == set(MODELS)
    else:
        dvc(straight, "repro", "train@model_a")

    # The same params in a second copy: bypass the run-cache (shared by both) to really train.
    killed = make_repo(overrides, name="killed")
    crash = dvc(killed, "repro", "--no-run-cache", "train@model_a", check=False,
                MNIST_TRAIN_KILL_AFTER_EPOCH="3")
    assert crash.returncode != 0
    trained = list(range(SEED, SEED + seeds))
    assert seeds_of(killed / "metrics/train/model_a") == trained
    assert [len(load_history(log(killed, seed=seed))) for seed in trained] == [3] * seeds
    assert list((killed / ".checkpoints" / "model_a").glob("*/epoch-00002"))

    resumed = dvc(killed, "repro", "--no-run-cache", "train@model_a")
    assert "resuming from the checkpoint after epoch 2/4" in resumed.stdout
    for seed in trained:
        assert_same_log(log(killed, seed=seed), log(straight, seed=seed), 4)
        progress = read_json(log(killed, seed=seed) / "progress.json")
        assert (progress["state"], progress["backend"]) == ("finished", backend)
        assert model_file("model_a", seed, killed).is_file()


def test_a_run_killed_after_its_last_epoch_finishes_at_once(make_repo, mnist_mirror, dvc):
    """The window between the last epoch and DVC recording the stage loses no training: the
    checkpoint after the last epoch is the finished run, and the re-run only writes its outputs."""
    overrides = {**TINY, "train.epochs": 3, "train.checkpoint_every": 100, "train.seeds": 2}
    straight = make_repo(overrides, name="straight")
    dvc(straight, "repro", "train@model_a")
    for kill_at in ("3", "end"):  # right after the last epoch's log, after the outputs are written
        repo = make_repo(overrides, name=f"killed-{kill_at}")
        crash = dvc(repo, "repro", "--no-run-cache", "train@model_a", check=False,
                    MNIST_TRAIN_KILL_AFTER_EPOCH=kill_at)
        assert crash.returncode != 0, kill_at
        logged = snapshot(repo / "metrics/train/model_a")
        assert [p.name for p in (repo / ".checkpoints" / "model_a").glob("*/*")] == ["epoch-00003"]

        again = dvc(repo, "repro", "--no-run-cache", "train@model_a")
        assert "holds the finished run; writing its outputs without training" in again.stdout, kill_at
        assert "resuming" not in again.stdout
        after = snapshot(repo / "metrics/train/model_a")
        # Not one epoch trained again: every log file is byte for byte the killed run's (its
        # timings included); only the progress files are rewritten, saying `finished`.
        assert {k: v for k, v in after.items() if not k.endswith("progress.json")} == {
            k: v for k, v in logged.items() if not k.endswith("progress.json")}
        for seed in (SEED, SEED + 1):
            assert_same_log(log(repo, seed=seed), log(straight, seed=seed), 3)
            assert read_json(log(repo, seed=seed) / "progress.json")["state"] == "finished"
            assert model_file("model_a", seed, repo).stat().st_size > 0
        assert "Data and pipelines are up to date" in dvc(repo, "status", "train@model_a").stdout


def test_sigterm_checkpoints_then_resumes_to_the_same_log(make_repo, mnist_mirror, dvc):
    overrides = {**TINY, "train.epochs": 60, "train.checkpoint_every": 1000}
    straight = make_repo(overrides, name="straight")
    dvc(straight, "repro", "train@model_a")
    repo = make_repo(overrides, name="stopped")
    dvc(repo, "repro", "prepare")
    progress_file = log(repo) / "progress.json"
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
    assert_same_log(log(repo), log(straight), 60)


def test_changed_param_does_not_resume_a_stale_checkpoint(make_repo, mnist_mirror, dvc):
    repo = make_repo({**TINY, "train.epochs": 3})
    crash = dvc(repo, "repro", "--no-run-cache", "train@model_a", check=False,
                MNIST_TRAIN_KILL_AFTER_EPOCH="2")
    assert crash.returncode != 0
    set_params(repo, {"train.learning_rate": 0.002})
    again = dvc(repo, "repro", "train@model_a")
    assert "resuming" not in again.stdout
    assert load_history(log(repo)).epoch == [1, 2, 3]


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
    progress = read_json(log(repo) / "progress.json")
    assert progress["state"] == "failed"
    assert "dvc repro prepare" in progress["error"]
    assert "tensorflow" not in proc.stdout.lower()


@pytest.mark.parametrize(("overrides", "needle"), [
    ({"train.epochs": 0}, "train.epochs = 0"),
    ({"train.batch_size": -1}, "train.batch_size = -1"),
    ({"models.model_a.hidden": [64, 0]}, "models.model_a.hidden[1] = 0"),
    ({"train.seeds": 0}, "train.seeds = 0"),
    ({"train.seeds": [3, 3]}, "train.seeds = [3, 3] is invalid; seeds must be distinct (3 repeated)"),
])
def test_bad_params_fail_in_one_line_before_training(make_repo, overrides, needle):
    repo = make_repo(overrides)
    (log(repo) / "plots").mkdir(parents=True)  # a previous run's folder: left as it was
    proc = run([sys.executable, "-m", "stages.train", "model_a"], repo, check=False)
    assert proc.returncode == 2
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stdout
    assert [p.name for p in log(repo).iterdir()] == ["plots"]


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
    last = proc.stdout.strip().splitlines()[-1]
    assert "error: model_a seed 42: loss became" in last and "lower train.learning_rate" in last
    assert read_json(log(repo) / "progress.json")["state"] == "failed"
