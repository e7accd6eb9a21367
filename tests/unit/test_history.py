"""The committed history report (reports/history/<model>/seed_<s>.tsv), the one reader of a seed's
history (the live log, else the committed report), and the error curves DVC draws."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mnist_dvc.analysis.history import (
    COMMITTED,
    LIVE,
    error_table,
    history_report,
    history_seeds,
    load_history,
    report_history,
    seed_history,
)
from mnist_dvc.core.contracts import (
    ERROR_COLUMNS,
    HISTORY_COLUMNS,
    MEASURED,
    MODEL_TOTAL,
    STACK_SHARE,
    history_file,
    seed_dir,
    series_file,
    time_kind,
)
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.records.history import HistoryReport
from mnist_dvc.core.run_files import DiskFiles
from tests.helpers import FIXTURES

FINISHED = FIXTURES / "finished"


def finished_copy(tmp_path: Path) -> Path:
    """The finished fixture project: both models' live logs and their committed reports (seed 42)."""
    root = tmp_path / "project"
    shutil.copytree(FINISHED, root)
    return root


def test_the_report_holds_the_live_log_exactly_and_reads_back(tmp_path: Path):
    live = load_history(seed_dir("model_a", 42, FINISHED))
    report = history_report(live, MEASURED)
    text = report.to_text()
    assert text.splitlines()[0].split("\t") == list(HISTORY_COLUMNS)
    assert len(text.splitlines()) == 1 + len(live)
    assert HistoryReport.from_text(text, "x.tsv") == report
    assert report_history(HistoryReport.from_text(text.encode(), "x.tsv")) == live
    path = history_file("model_a", 42, tmp_path)
    report.write(path)
    assert report_history(HistoryReport.read(path)) == live
    assert history_report(live, None).timing == MODEL_TOTAL, "a log from before the label"


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda text: "", "empty file"),
    (lambda text: text.replace("train_loss", "loss", 1), "has columns ['epoch', 'loss', "),
    (lambda text: text.splitlines()[0] + "\n", "has no epoch"),
    (lambda text: text.replace("\tmeasured\n", "\n", 1), "line 2: 7 values under 8 columns"),
    (lambda text: text.replace("\tmeasured\n", "\tsometimes\n", 1),
     "line 2: timing 'sometimes' is not one of"),
    (lambda text: text.replace("\tmeasured\n", "\tX\n", 2).replace("\tX\n", "\tmeasured\n", 1).replace(
        "\tX\n", "\tstack_share\n"), "line 3: timing 'stack_share' differs from the first row's 'measured'"),
    (lambda text: text.replace("\n2\t", "\n1\t", 1), "line 3: epoch 1 does not follow epoch 1"),
    (lambda text: text.replace("\n1\t", "\nx\t", 1), "line 2: epoch 'x' is not an integer >= 1"),
    (lambda text: text.replace("\t3.1\t", "\tnan\t", 1), "line 2: epoch_s is nan, expected a finite number"),
    (lambda text: text.replace("\t3.1\t", "\tfast\t", 1), "line 2: epoch_s 'fast' is not a number"),
])
def test_a_damaged_report_is_one_line_naming_the_file_and_the_line(damage, problem):
    text = history_report(load_history(seed_dir("model_a", 42, FINISHED)), MEASURED).to_text()
    with pytest.raises(BadInput) as error:
        HistoryReport.from_text(damage(text), "reports/history/model_a/seed_42.tsv")
    message = str(error.value)
    assert message.startswith(f"reports/history/model_a/seed_42.tsv: {problem}"), message
    assert message.endswith("; run `dvc repro -f evaluate`") and "\n" not in message


def test_the_live_log_comes_first_then_the_committed_report(tmp_path: Path):
    root = finished_copy(tmp_path)
    files = DiskFiles(root)
    live = seed_history("model_a", 42, files)
    assert (live.source, live.path, live.timing) == (LIVE, seed_dir("model_a", 42), MEASURED)
    assert history_seeds("model_a", files) == ([42], LIVE)

    shutil.rmtree(root / "metrics" / "train")  # a clone without the DVC cache
    committed = seed_history("model_a", 42, files)
    assert (committed.source, committed.path, committed.timing) == (COMMITTED, history_file("model_a", 42),
                                                                     MEASURED)
    assert committed.history == live.history
    assert history_seeds("model_a", files) == ([42], COMMITTED)

    assert seed_history("model_a", 43, files) is None
    assert history_seeds("model_c", files) == ([], None)
    history_file("model_b", 42, root).write_text("epoch\n")
    with pytest.raises(BadInput, match=r"^reports/history/model_b/seed_42\.tsv: has columns \['epoch'\]"):
        seed_history("model_b", 42, files)


def test_a_run_that_has_just_started_is_live_with_no_epoch(tmp_path: Path):
    root = finished_copy(tmp_path)
    for column in ("train_loss", "test_loss", "epoch_s"):
        series_file(seed_dir("model_b", 42, root), column).unlink()
    found = seed_history("model_b", 42, DiskFiles(root))
    assert (found.source, len(found.history)) == (LIVE, 0), "never the committed run's curves"


def test_time_kind_of_a_model_from_its_seeds_labels():
    assert time_kind([MEASURED, MEASURED]) == MEASURED
    assert time_kind([STACK_SHARE, STACK_SHARE]) == STACK_SHARE
    assert time_kind([None, None]) == MODEL_TOTAL
    with pytest.raises(ValueError, match="unknown timing label 'guessed'"):
        time_kind(["guessed"])


def rows(text: str) -> np.ndarray:
    lines = text.splitlines()
    assert tuple(lines[0].split("\t")) == ERROR_COLUMNS
    return np.array([[float(v) for v in line.split("\t")] for line in lines[1:]])


def test_error_curves_of_one_seed_are_its_errors():
    history = load_history(seed_dir("model_b", 42, FINISHED))
    values = rows(error_table([history]))
    np.testing.assert_allclose(values[:, 0], history.epoch)
    np.testing.assert_allclose(values[:, 1], history.train_time_s, rtol=1e-7)
    np.testing.assert_allclose(values[:, 2], 1 - np.array(history.train_accuracy), rtol=1e-7)
    np.testing.assert_allclose(values[:, 3], 1 - np.array(history.test_accuracy), rtol=1e-7)
    np.testing.assert_allclose(values[:, 4], values[:, 2], err_msg="one seed: min = mean")


def test_error_curves_of_several_seeds_are_the_mean_and_its_range(tmp_path: Path):
    from tests.fixtures import runs

    runs.write_params(tmp_path)
    runs.write_seeds(tmp_path, [42, 43, 44], epochs=3)
    histories = [load_history(seed_dir("model_a", seed, tmp_path)) for seed in (42, 43, 44)]
    test_error = 1 - np.array([h.test_accuracy for h in histories])
    values = rows(error_table(histories))
    np.testing.assert_allclose(values[:, 1], np.mean([h.train_time_s for h in histories], axis=0), rtol=1e-7)
    np.testing.assert_allclose(values[:, 3], test_error.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(values[:, 6], test_error.min(axis=0), rtol=1e-7)
    np.testing.assert_allclose(values[:, 7], test_error.max(axis=0), rtol=1e-7)
