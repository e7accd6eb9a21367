"""A sweep at a glance: the param the runs differ in, and the --vs table as text and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from mnist_dvc.analysis.between_runs import INTERVAL_SCOPE, MEASURED, STACK_SHARE, RunValues
from mnist_dvc.analysis.vs_param import varying_param, vs_csv, vs_table, vs_text

ACC, LR = "best_test_accuracy", "train.learning_rate"
TIMED = {"model_a": MEASURED}
RUNS = [RunValues("lr-0.002", {"model_a": {ACC: {42: 0.975, 43: 0.977, 44: 0.979}}}, TIMED),
        RunValues("lr-0.001", {"model_a": {ACC: {42: 0.981, 43: 0.982, 44: 0.983}}}, TIMED),
        RunValues("lr-0.0005", {"model_a": {ACC: {42: 0.98, 43: 0.985}}}, TIMED)]
PARAMS = {"lr-0.002": {LR: 0.002, "train.epochs": 5}, "lr-0.001": {LR: 0.001, "train.epochs": 5},
          "lr-0.0005": {LR: 0.0005, "train.epochs": 5}}


def test_the_one_numeric_param_that_differs():
    assert varying_param(PARAMS).param == LR
    assert varying_param({"a": {LR: 0.1}, "b": {LR: 0.1}}).message.startswith("The runs have the same params")
    several = varying_param({"a": {LR: 0.1, "train.epochs": 5}, "b": {LR: 0.2, "train.epochs": 6}})
    assert (several.param, several.differing) == (None, ("train.epochs", LR))
    act, stack = "models.model_a.activation", "models.model_a.stack_seeds"
    words = varying_param({"a": {act: "relu"}, "b": {act: "tanh"}})
    assert words.param is None and "not a number" in words.message
    flags = varying_param({"a": {stack: True}, "b": {stack: False}})
    assert flags.param is None, "a yes/no param is not a number to draw against"


def test_text_table():
    """Rows by learning rate; 0.001: mean 98.20%, 95% CI 98.2 ± 4.303 · 0.1 / sqrt 3 = 97.95 to 98.45."""
    lines = vs_text(vs_table(RUNS, PARAMS, LR, ACC)).splitlines()
    assert lines[0].startswith("Best test accuracy (epoch picked on test set) vs train.learning_rate")
    assert lines[2:6] == [
        "model    train.learning_rate  run        n  value   95% CI                           seeds",
        "model_a  0.0005               lr-0.0005  2  98.25%  no interval: fewer than 3 seeds  "
        "42: 98.00%, 43: 98.50%",
        "model_a  0.001                lr-0.001   3  98.20%  97.95 to 98.45%                  "
        "42: 98.10%, 43: 98.20%, 44: 98.30%",
        "model_a  0.002                lr-0.002   3  97.70%  97.20 to 98.20%                  "
        "42: 97.50%, 43: 97.70%, 44: 97.90%",
    ]
    assert lines[-1] == INTERVAL_SCOPE


def test_csv_keeps_every_number():
    rows = list(csv.DictReader(io.StringIO(vs_csv(vs_table(RUNS, PARAMS, LR, ACC)))))
    assert [row["run"] for row in rows] == ["lr-0.0005", "lr-0.001", "lr-0.002"]
    first, second = rows[0], rows[1]
    assert (first[LR], first["n"], first["ci_low"], first["seed_44"]) == ("0.0005", "2", "", "")
    assert float(first["value"]) == pytest.approx(0.9825)
    assert float(second["ci_low"]) == pytest.approx(0.982 - 4.303 * 0.001 / 3 ** 0.5, rel=1e-5)
    assert [float(second[f"seed_{s}"]) for s in (42, 43, 44)] == [0.981, 0.982, 0.983]


def test_csv_says_what_the_interval_covers_in_a_column_so_it_stays_one_table():
    """A `#` line or a note row breaks csv.DictReader and pandas.read_csv; a column keeps every row whole."""
    text = vs_csv(vs_table(RUNS, PARAMS, LR, ACC))
    rows = list(csv.reader(io.StringIO(text)))
    assert len({len(row) for row in rows}) == 1, "every row has the header's columns"
    assert [row["ci_covers"] for row in csv.DictReader(io.StringIO(text))] == [INTERVAL_SCOPE] * 3


def test_other_differences_are_said_and_time_has_no_mean():
    time = "train_time_s"
    runs = [RunValues("a", {"model_a": {time: {42: 30.0, 43: 30.0, 44: 30.0}}}, {"model_a": STACK_SHARE}),
            RunValues("b", {"model_a": {time: {42: 40.0, 43: 40.0, 44: 40.0}}}, {"model_a": STACK_SHARE})]
    params = {"a": {LR: 0.001, "train.epochs": 5}, "b": {LR: 0.002, "train.epochs": 6}}
    table = vs_table(runs, params, LR, time)
    assert table.others == ("train.epochs",)
    text = vs_text(table)
    assert "The runs also differ in train.epochs: the trend is not train.learning_rate's alone." in text
    assert "30.0 s (one measurement)" in text
    assert [row["value_is"] for row in csv.DictReader(io.StringIO(vs_csv(table)))] == ["one measurement"] * 2


def test_a_param_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError, match=r"lr-0\.001: param train\.epochs is None, not a number"):
        vs_table(RUNS, {**PARAMS, "lr-0.001": {LR: 0.001}}, "train.epochs", ACC)
