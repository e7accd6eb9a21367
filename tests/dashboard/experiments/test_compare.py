"""tui.experiments.compare: McNemar's test between two runs' predictions, read at their revisions
(no Textual)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_dvc.analysis.predictions import Predictions
from tui.experiments.collect import collect
from tui.experiments.compare import mcnemar_between
from tui.ground.runs import RunFiles


def test_mcnemar_between_two_runs_uses_the_projects_sentence(experiments_repo: Path) -> None:
    rows = {run.name: run for run in collect(experiments_repo).runs}
    files = RunFiles(experiments_repo)
    a, b = files.predictions(rows["wide"], "model_a"), files.predictions(rows["fast-lr"], "model_a")
    assert np.array_equal(a.actual, b.actual)
    test = mcnemar_between("wide", a, "fast-lr", b)
    # wide gets the first 13 images wrong, fast-lr the first 19: 6 images only wide gets right.
    assert (test.b01, test.b10) == (0, 6)
    assert test.sentence == ("wide vs fast-lr: wide's edge is significant (McNemar exact p = 0.0312; "
                             "0 images only fast-lr gets right, 6 only wide).")
    close = mcnemar_between("wide", a, "main", files.predictions(rows["main"], "model_a"))
    assert close.sentence.startswith("wide vs main: The difference is not significant at 0.05")


def test_predictions_of_different_test_sets_are_not_compared() -> None:
    a = Predictions(np.arange(10) % 10, np.arange(10) % 10, None, None, None)
    b = Predictions(np.arange(12) % 10, np.arange(12) % 10, None, None, None)
    assert mcnemar_between("a", a, "b", b).sentence == (
        "a vs b: different test sets (data.test_limit differs?): not comparable")
