"""docs/contracts.md (for people) and mnist_dvc/core/contracts.py (for code) describe the same files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mnist_dvc.core import contracts
from tests.helpers import ROOT

DOC = (ROOT / "docs" / "contracts.md").read_text()
ROW = re.compile(r"^\| `([^`]+)` \| `([^`]+)` \|", re.MULTILINE)


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


def test_progress_states_and_keys_are_documented() -> None:
    example = json.loads(re.search(r"```json\n(.*?)```", DOC, re.DOTALL).group(1))
    assert set(example) == set(contracts.PROGRESS_KEYS)
    assert set(example["last"]) == set(contracts.PROGRESS_METRICS)
    for state in contracts.PROGRESS_STATES:
        assert f"`{state}`" in DOC


@pytest.mark.parametrize("names", [
    [f"`plots/metrics/{path}`" for path in contracts.SERIES.values()],
    [f"`{key}`" for key in contracts.SUMMARY_KEYS],
    [f"`{key}`" for key in contracts.VERDICTS],
    [f"`{column}`" for column in contracts.ERROR_COLUMNS],
    [f"`{name}`" for name in contracts.BACKPROP_CHECKS],
    [f"`{','.join(contracts.PREDICTION_COLUMNS)}`", f"`{','.join(contracts.CONFUSION_COLUMNS)}`"],
    [f'"{key}"' for key in contracts.HEADLINE],
    [f"`{key}`" for key in (*contracts.EVAL_KEYS, *contracts.STATS_KEYS, *contracts.DIFFERENCE_KEYS)],
    [f"`{name}`" for name in contracts.SEED_TESTS],
    [f"`{key}`" for key in contracts.BACKPROP_HEADLINE],
], ids=["series", "summary", "verdicts", "error-columns", "backprop-checks", "confusion-columns",
        "headline", "eval-stats-differences", "seed-tests", "backprop-headline"])
def test_keys_and_columns_are_documented(names: list[str]) -> None:
    missing = [name for name in names if name not in DOC]
    assert missing == []


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
