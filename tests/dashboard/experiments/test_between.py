"""The statistics between runs in the Experiments tab, on a real git + DVC repository whose runs
have 3 seeds each (tests/fixtures/seed_runs.py): intervals per run, runs against a baseline with
Holm's adjusted p, McNemar per seed opening the Errors tab, and the `--vs` export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import DataTable

from tests.dashboard.experiments.driving import cell, cursor_to, open_tab, pane
from tests.fixtures.seed_runs import make_seed_repo
from tests.helpers import make_app, text, wait_for
from tui.__main__ import main
from tui.errors.pane import ErrorsPane
from tui.errors.widgets import DigitGallery
from tui.experiments.between import intervals
from tui.experiments.collect import collect
from tui.ground.runs import WORKSPACE, RunFiles

SCOPE_START = "Intervals are over training seeds: between seeds only the initial weights"


@pytest.fixture(scope="module")
def seed_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_seed_repo(tmp_path_factory.mktemp("seeds") / "repo")


def only_right(root: Path, first: str, second: str, model: str, seed: int) -> list[int]:
    """The oracle: the test images `first`'s model gets right and `second`'s does not, from the files."""
    runs = {run.name: run for run in collect(root).runs}
    files = RunFiles(root)
    a = files.seed_predictions(runs[first], model, seed)
    b = files.seed_predictions(runs[second], model, seed)
    return np.flatnonzero((a.predicted == a.actual) & (b.predicted != b.actual)).tolist()


async def test_runs_against_a_baseline_then_mcnemar_opens_the_errors_tab(seed_repo: Path) -> None:
    app = make_app(seed_repo)
    async with app.run_test(size=(160, 60)) as pilot:
        await open_tab(pilot)
        for name in ("main", "lr-3e-3", "lr-1e-2"):
            await cursor_to(pilot, name)
            await pilot.press("space")
        await cursor_to(pilot, "main")
        await pilot.press("b")
        assert cell(app, "main", "mark") == "◆"
        table = app.query_one("#between-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 20,
                       what="2 runs x 2 models x 5 criteria (training time too)")
        rows = [[str(c) for c in table.get_row(key)] for key in table.rows]
        times = [row for row in rows if row[1] == "Training time"]
        assert len(times) == 4, "training time is compared too, as each run measured it"
        tested = [row for row in rows if row[6] != "none"]
        family = text(app, "#between-family")
        assert family.startswith(f"p-values adjusted with Holm's method over the {len(tested)} tests shown")
        final = next(row for row in rows if row[:3] == ["model_a", "Final test accuracy", "lr-3e-3"])
        assert final[6] == "paired t-test" and final[8].endswith("★"), "lr-3e-3 is better on every seed"
        assert "(95% CI +0." in final[5] and final[9].startswith("1.00 (95% CI 0.29 to 1.00)")
        noise = next(row for row in rows if row[:3] == ["model_a", "Final test accuracy", "lr-1e-2"])
        assert not noise[8].endswith("★")
        verdicts = text(app, "#between-verdicts")
        assert "lr-3e-3 is better than main on model_a's final test accuracy" in verdicts
        assert "lr-1e-2 is better" not in verdicts and "main is better than lr-1e-2" not in verdicts
        assert text(app, "#between-scope").startswith(SCOPE_START)
        summary = text(app, "#mcnemar-summary")
        assert "seed by seed (seeds 42-44)" in summary
        # McNemar: lr-3e-3 vs main, model_a, seed 43, "only A right": those images in the Errors tab
        mcnemar = app.query_one("#mcnemar-table", DataTable)
        row = next(i for i, key in enumerate(mcnemar.rows)
                   if [str(c) for c in mcnemar.get_row(key)][:4] == ["lr-3e-3", "main", "model_a", "43"])
        expected = only_right(seed_repo, "lr-3e-3", "main", "model_a", 43)
        assert str(mcnemar.get_row_at(row)[4]) == str(len(expected)) and expected
        mcnemar.focus()
        mcnemar.move_cursor(row=row, column=mcnemar.get_column_index("only A right"), animate=False)
        await pilot.press("enter")
        errors = app.query_one(ErrorsPane)
        await wait_for(pilot, lambda: errors.versus is not None, what="the Errors tab's image set")
        assert app.query_one("#tabs").active == "errors"
        gallery = app.query_one(DigitGallery)
        assert list(gallery.indices) == expected
        assert str(gallery.title).startswith(f"model_a seed 43: the {len(expected)} test images only "
                                             "lr-3e-3 gets right (lr-3e-3 vs main)")
        first = gallery.card(expected[0])
        assert [t.plain.split(":")[0] for t in first.caption[1:]] == ["lr-3e-3", "main"]
        assert "✓" in first.caption[1].plain and "✗" in first.caption[2].plain
        await pilot.press("v")
        assert errors.versus is None


async def test_intervals_per_run_with_n_and_the_seed_groups(seed_repo: Path) -> None:
    app = make_app(seed_repo)
    async with app.run_test(size=(200, 40)) as pilot:
        await open_tab(pilot)
        await pilot.press("i")
        key = "ci:model_a:final_test_accuracy"
        await wait_for(pilot, lambda: key in app.query_one("#exp-table", DataTable).columns, what="intervals")
        assert cell(app, "lr-3e-3", key).endswith(" n=3") and "±" in cell(app, "lr-3e-3", key)
        assert cell(app, "main", "seed-group").startswith("S1 seeds 42-44 (pairable with")
        assert SCOPE_START in text(app, "#exp-status")
        assert not any(c.value.startswith("metric:") for c in app.query_one("#exp-table", DataTable).columns)
        await pilot.press("i")
        assert pane(app).intervals is False


def test_the_workspace_is_not_counted_in_the_seed_groups(seed_repo: Path) -> None:
    """The workspace holds its commit's files: counted, it would be a duplicate run to pair with."""
    listed = collect(seed_repo).runs
    found = intervals(RunFiles(seed_repo), listed)
    groups = {run.name: found[run.key].group for run in listed}
    assert groups == {"main": "S1 seeds 42-44 (pairable with 2 more)",
                      "lr-3e-3": "S1 seeds 42-44 (pairable with 2 more)",
                      "lr-1e-2": "S1 seeds 42-44 (pairable with 2 more)",
                      WORKSPACE: "S1 seeds 42-44"}


def test_vs_export_as_text_and_csv(seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(seed_repo), "--once", "--experiments", "--vs", "train.learning_rate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Final test accuracy vs train.learning_rate")
    assert SCOPE_START in out
    lines = [line.split() for line in out.splitlines() if line.startswith("model_a ")]
    assert [(line[1], line[2], line[3]) for line in lines] == [
        ("0.001", "main", "3"), ("0.003", "lr-3e-3", "3"), ("0.01", "lr-1e-2", "3")]
    assert main(["--root", str(seed_repo), "--once", "--experiments", "--vs", "train.learning_rate",
                 "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    runs = {run.name: run for run in collect(seed_repo).runs}
    comparison = RunFiles(seed_repo).comparison(runs["lr-3e-3"])
    seeds = comparison.models["model_b"].runs
    row = next(r for r in rows if r["model"] == "model_b" and r["run"] == "lr-3e-3")
    assert float(row["seed_43"]) == seeds[43].final_test_accuracy
    assert float(row["value"]) == pytest.approx(np.mean([seeds[s].final_test_accuracy for s in (42, 43, 44)]))
    assert row["n"] == "3" and float(row["ci_low"]) < float(row["value"]) < float(row["ci_high"])
    assert main(["--root", str(seed_repo), "--once", "--experiments", "--vs", "train.nope"]) == 2
    assert capsys.readouterr().err == ("error: no finished run with a reports/comparison.json has the param "
                                       "'train.nope'\n")
