"""The per-image predictions file: top-2 from softmax outputs, its writer and its one reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_dvc.analysis.predictions import predictions_csv, read_predictions, top_two
from mnist_dvc.core.errors import BadInput, MissingInput


def test_top_two_are_the_two_most_probable_classes_most_probable_first() -> None:
    probabilities = np.array([
        [0.05, 0.7, 0.0, 0.0, 0.2, 0.05, 0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.1, 0.8],
        [0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.2, 0.0],  # a tie: the lower class first, as argmax
    ], dtype=np.float32)
    classes, p = top_two(probabilities)
    assert classes.tolist() == [[1, 4], [9, 3], [0, 7]]
    np.testing.assert_allclose(p, [[0.7, 0.2], [0.8, 0.1], [0.4, 0.4]], rtol=1e-6)
    assert classes[:, 0].tolist() == np.argmax(probabilities, axis=1).tolist()


def test_written_rows_read_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=50).astype(np.float32)
    actual = rng.integers(0, 10, size=50)
    classes, p = top_two(probabilities)
    path = tmp_path / "model_a.csv"
    path.write_text(predictions_csv(actual, classes, p))
    assert path.read_text().splitlines()[0] == "actual,predicted,p_predicted,second,p_second"
    rows = read_predictions(path)
    assert len(rows) == 50 and rows.has_top2
    assert rows.actual.tolist() == actual.tolist()
    assert rows.predicted.tolist() == classes[:, 0].tolist()
    assert rows.second.tolist() == classes[:, 1].tolist()
    np.testing.assert_allclose(rows.p_predicted, p[:, 0], rtol=1e-5)
    np.testing.assert_allclose(rows.p_second, p[:, 1], rtol=1e-5)


def test_a_file_from_before_the_top2_columns_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("actual,predicted\n7,7\n2,3\n")
    rows = read_predictions(path)
    assert rows.actual.tolist() == [7, 2] and rows.predicted.tolist() == [7, 3]
    assert not rows.has_top2 and rows.second is None and rows.p_second is None


HEADER = "actual,predicted,p_predicted,second,p_second\n"


@pytest.mark.parametrize(("content", "problem"), [
    ("a,b\n1,2\n", "has columns ['a', 'b'], expected actual,predicted,p_predicted,second,p_second"),
    (HEADER, "has no rows"),
    ("", "has columns [''], expected"),
    (HEADER + "7,7,0.9,1,0.05\n3,x,0.9,1,0.05\n", "not a readable CSV"),
    (HEADER + "7,7,0.9,1\n", "has 4 values per row under 5 columns"),
    (HEADER + "7,7,0.9,1,0.05\n3,10,0.9,1,0.05\n", "line 3: predicted is 10, expected a digit 0-9"),
    (HEADER + "7,2.5,0.9,1,0.05\n", "line 2: predicted is 2.5, expected a digit 0-9"),
    (HEADER + "7,7,1.5,1,0.05\n", "line 2: p_predicted is 1.5, expected a probability in [0, 1]"),
    (HEADER + "7,7,nan,1,0.05\n", "line 2: p_predicted is nan, expected a probability in [0, 1]"),
    (HEADER + "7,7,0.9,7,0.05\n", "line 2: second is 7, expected a digit other than the prediction"),
    (HEADER + "7,7,0.4,1,0.5\n", "line 2: p_second is 0.5, expected at most p_predicted"),
])
def test_a_damaged_file_is_one_line_naming_what_is_wrong(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "reports/predictions/model_a/seed_42.csv"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(BadInput) as error:
        read_predictions(path)
    assert problem in error.value.problem
    assert "\n" not in str(error.value)


def test_bytes_that_are_not_text_are_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "model_a.csv"
    path.write_bytes(b"actual,predicted\n\xff\xfe\n")
    with pytest.raises(BadInput, match="not UTF-8 text"):
        read_predictions(path)


def test_a_missing_file_says_which_stage_writes_it() -> None:
    with pytest.raises(MissingInput) as error:
        read_predictions(Path("reports/predictions/model_z/seed_42.csv"))
    assert str(error.value) == ("reports/predictions/model_z/seed_42.csv not found; "
                                "run `dvc repro evaluate` first")
