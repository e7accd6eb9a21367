"""tui.experiments.table: the Experiments table's columns, order, filter, comparisons and exports
(no Textual)."""

from __future__ import annotations

import csv
import io

import pytest

from mnist_dvc.core.records.progress import BestSoFar, LastEpoch, Progress
from tui.experiments import table as exptable
from tui.experiments.collect import ExpTable
from tui.ground.runs import COMMIT, EXPERIMENT, WORKSPACE, Run

BASE = "d7899f3" + "0" * 33


def run(name: str, kind: str = EXPERIMENT, state: str = "done", **fields: object) -> Run:
    key = name if kind != EXPERIMENT else f"{BASE[:7]}:{name}"
    rev = WORKSPACE if kind == WORKSPACE else name.encode().hex().ljust(40, "0")[:40]
    return Run(key=key, rev=rev, name=name, kind=kind, baseline="" if kind == WORKSPACE else BASE,
               state=state, **fields)


PARAMS = {"train.epochs": 12, "train.learning_rate": 0.001, "models.model_a.hidden": [64, 128, 64],
          "train.optimizer": "adam"}
RUNS = (
    run(WORKSPACE, WORKSPACE, params=PARAMS, metrics={"model_a.acc": 0.97, "model_b.acc": 0.974}),
    run("main", COMMIT, params=PARAMS, metrics={"model_a.acc": 0.97, "model_b.acc": 0.974}),
    run("wide", params={**PARAMS, "models.model_a.hidden": [128, 128, 64]},
        metrics={"model_a.acc": 0.975, "model_b.acc": 0.979}),
    run("fast-lr", params={**PARAMS, "train.learning_rate": 0.01}, metrics={"model_a.acc": 0.962}),
    run("queued-one", state="queued", params={**PARAMS, "train.epochs": 30}),
)
TABLE = ExpTable(RUNS, ("model_a.acc", "model_b.acc"), tuple(PARAMS), ("metrics/summary.json",))


def labels(columns: list[exptable.Column]) -> list[str]:
    return [column.label for column in columns]


def test_the_params_that_differ_are_the_columns_unless_all_are_asked_for() -> None:
    assert exptable.differing_params(RUNS, PARAMS) == ["train.epochs", "train.learning_rate",
                                                      "models.model_a.hidden"]
    assert labels(exptable.columns(TABLE, RUNS)) == [
        "run", "state", "train.epochs", "train.learning_rate", "models.model_a.hidden", "model_a.acc",
        "model_b.acc"]
    assert labels(exptable.columns(TABLE, RUNS[:2])) == ["run", "state"], \
        "nothing differs between the workspace and its commit"
    assert labels(exptable.columns(TABLE, RUNS[:2], everything=True))[-4:] == list(PARAMS)
    wide = exptable.columns(TABLE, RUNS, live=True, rev=True)
    assert labels(wide)[:4] == ["run", "rev", "state", "progress"]


def test_a_list_param_is_the_same_however_it_is_spaced() -> None:
    same = (run("a", params={"h": [64, 128]}), run("b", params={"h": [64, 128]}))
    assert exptable.differing_params(same, ["h"]) == []
    assert exptable.differing_params((*same, run("c", params={})), ["h"]) == ["h"], "a missing value differs"


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (0.97383333, "0.97383"), (12, "12"), (True, "true"), ([128, 128, 64], "[128, 128, 64]"),
     ("adam", "adam"), (1e-7, "1e-07")],
)
def test_cells_read_like_dvc_exp_show(value: object, text: str) -> None:
    assert exptable.fmt(value) == text


def test_sorting_puts_runs_without_a_value_last_both_ways() -> None:
    accuracy = exptable.metric_column("model_b.acc")
    up = [r.name for r in exptable.sort_runs(RUNS, accuracy)]
    down = [r.name for r in exptable.sort_runs(RUNS, accuracy, descending=True)]
    assert up == [WORKSPACE, "main", "wide", "fast-lr", "queued-one"]
    assert down == ["wide", WORKSPACE, "main", "fast-lr", "queued-one"]
    by_name = [r.name for r in exptable.sort_runs(RUNS, exptable.FIXED[0])]
    assert by_name == ["fast-lr", "main", "wide", WORKSPACE, "queued-one"], "the queued one apart"
    epochs = exptable.param_column("train.epochs")
    assert exptable.sort_runs(RUNS, epochs, descending=True)[-1].name == "queued-one"


def test_unfinished_runs_sort_apart_after_the_finished_ones_and_show_no_result() -> None:
    """A queued, running or failed experiment never sorts among results, whichever way, and its
    metric cells say it has none yet (or none: failed)."""
    runs = (*RUNS, run("failed-one", state="failed", params={**PARAMS, "train.epochs": 40}),
            run("running-one", state="running", params={**PARAMS, "train.epochs": 1}))
    epochs = exptable.param_column("train.epochs")
    for descending in (False, True):
        order = [r.name for r in exptable.sort_runs(runs, epochs, descending)]
        assert order[-3:] == (["failed-one", "queued-one", "running-one"] if descending
                              else ["running-one", "queued-one", "failed-one"])
    accuracy = exptable.metric_column("model_a.acc")
    assert exptable.cell(runs[4], accuracy) == exptable.PENDING == "…"
    assert exptable.cell(runs[5], accuracy) == exptable.NO_RESULT == "✗"
    assert exptable.cell(runs[3], accuracy) == "0.962"
    assert exptable.cell(runs[4], epochs) == "30", "its params are its own"
    lines = exptable.export(ExpTable(runs, ("model_a.acc",), tuple(PARAMS))).splitlines()
    assert lines[0].endswith("model_a.acc"), "the last column"
    assert lines[5].endswith(" …") and lines[6].endswith(" ✗") and lines[4].endswith(" 0.962")


@pytest.mark.parametrize(
    ("text", "names"),
    [("", [WORKSPACE, "main", "wide", "fast-lr", "queued-one"]),
     ("WIDE", ["wide"]),
     ("queued", ["queued-one"]),
     ("learning_rate=0.01", ["fast-lr"]),
     ("hidden=[128,128", ["wide"]),
     ("hidden=[128, 128", ["wide"]),
     ("epochs=12 experiment", ["wide", "fast-lr"]),
     ("nothing-like-this", [])],
)
def test_the_filter_matches_every_word(text: str, names: list[str]) -> None:
    assert [r.name for r in RUNS if exptable.matches(r, text)] == names


def test_metric_deltas_are_against_the_baseline_run() -> None:
    chosen = [RUNS[1], RUNS[2], RUNS[3]]
    rows = exptable.metric_deltas(chosen, TABLE.metrics, baseline=RUNS[1])
    assert [(row.key, row.cells) for row in rows] == [
        ("model_a.acc", ("0.97", "0.975 (+0.005)", "0.962 (-0.008)")),
        ("model_b.acc", ("0.974", "0.979 (+0.005)", "–")),
    ]
    rows = exptable.metric_deltas(chosen, TABLE.metrics, baseline=RUNS[2])
    assert rows[0].cells == ("0.97 (-0.005)", "0.975", "0.962 (-0.013)")
    assert exptable.delta(0.5, 0.5) == "±0"


def test_the_param_diff_lists_what_differs_among_the_chosen_runs() -> None:
    rows = exptable.param_diff([RUNS[1], RUNS[2]], TABLE.params)
    assert [(row.key, row.cells) for row in rows] == [
        ("models.model_a.hidden", ("[64, 128, 64]", "[128, 128, 64]"))]


def test_the_models_come_from_the_runs_params() -> None:
    params = {"models.model_c.hidden": [8], "models.model_a.output": "softmax", "train.epochs": 1}
    assert exptable.models_of([run("x", params=params), RUNS[0]]) == ["model_c", "model_a"]


def test_a_running_experiment_in_one_cell() -> None:
    progress = Progress(model="model_b", seed=42, state="running", epoch=7, epochs=20, elapsed_s=80.0,
                        eta_s=12.4, epoch_s=1.0, updated_at="2026-11-27T02:00:00+00:00", pid=4242,
                        backend="tensorflow", last=LastEpoch(test_accuracy=0.9712), best=BestSoFar())
    assert exptable.live_text({"model_b": progress}) == "model_b epoch 7/20 · ETA 12.4 s · acc 97.12%"
    assert exptable.live_text({}) == "not training now"


def test_export_as_text_markdown_and_csv() -> None:
    text = exptable.export(TABLE)
    lines = text.splitlines()
    assert lines[0].split() == ["run", "rev", "state", "train.epochs", "train.learning_rate",
                                "models.model_a.hidden", "model_a.acc", "model_b.acc"]
    assert lines[1].split()[:4] == [WORKSPACE, WORKSPACE, "done", "12"]
    assert lines[1].split()[-2:] == ["0.97", "0.974"]
    assert lines[3].startswith("  wide "), "experiments are indented under their commit"
    assert "\x1b[" not in text

    md = exptable.export(TABLE, exptable.MARKDOWN).splitlines()
    assert md[0] == ("| run | rev | state | train.epochs | train.learning\\_rate | models.model\\_a.hidden | "
                     "model\\_a.acc | model\\_b.acc |")
    assert md[1] == "|:---|:---|:---|---:|---:|:---|---:|---:|"
    assert md[4].startswith("| ↳ wide | ")
    assert md[5].endswith("| done | 12 | 0.01 | [64, 128, 64] | 0.962 | – |")

    rows = list(csv.reader(io.StringIO(exptable.export(TABLE, exptable.CSV))))
    assert rows[0][:6] == ["kind", "baseline", "created", "run", "rev", "state"]
    assert rows[3][:4] == [EXPERIMENT, BASE[:7], "", "wide"]
    assert rows[3][6:] == ["12", "0.001", "[128, 128, 64]", "0.975", "0.979"], "full numbers, lists as JSON"
    assert rows[4][10] == "", "a missing metric is an empty cell"


def test_the_summary_line_counts_runs_and_queue_states() -> None:
    assert exptable.summary_line(TABLE, 5, 0) == "5 runs · 1 commit · 3 experiments · 1 queued"
    assert exptable.summary_line(TABLE, 2, 2) == (
        "2 of 5 runs · 1 commit · 3 experiments · 1 queued · 2 selected")


def test_markdown_escapes_what_markdown_would_read_and_aligns_text_left() -> None:
    """`x1*w1 + x2*w2` stays literal (no italics), a pipe does not split the cell; text columns are
    left-aligned, number columns right-aligned."""
    params = {"backprop.expression": "x1*w1 + x2*w2", "train.optimizer": "adam", "train.epochs": 12}
    runs = (run("main", COMMIT, params=params, metrics={"acc": 0.97}),
            run("star", params={**params, "backprop.expression": "x1*w1 | _x_", "train.optimizer": "sgd",
                                "train.epochs": 20}, metrics={"acc": 0.98}))
    md = exptable.export(ExpTable(runs, ("acc",), tuple(params)), exptable.MARKDOWN).splitlines()
    assert md[0] == r"| run | rev | state | backprop.expression | train.optimizer | train.epochs | acc |"
    assert md[1] == "|:---|:---|:---|:---|:---|---:|---:|"
    assert md[2].endswith(r"| x1\*w1 + x2\*w2 | adam | 12 | 0.97 |")
    assert md[3].endswith(r"| x1\*w1 \| \_x\_ | sgd | 20 | 0.98 |")
    text = exptable.export(ExpTable(runs, ("acc",), tuple(params))).splitlines()
    assert text[1].index("adam") == text[0].index("train.optimizer"), "text starts under its heading"


BACKPROP = {"f": 0.26887, "grads.w1": -0.161, "grads.x1": 0.345}


def test_changed_params_come_first_and_columns_equal_in_every_row_are_hidden() -> None:
    """The backprop metrics are the same in every run: hidden (a key shows them); the params the
    user changed come before the metrics."""
    runs = tuple(Run(**{**r.__dict__, "metrics": {**r.metrics, **BACKPROP}}) for r in RUNS)
    table = ExpTable(runs, ("model_a.acc", "model_b.acc", *BACKPROP), tuple(PARAMS))
    assert labels(exptable.columns(table, runs)) == [
        "run", "state", "train.epochs", "train.learning_rate", "models.model_a.hidden",
        "model_a.acc", "model_b.acc"]
    assert labels(exptable.hidden(table, runs)) == [*BACKPROP, "train.optimizer"]
    everything = labels(exptable.columns(table, runs, everything=True))
    assert everything[2:] == ["train.epochs", "train.learning_rate", "models.model_a.hidden",
                              "model_a.acc", "model_b.acc", *BACKPROP, "train.optimizer"]
    one = labels(exptable.columns(table, runs[3:4]))[2:]
    assert one == ["model_a.acc", "model_b.acc", *BACKPROP, *PARAMS], \
        "one row listed: nothing to compare it with, every column shown"


def test_the_text_export_fits_its_width_and_says_what_it_left_out() -> None:
    many = {f"metric_{i:02d}": 0.5 + i / 100 for i in range(30)}
    runs = (run("main", COMMIT, params=PARAMS, metrics={**many, **BACKPROP}),
            run("wide", params={**PARAMS, "train.epochs": 20},
                metrics={**{k: v + 0.1 for k, v in many.items()}, **BACKPROP}))
    table = ExpTable(runs, (*many, *BACKPROP), tuple(PARAMS))
    lines = exptable.export(table, width=120).splitlines()
    assert max(map(len, lines)) <= 120
    assert lines[0].split()[:5] == ["run", "rev", "state", "train.epochs", "metric_00"]
    notes = " ".join(line.strip() for line in lines[3:])
    assert notes.startswith("equal in every row: f 0.26887 · grads.w1 -0.161 · grads.x1 0.345 · "
                            "3 unchanged params left out for width: metric_")
    assert notes.endswith(" · metric_29 (--all shows every column)")
    wide = exptable.export(table, everything=True).splitlines()
    assert "metric_29" in wide[0] and "grads.x1" in wide[0] and len(wide) == 3, "every column, no notes"
