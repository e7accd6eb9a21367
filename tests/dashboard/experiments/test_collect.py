"""tui.experiments.collect on real git + DVC repositories (no Textual): the rows DVC's experiment
tree gives, the cache, and what triggers a new collection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.experiment_repo import EXPERIMENTS, HEADLINE, Made, git, save_experiments
from mnist_dvc.core.atomic import write_json
from tests.helpers import BIN, ROOT, run, tool_env
from tui.experiments import collect as experiments
from tui.experiments.collect import ExperimentsError, ExpTable
from tui.ground.runs import COMMIT, DONE, EXPERIMENT, WORKSPACE, Run
from tui.ground.watch import Watch


def by_name(table: ExpTable) -> dict[str, Run]:
    return {run.name: run for run in table.runs}


def test_every_run_is_a_row_with_its_params_and_metrics(experiments_repo: Path) -> None:
    table = experiments.collect(experiments_repo)
    rows = by_name(table)
    assert [r.name for r in table.runs][:2] == [WORKSPACE, "main"]
    assert set(rows) == {WORKSPACE, "main", *(made.name for made in EXPERIMENTS)}
    assert [(r.kind, r.state) for r in table.runs[:2]] == [(WORKSPACE, DONE), (COMMIT, DONE)]
    main = rows["main"]
    assert main.baseline == main.rev and main.key == main.rev and len(main.rev) == 40
    wide = rows["wide"]
    assert (wide.kind, wide.state, wide.baseline) == (EXPERIMENT, DONE, main.rev)
    assert wide.key == f"{main.rev[:7]}:wide"
    assert wide.params["models.model_a.hidden"] == [128, 128, 64]
    assert rows["fast-lr"].params["train.learning_rate"] == 0.01
    assert table.metrics == ("model_a.acc", "model_a.loss", "model_a.time_s",
                             "model_b.acc", "model_b.loss", "model_b.time_s"), "DVC's metrics, in file order"
    assert rows["long"].metrics["model_a.acc"] == pytest.approx(0.981, abs=1e-3)
    assert table.metric_files == (str(HEADLINE),)
    assert "train.epochs" in table.params and "backprop.inputs.x1" in table.params
    assert main.created is not None and wide.created is not None


def test_metric_labels_follow_dvc_when_two_files_share_a_key(experiments_copy: Path) -> None:
    """`acc` in two metrics files: each column is `file:key`, as `dvc exp show` names it."""
    (experiments_copy / "dvc.yaml").write_text(
        "params:\n  - params.yaml\nmetrics:\n  - metrics/summary.json\n  - metrics/other.json\n")
    write_json(experiments_copy / "metrics/other.json",
               {"model_a": {"acc": 0.5}, "note": "words are not metrics"})
    table = experiments.collect(experiments_copy)
    workspace = table.runs[0]
    assert workspace.metrics["metrics/summary.json:model_a.acc"] == pytest.approx(0.9698, abs=1e-3)
    assert workspace.metrics["metrics/other.json:model_a.acc"] == 0.5
    assert "model_a.loss" in workspace.metrics, "a key in one file only keeps its short name"
    assert not any("note" in key for key in table.metrics), "text is not a metric column"


def test_without_dvc_git_or_commits_the_problem_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("{}\n")
    with pytest.raises(ExperimentsError, match=r"not a DVC repository; run `git init` and `dvc init`"):
        experiments.collect(tmp_path)
    run([str(BIN / "dvc"), "init", "-q", "--no-scm"], tmp_path)
    with pytest.raises(ExperimentsError, match="not a git repository; experiments need git"):
        experiments.collect(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    run([str(BIN / "dvc"), "init", "-q", "-f"], tmp_path)
    with pytest.raises(ExperimentsError, match=r"no commit yet; commit the project first"):
        experiments.collect(tmp_path)


def test_a_queued_run_that_just_finished_is_one_done_row_with_its_task_log() -> None:
    """For a moment DVC lists a finishing queued run twice: its queue task (running, with the log)
    and its new commit (done, not yet tied to the task). The row is the commit's, keeping the log."""
    from dvc.repo.experiments.serialize import (
        ExpExecutor,
        ExpRange,
        ExpState,
        LocalExpExecutor,
        SerializableExp,
    )

    def result(value: float) -> dict:
        return {"metrics/summary.json": {"data": {"model_a": {"acc": value}}}}

    base = "a" * 40
    task = ExpRange([ExpState("b" * 40, data=SerializableExp("b" * 40))], name="q-seed",
                    executor=ExpExecutor("running", name="dvc-task", local=LocalExpExecutor(
                        root="/tmp/exps/copy", log="/tmp/exps/run/b.out", pid=123)))
    commit = ExpRange([ExpState("c" * 40, data=SerializableExp("c" * 40, metrics=result(0.97)))],
                      name="q-seed")
    table = experiments.table_from_states([ExpState(base, name="main", experiments=[task, commit])])
    assert [run.name for run in table.runs] == ["main", "q-seed"]
    finished = table.runs[1]
    assert (finished.state, finished.rev, finished.metrics) == (DONE, "c" * 40, {"model_a.acc": 0.97})
    assert (finished.log, finished.executor, finished.folder) == ("/tmp/exps/run/b.out", "dvc-task", None)
    assert finished.in_queue, "`dvc queue logs` still knows it"


def test_the_child_process_prints_the_table_as_json(experiments_repo: Path) -> None:
    table = experiments.collect_in_child(experiments_repo)
    assert table == experiments.collect(experiments_repo)
    command = [sys.executable, "-m", "tui.experiments.collect", "--root", str(experiments_repo.parent)]
    proc = subprocess.run(command, cwd=ROOT, env=tool_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1


def test_the_last_table_is_kept_and_read_back(experiments_copy: Path) -> None:
    assert experiments.load_cached(experiments_copy) is None
    table = experiments.collect(experiments_copy)
    experiments.save_cached(experiments_copy, table)
    assert experiments.load_cached(experiments_copy) == table
    (experiments_copy / experiments.CACHE).write_text('{"runs": [{"key": "x"}]}')
    assert experiments.load_cached(experiments_copy) is None, "a damaged cache is no cache"
    assert experiments.table_from_json(json.loads(json.dumps(experiments.table_to_json(table)))) == table


def test_what_is_watched_changes_with_experiments_and_workspace_files_only(experiments_copy: Path) -> None:
    table = experiments.collect(experiments_copy)
    gits = experiments.git_dirs(experiments_copy)
    assert gits == ((experiments_copy / ".git").resolve(),)
    changes = Watch(skip=(experiments.QUEUE_LOG,))

    def changed() -> bool:
        return changes.changed(experiments.watched_paths(experiments_copy, gits, table))

    assert changed(), "the first look"
    assert not changed()
    (experiments_copy / "unrelated.txt").write_text("x")
    assert not changed()
    out = experiments_copy / experiments.QUEUE_DIR / "run/task/task.out"
    out.parent.mkdir(parents=True)
    out.write_text("epoch 1\n")
    assert not changed(), "a queue log grows every epoch"
    (experiments_copy / HEADLINE).write_text('{"model_a": {"acc": 0.5}}')
    assert changed()
    save_experiments(experiments_copy, [Made("another", {"train.seed": 7})])
    assert changed(), "a new experiment ref"


def test_an_unfinished_experiment_has_no_metrics_of_its_baseline() -> None:
    """DVC gives a queued, running or failed experiment the metrics files of the commit it started
    from (`dvc exp show` prints them as its own); the table keeps only what the run produced."""
    from dvc.repo.experiments.serialize import ExpExecutor, ExpRange, ExpState, SerializableExp

    def data(rev: str, acc: float, epochs: int) -> SerializableExp:
        return SerializableExp(rev=rev, params={"params.yaml": {"data": {"train": {"epochs": epochs}}}},
                               metrics={"metrics/summary.json": {"data": {"model_a": {"acc": acc}}}})

    base = "b" * 40

    def exp(name: str, state: str, acc: float) -> ExpRange:
        rev = name.encode().hex().ljust(40, "0")[:40]
        return ExpRange([ExpState(rev, name, data(rev, acc, 30))], ExpExecutor(state, "dvc-task"), name)

    states = [ExpState(base, "main", data(base, 0.97, 12), experiments=[
        exp("done-one", "success", 0.98), exp("queued-one", "queued", 0.97),
        exp("running-one", "running", 0.97), exp("failed-one", "failed", 0.97)])]
    table = experiments.table_from_states(states)
    rows = by_name(table)
    assert rows["main"].metrics == {"model_a.acc": 0.97}
    assert rows["done-one"].metrics == {"model_a.acc": 0.98}
    for name in ("queued-one", "running-one", "failed-one"):
        assert rows[name].metrics == {}, f"{name} shows its baseline's accuracy"
        assert rows[name].params["train.epochs"] == 30, "its params are its own"
    assert table.metrics == ("model_a.acc",)
