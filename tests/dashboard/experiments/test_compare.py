"""tui.experiments.compare: curves, param diff and the statistics between runs, read at the runs'
revisions (no Textual). The statistics on 3-seed runs: test_between.py."""

from __future__ import annotations

from pathlib import Path

from tui.experiments.collect import collect
from tui.experiments.compare import build_comparison
from tui.ground.runs import RunFiles


def test_runs_without_a_comparison_file_say_so_and_are_not_compared(experiments_repo: Path) -> None:
    table = collect(experiments_repo)
    rows = {run.name: run for run in table.runs}
    chosen = (rows["wide"], rows["fast-lr"])
    view = build_comparison(RunFiles(experiments_repo), chosen, "model_a", rows["wide"], table,
                            "final_test_accuracy")
    assert [label for label, _, _ in view.accuracy] == ["wide", "fast-lr"]
    assert view.between.rows == () and view.between.seed_pairs == ()
    assert view.between.problems == ("wide: no reports/comparison.json; the evaluate stage writes it",
                                     "fast-lr: no reports/comparison.json; the evaluate stage writes it")
    assert view.between.family == "No comparison: the baseline's results cannot be read."
