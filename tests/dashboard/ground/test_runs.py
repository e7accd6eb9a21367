"""tui.ground.runs: a run's files wherever they are, at its revision through DVC or in its folder
(no Textual), on the real git + DVC repository of made-up experiments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.experiment_repo import TEST_IMAGES
from tests.fixtures.runs import write_run
from tui.experiments.collect import collect
from tui.ground import runs
from tui.ground.runs import EXPERIMENT, WORKSPACE, Run


def by_name(root: Path) -> dict[str, Run]:
    return {run.name: run for run in collect(root).runs}


def test_curves_and_predictions_are_read_at_each_revision(experiments_repo: Path) -> None:
    rows = by_name(experiments_repo)
    files = runs.RunFiles(experiments_repo)
    long, wide, workspace = rows["long"], rows["wide"], rows[WORKSPACE]
    assert len(files.history(long, "model_a")) == 20 and len(files.history(wide, "model_a")) == 12
    assert files.history(long, "model_a").test_accuracy[-1] == pytest.approx(0.981, abs=1e-3)
    assert len(files.history(workspace, "model_b")) == 12
    assert len(files.history(wide, "model_c")) == 0, "a model the run does not have: no epochs"
    predictions = files.seed_predictions(wide, "model_a", 42)
    assert predictions.actual.shape == (TEST_IMAGES,)
    assert files.history(wide, "model_a") is files.history(wide, "model_a"), "a finished revision: read once"
    assert files.seed_predictions(wide, "model_a", 42) is predictions
    with pytest.raises(runs.RunFilesError, match=r"no reports/predictions/model_c/seed_42.csv"):
        files.seed_predictions(wide, "model_c", 42)


def test_one_reader_per_revision_lists_each_folder_once(experiments_repo: Path) -> None:
    wide = by_name(experiments_repo)["wide"]
    reader = runs.reader(experiments_repo, wide)
    assert reader is runs.at_revision(experiments_repo, wide.rev), "one DVC file system per revision"
    assert reader.seeds("model_a") == [42] and reader.prediction_seeds("model_a") == [42]
    assert reader.models() == ["model_a", "model_b"]
    folder = Path("reports/predictions/model_a")
    assert reader.names(folder) is reader.names(folder), "a revision's folder is listed once"
    with pytest.raises(FileNotFoundError):
        reader.names(Path("reports/predictions/model_z"))
    assert reader.listing(Path("reports/predictions/model_z")) == []


def test_a_damaged_predictions_file_is_one_line_naming_the_run(experiments_copy: Path) -> None:
    path = experiments_copy / "reports/predictions/model_a/seed_42.csv"
    path.write_text("actual,predicted,p_predicted,second,p_second\n7,12,0.9,1,0.05\n")
    workspace = by_name(experiments_copy)[WORKSPACE]
    with pytest.raises(runs.RunFilesError) as error:
        runs.RunFiles(experiments_copy).seed_predictions(workspace, "model_a", 42)
    assert str(error.value) == (f"{WORKSPACE}: reports/predictions/model_a/seed_42.csv: "
                                "line 2: predicted is 12, expected a digit 0-9")


def test_a_running_runs_progress_is_read_from_its_folder(tmp_path: Path) -> None:
    write_run(tmp_path, "model_a", 12, state="finished")
    write_run(tmp_path, "model_b", 3, state="running", pid=os.getpid())
    (tmp_path / "metrics/train/not a model").mkdir()
    progress = runs.live_progress(tmp_path)
    assert {model: (p.state, p.epoch) for model, p in progress.items()} == {
        "model_a": ("finished", 12), "model_b": ("running", 3)}
    (tmp_path / "metrics/train/model_a/seed_42/progress.json").write_text('{"state": "runn')
    assert set(runs.live_progress(tmp_path)) == {"model_b"}, "a torn file is skipped, not an error"
    assert [p.model for p in runs.progress_under(tmp_path, [Path("metrics/train/model_b")])] == ["model_b"]
    assert runs.progress_under(tmp_path, [Path("models/model_b")]) == []
    running = Run(key="k", rev="abc", name="exp", kind=EXPERIMENT, baseline="b", state="running",
                  folder=str(tmp_path))
    assert len(runs.RunFiles(tmp_path.parent).history(running, "model_b")) == 3, "read from its folder"
