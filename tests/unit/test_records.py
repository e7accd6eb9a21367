"""The records of the JSON contract files: every committed file reads and writes back byte for
byte, text read elsewhere decodes like a file, and a file that does not match is one line
naming the file and the key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnist_dvc.core.contracts import (
    BACKPROP_FILE,
    BACKPROP_REPORT,
    COMPARISON_FILE,
    DATA_REPORT,
    SUMMARY_FILE,
    eval_file,
    progress_file,
)
from mnist_dvc.core.errors import BadInput, MissingInput
from mnist_dvc.core.records.backprop import Backprop, BackpropHeadline
from mnist_dvc.core.records.base import read_record, write_record
from mnist_dvc.core.records.comparison import Comparison, Headline, Summary
from mnist_dvc.core.records.data import DataReport
from mnist_dvc.core.records.evaluation import Evaluation
from mnist_dvc.core.records.progress import Progress
from tests.helpers import FIXTURES, ROOT

FINISHED = FIXTURES / "finished"
PROGRESS = progress_file("model_a", 42)
# Every contract file committed in the project root (the 500-epoch run) and in the fixture.
COMMITTED = [
    (DataReport, ROOT / DATA_REPORT),
    (Summary, ROOT / SUMMARY_FILE),
    (Evaluation, ROOT / eval_file("model_a")),
    (Evaluation, ROOT / eval_file("model_b")),
    (Comparison, ROOT / COMPARISON_FILE),
    (BackpropHeadline, ROOT / BACKPROP_FILE),
    (Backprop, ROOT / BACKPROP_REPORT),
    (Progress, FINISHED / PROGRESS),
    (Comparison, FINISHED / COMPARISON_FILE),
]


@pytest.mark.parametrize(("kind", "path"), COMMITTED, ids=lambda x: str(x).removeprefix(str(ROOT) + "/"))
def test_a_committed_file_reads_and_writes_back_byte_for_byte(tmp_path: Path, kind, path: Path) -> None:
    record = read_record(kind, path)
    write_record(tmp_path / "again.json", record)
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()
    assert read_record(kind, tmp_path / "again.json") == record


def test_text_read_elsewhere_decodes_as_the_file_does() -> None:
    """The dashboard reads files at other git revisions as text (DVCFileSystem.read_text)."""
    path = FINISHED / COMPARISON_FILE
    record = Comparison.read(path)
    assert Comparison.from_text(path.read_text(), COMPARISON_FILE) == record
    assert Comparison.from_text(path.read_bytes(), COMPARISON_FILE) == record
    assert record.models["model_a"].runs[42].params == record.models["model_a"].params  # int seed keys


def test_keys_a_record_does_not_know_are_ignored() -> None:
    doc = {**json.loads((FINISHED / PROGRESS).read_text()), "epoch_s_per_seed": 0.4}
    assert Progress.from_text(json.dumps(doc), PROGRESS) == Progress.read(FINISHED / PROGRESS)


def damaged(path: Path, damage) -> str:
    doc = json.loads(path.read_text())
    damage(doc)
    return json.dumps(doc)


def _drop(keys: list, doc: dict) -> None:
    for key in keys[:-1]:
        doc = doc[key]
    del doc[keys[-1]]


def _set(keys: list, value: object, doc: dict) -> None:
    for key in keys[:-1]:
        doc = doc[key]
    doc[keys[-1]] = value


@pytest.mark.parametrize(("kind", "relative", "damage", "problem"), [
    (Comparison, COMPARISON_FILE, lambda d: _drop(["models", "model_b", "stats", "min_test_loss", "mean"], d),
     "`models.model_b.stats.min_test_loss.mean` is missing"),
    (Comparison, COMPARISON_FILE, lambda d: _drop(["winners", "train_time_s"], d),
     "`winners.train_time_s` is missing"),
    (Comparison, COMPARISON_FILE, lambda d: _set(["mcnemar", 0, "b01"], "81", d),
     "`mcnemar[0].b01`: expected `int`, got `str`"),
    (Evaluation, eval_file("model_a"), lambda d: _set(["seeds", "x42"], d["seeds"]["42"], d),
     "`seeds` has a key 'x42': expected `int`, got `str`"),
    (Progress, PROGRESS, lambda d: _set(["state"], "paused", d),
     "`state`: invalid enum value 'paused', expected one of running, finished, failed, interrupted"),
    (Progress, PROGRESS, lambda d: _set(["epoch"], -1, d), "`epoch`: expected `int` >= 0, got -1"),
    (Progress, PROGRESS, lambda d: _drop(["pid"], d), "`pid` is missing"),
], ids=["nested-missing", "decision-missing", "wrong-type", "seed-key", "state", "negative", "top-missing"])
def test_a_file_that_does_not_match_is_one_line_naming_the_file_and_the_key(
        kind, relative: Path, damage, problem: str) -> None:
    text = damaged(FINISHED / relative, damage)
    with pytest.raises(BadInput) as error:
        kind.from_text(text, relative)
    message = str(error.value)
    assert message.startswith(f"{relative}: {problem}; run `dvc repro -f ")
    assert "\n" not in message


@pytest.mark.parametrize(("content", "problem"), [
    ("", "empty file (being written?)"),
    ('{"model": "model_a", "se', "not valid JSON (line 1, column 22; half-written or corrupt)"),
    ("[1, 2]", "expected `object`, got `array`"),
])
def test_a_torn_or_foreign_file_is_one_line_too(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / PROGRESS
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(BadInput, match=r"^[^\n]*$") as error:
        Progress.read(path)
    assert f": {problem}; " in str(error.value)
    with pytest.raises(MissingInput, match="not found"):
        Progress.read(tmp_path / "nothing.json")


def test_a_float_subclass_is_written_as_json_dumps_wrote_it(tmp_path: Path) -> None:
    """numpy's float64 went through json.dumps as a float; through a record it still does."""
    values = dict(acc=np.float64(0.1) + np.float64(0.2), best_acc=0.5, loss=0.07, gap=0.01, time_s=1.5)
    write_record(tmp_path / "summary.json", {"model_a": Headline(**values, params=10)})
    written = json.loads((tmp_path / "summary.json").read_text())["model_a"]
    assert written == {**values, "params": 10} and repr(written["acc"]) == "0.30000000000000004"
    with pytest.raises(TypeError):
        write_record(tmp_path / "other.json", {"model_a": Headline(**{**values, "acc": np.float32(0.5)},
                                                                   params=10)})
    assert not (tmp_path / "other.json").exists()

