"""The per-image test predictions file (`predictions_file` in contracts.py): top-2 classes, writer, reader.

The evaluate stage writes one row per test image: the true digit, the model's two most
probable digits and their softmax probabilities. DVC's confusion plot reads the first two
columns; the plots stage and the dashboard's Errors tab read the file with
`read_predictions` (`parse_predictions` for its text read from a revision), the one reader,
which also accepts the two-column files written before the probabilities were added (an
older revision's, or a workspace not re-evaluated yet). Only numpy here: the dashboard
imports this module.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from mnist_dvc.core.contracts import CLASSES, CONFUSION_COLUMNS, PREDICTION_COLUMNS, rerun_hint
from mnist_dvc.core.errors import BadInput, MissingInput

DIGIT_COLUMNS = ("actual", "predicted", "second")


def top_two(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(classes (N, 2), probabilities (N, 2)): each row's two most probable classes, most probable first.

    A tie goes to the lower class, as with `argmax`, so column 0 is the model's prediction.
    """
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :2]
    return order, np.take_along_axis(probabilities, order, axis=1)


def predictions_csv(actual: np.ndarray, classes: np.ndarray, probabilities: np.ndarray) -> str:
    """The file's text: a header, then `actual,predicted,p_predicted,second,p_second` per test image.

    `classes` and `probabilities` are `top_two`'s; probabilities keep 6 significant digits.
    """
    rows = "".join(
        f"{a},{c[0]},{p[0]:.6g},{c[1]},{p[1]:.6g}\n"
        for a, c, p in zip(actual.tolist(), classes.tolist(), probabilities.tolist(), strict=True)
    )
    return ",".join(PREDICTION_COLUMNS) + "\n" + rows


@dataclass(frozen=True, eq=False)
class Predictions:
    """One model's predictions on the test set, row i = test image i.

    The top-2 arrays are None in a file written before they existed. Compared by identity:
    a reader keeps the same object until the file changes.
    """

    actual: np.ndarray  # int64 (N,)
    predicted: np.ndarray  # int64 (N,)
    p_predicted: np.ndarray | None  # float64 (N,)
    second: np.ndarray | None  # int64 (N,)
    p_second: np.ndarray | None  # float64 (N,)

    def __len__(self) -> int:
        return len(self.actual)

    @property
    def has_top2(self) -> bool:
        return self.p_predicted is not None


def read_predictions(path: Path | str) -> Predictions:
    """The file at `path`, checked: known columns, digits 0-9, probabilities in [0, 1], top-2 in order.

    A missing file is a MissingInput, anything else wrong a one-line BadInput naming the line.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            return _parse(f, path)
    except FileNotFoundError:
        raise MissingInput(path, rerun_hint(path)) from None
    except UnicodeDecodeError:
        raise BadInput(path, "not UTF-8 text (corrupt)", rerun_hint(path, force=True)) from None


def parse_predictions(text: str, path: Path) -> Predictions:
    """The same checks on a file's text read elsewhere (another run's revision); `path` names it."""
    return _parse(io.StringIO(text), Path(path))


def _parse(f: TextIO, path: Path) -> Predictions:
    redo = rerun_hint(path, force=True)
    columns = tuple(f.readline().strip().split(","))
    if columns not in (PREDICTION_COLUMNS, CONFUSION_COLUMNS):
        raise BadInput(path, f"has columns {list(columns)}, expected {','.join(PREDICTION_COLUMNS)}", redo)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # numpy warns about a header-only file
            table = np.loadtxt(f, delimiter=",", ndmin=2, dtype=np.float64)
    except UnicodeDecodeError:
        raise  # the caller says "not UTF-8 text"
    except ValueError as exc:
        raise BadInput(path, f"not a readable CSV ({str(exc).splitlines()[0]})", redo) from None
    if not len(table):
        raise BadInput(path, "has no rows", redo)
    if table.shape[1] != len(columns):
        raise BadInput(path, f"has {table.shape[1]} values per row under {len(columns)} columns", redo)
    named = dict(zip(columns, table.T, strict=True))
    _check(path, named, redo)
    digits = {name: named[name].astype(np.int64) for name in DIGIT_COLUMNS if name in named}
    if len(columns) == len(CONFUSION_COLUMNS):
        return Predictions(digits["actual"], digits["predicted"], None, None, None)
    return Predictions(digits["actual"], digits["predicted"], named["p_predicted"], digits["second"],
                       named["p_second"])


def _check(path: Path, named: dict[str, np.ndarray], redo: str) -> None:
    """The first line that breaks the contract, said in one line (line 2 is the first row)."""

    def fail(bad: np.ndarray, column: str, expected: str) -> None:
        if bad.any():
            row = int(np.argmax(bad))
            value = named[column][row]
            raise BadInput(path, f"line {row + 2}: {column} is {value:g}, expected {expected}", redo)

    for column in DIGIT_COLUMNS:
        if column in named:
            values = named[column]
            fail((values != np.floor(values)) | (values < 0) | (values >= CLASSES), column, "a digit 0-9")
    if "p_predicted" not in named:
        return
    for column in ("p_predicted", "p_second"):
        values = named[column]
        fail(~((values >= 0) & (values <= 1)), column, "a probability in [0, 1]")
    fail(named["second"] == named["predicted"], "second", "a digit other than the prediction")
    fail(named["p_second"] > named["p_predicted"], "p_second", "at most p_predicted")
