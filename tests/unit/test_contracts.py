"""docs/contracts.md (for people), mnist_dvc/core/contracts.py and the records of
mnist_dvc/core/records/ (for code) describe the same files."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import msgspec
import pytest

from mnist_dvc.analysis.comparison import CRITERIA
from mnist_dvc.core import contracts
from mnist_dvc.core.records import backprop, comparison, data, evaluation, history, progress
from mnist_dvc.core.records.base import Record, read_record
from tests.helpers import FIXTURES, ROOT

DOC = (ROOT / "docs" / "contracts.md").read_text()
ROW = re.compile(r"^\| `([^`]+)` \| `([^`]+)` \|", re.MULTILINE)
JSON_ROW = re.compile(r"^\| `([^`]+\.json)` \| `[^`]+` \| [^(|]*\(`records\.(\w+)\.(\w+)`\)", re.MULTILINE)
RECORDS = [value for module in (backprop, comparison, data, evaluation, history, progress)
           for value in vars(module).values()
           if isinstance(value, type) and issubclass(value, Record) and value.__module__ == module.__name__]


def concrete(pattern: str) -> Path:
    """One real path of a documented pattern: `reports/eval/<model>.json` -> reports/eval/model_a.json,
    `models/<model>/seed_<s>.keras` -> models/model_a/seed_42.keras."""
    path = pattern.replace("<model>", "model_a").replace("<s>", "42").replace("*", "x")
    return Path(re.sub(r"\{([^,}]+)[^}]*\}", r"\1", path))


def documented() -> list[tuple[str, str]]:
    rows = ROW.findall(DOC)
    assert rows, "docs/contracts.md has no file table"
    return rows


@pytest.mark.parametrize(("pattern", "stage"), documented())
def test_each_documented_file_is_written_by_the_stage_the_code_names(pattern: str, stage: str) -> None:
    assert contracts.writer(concrete(pattern)) == stage.replace("<model>", "model_a")


def test_every_path_in_the_contracts_module_is_documented() -> None:
    paths = [value for name, value in vars(contracts).items() if isinstance(value, Path) and name.isupper()]
    assert paths
    patterns = [concrete(pattern) for pattern, _ in documented()]
    for path in paths:
        assert any(p == path or path in p.parents for p in patterns), f"{path} is not in docs/contracts.md"


def fields(record: type[Record]) -> list[str]:
    return [field.encode_name for field in msgspec.structs.fields(record)]


def test_the_progress_example_is_the_record() -> None:
    example = json.loads(re.search(r"```json\n(.*?)```", DOC, re.DOTALL).group(1))
    assert set(example) | {"error"} == set(fields(progress.Progress))
    assert set(example["last"]) == set(fields(progress.LastEpoch))
    assert set(example["best"]) == set(fields(progress.BestSoFar))
    progress.Progress.from_text(json.dumps(example), "docs/contracts.md")
    for state in contracts.PROGRESS_STATES:
        assert f"`{state}`" in DOC


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__name__)
def test_every_field_of_every_record_is_documented(record: type[Record]) -> None:
    missing = [name for name in fields(record) if f"`{name}`" not in DOC and f'"{name}"' not in DOC]
    assert missing == []


@pytest.mark.parametrize("names", [
    [f"`plots/metrics/{path}`" for path in contracts.SERIES.values()],
    [f"`{key}`" for key in (*contracts.CRITERION_KEYS, *contracts.VERDICTS, *contracts.SEED_TESTS)],
    [f"`{column}`" for column in contracts.ERROR_COLUMNS],
    [f"`{column}`" for column in (*contracts.HISTORY_COLUMNS, *contracts.TIMINGS)],
    [f"`{','.join(contracts.PREDICTION_COLUMNS)}`", f"`{','.join(contracts.CONFUSION_COLUMNS)}`"],
], ids=["series", "criteria-verdicts-tests", "error-columns", "history-columns", "prediction-columns"])
def test_keys_and_columns_are_documented(names: list[str]) -> None:
    missing = [name for name in names if name not in DOC]
    assert missing == []


def test_the_criteria_are_the_comparison_table_and_run_summary_fields() -> None:
    assert tuple(criterion.key for criterion in CRITERIA) == contracts.CRITERION_KEYS
    assert set(contracts.CRITERION_KEYS) <= set(fields(comparison.RunSummary))


def test_each_json_file_names_its_record_which_reads_the_committed_file() -> None:
    """Every JSON file in the table names its record (`records.<module>.<name>`), and that record
    decodes the project's committed file (the 500-epoch run) or, for a file not committed in the
    root, the fixture's."""
    rows = JSON_ROW.findall(DOC)
    assert {pattern for pattern, _, _ in rows} == {pattern for pattern, _ in documented() if
                                                   pattern.endswith(".json")}
    for pattern, module, name in rows:
        kind = getattr(importlib.import_module(f"mnist_dvc.core.records.{module}"), name)
        path = ROOT / concrete(pattern)
        read_record(kind, path if path.exists() else FIXTURES / "finished" / concrete(pattern))


def test_predictions_are_found_per_seed(tmp_path: Path) -> None:
    seed_7 = tmp_path / "reports/predictions/model_a/seed_7.csv"
    assert contracts.predictions_file("model_a", 7, tmp_path) == seed_7
    assert contracts.prediction_seeds("model_a", tmp_path) == []
    for name in ("seed_43.csv", "seed_7.csv", "seed_x.csv", "seed_8.csv.tmp", "seed_09.csv", "notes.txt"):
        path = tmp_path / "reports/predictions/model_a" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("actual,predicted\n")
    assert contracts.prediction_seeds("model_a", tmp_path) == [7, 43]
    assert contracts.prediction_seeds("model_b", tmp_path) == []


def test_the_writer_of_an_unknown_file_is_none() -> None:
    assert contracts.writer("README.md") == ""
    assert contracts.writer("metrics/train/model_b/seed_3/progress.json") == "train@model_b"
    assert contracts.writer("models/model_b/seed_3.keras") == "train@model_b"
    assert contracts.writer("reports/predictions/model_b/seed_3.csv") == "evaluate"


def test_a_models_seeds_come_from_one_function_of_entry_names() -> None:
    """A disk listing (names) and a DVCFileSystem listing (paths) give the same seeds."""
    names = ["seed_44", "seed_0", "seed_42", "seed_007", "seed_x", "seeds_1", "plots", "seed_42"]
    assert contracts.seeds_in(names) == [0, 42, 44]
    assert contracts.seeds_in(f"metrics/train/model_a/{name}" for name in names) == [0, 42, 44]
    files = ["seed_43.csv", "seed_7.csv", "seed_8.csv.tmp", "seed_09.csv", "seed_5", "notes.txt"]
    assert contracts.seeds_in(files, ".csv") == [7, 43]
    assert contracts.seeds_in([]) == []


def test_seed_paths_and_the_seeds_found_on_disk(tmp_path: Path) -> None:
    assert contracts.seed_dir("model_a", 7, tmp_path) == tmp_path / "metrics/train/model_a/seed_7"
    assert contracts.progress_file("model_a", 7) == Path("metrics/train/model_a/seed_7/progress.json")
    assert contracts.model_file("model_a", 7) == Path("models/model_a/seed_7.keras")
    run = contracts.run_dir("model_a", tmp_path)
    assert contracts.seeds_of(run) == []  # no folder yet
    for name in ("seed_44", "seed_0", "seed_42", "seed_007", "seed_x", "seeds_1", "plots"):
        (run / name).mkdir(parents=True)
    (run / "seed_5").write_text("a file, not a seed folder")
    assert contracts.seeds_of(run) == [0, 42, 44]
    assert [contracts.seed_dir("model_a", s, tmp_path).is_dir() for s in (0, 42, 44)] == [True] * 3
