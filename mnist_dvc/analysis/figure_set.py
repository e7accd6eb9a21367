"""The `plots` stage's inputs and figures: what is drawn, from which files, checked first.

`load_inputs` reads the training logs, the evaluation results and the test images and
checks that they belong together (same models, same test set) before anything is drawn;
`figure_builders` names each PNG and the function of `figures` that draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mnist_dvc.analysis import figures
from mnist_dvc.analysis.history import load_trained_history
from mnist_dvc.analysis.predictions import read_predictions
from mnist_dvc.core.atomic import atomic_path
from mnist_dvc.core.contracts import (
    COMPARISON_FILE,
    SUMMARY_KEYS,
    eval_file,
    predictions_file,
    rerun_hint,
)
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import finite_number, read_json_object
from mnist_dvc.data.prepared import load_split


@dataclass(frozen=True)
class Inputs:
    """Everything the figures need, checked for consistency before any drawing."""

    models: list[str]
    histories: dict[str, pd.DataFrame]
    evals: dict[str, dict]
    confusion: dict[str, pd.DataFrame]
    comparison: dict
    x_test: np.ndarray


def _read_confusion(path: Path, y_test: np.ndarray) -> pd.DataFrame:
    """The evaluate stage's `actual,predicted` per test image, which must match the prepared test labels."""
    rows = read_predictions(path)
    if len(rows) != len(y_test) or not np.array_equal(rows.actual, y_test):
        raise BadInput(path, f"does not match data/prepared/y_test.npy ({len(rows)} rows for "
                             f"{len(y_test)} test images, or other labels): it is stale", rerun_hint(path))
    return pd.DataFrame({"actual": rows.actual, "predicted": rows.predicted})


def load_inputs(models: list[str]) -> Inputs:
    """Read and cross-check every input; a missing or stale one is a one-line MissingInput or BadInput."""
    x_test, y_test = load_split("test", mmap=True)
    histories, evals, confusion = {}, {}, {}
    for name in models:
        histories[name] = load_trained_history(name).to_frame()
        evals[name] = read_json_object(eval_file(name))
        if finite_number(evals[name].get("test_loss")) is None:
            raise BadInput(eval_file(name), "has no numeric test_loss",
                           rerun_hint(eval_file(name), force=True))
        confusion[name] = _read_confusion(predictions_file(name), np.asarray(y_test))
    comparison = read_json_object(COMPARISON_FILE)
    compared = comparison.get("models")
    if not isinstance(compared, dict) or set(compared) != set(models):
        found = ", ".join(compared) if isinstance(compared, dict) else "none"
        raise BadInput(COMPARISON_FILE, f"compares {found} but params.yaml has {', '.join(models)}",
                       rerun_hint(COMPARISON_FILE).removesuffix(" first"))
    for name in models:
        missing = [key for key in SUMMARY_KEYS if finite_number(compared[name].get(key)) is None]
        if missing:
            raise BadInput(COMPARISON_FILE, f"models.{name} lacks {', '.join(missing)}",
                           rerun_hint(COMPARISON_FILE, force=True))
    return Inputs(models, histories, evals, confusion,
                  {**comparison, "models": {name: compared[name] for name in models}}, x_test)


def error_table(history: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: cumulative training time and error = 1 − accuracy (a fraction, like the accuracy log)."""
    return pd.DataFrame({
        "step": history["epoch"],
        "train_time_s": history["train_time_s"],
        "train_error": 1.0 - history["train_accuracy"],
        "test_error": 1.0 - history["test_accuracy"],
    })


def figure_builders(inputs: Inputs) -> Iterator[tuple[str, Callable[[], Figure]]]:
    """(PNG name, figure maker) pairs; figures are made one at a time so only one is in memory."""
    h = inputs.histories
    for name in inputs.models:
        yield f"1_train_error_vs_time_{name}.png", lambda n=name: figures.train_error_vs_time(n, h[n])
    for name in inputs.models:
        yield f"2_error_vs_time_{name}.png", lambda n=name: figures.error_vs_time(n, h[n])
    for name in inputs.models:
        yield f"3_loss_vs_epoch_{name}.png", lambda n=name: figures.loss_vs_epoch(n, h[n])
    yield "4_loss_vs_epoch_all_models.png", lambda: figures.loss_vs_epoch_models(h)
    yield "5_test_accuracy_vs_epoch.png", lambda: figures.accuracy_vs_epoch_models(h)
    yield "6_comparison.png", lambda: figures.comparison_bars(inputs.comparison)
    for name in inputs.models:
        frame = inputs.confusion[name]
        yield f"7_confusion_{name}.png", lambda n=name, f=frame: figures.confusion_matrix(
            n, f["actual"].to_numpy(), f["predicted"].to_numpy(), inputs.evals[n]["test_loss"])
    for name in inputs.models:
        frame = inputs.confusion[name]
        yield f"8_misclassified_{name}.png", lambda n=name, f=frame: figures.misclassified_digits(
            n, inputs.x_test, f["actual"].to_numpy(), f["predicted"].to_numpy())


def save_png(fig: Figure, target: Path) -> None:
    """PNG at the figure's own size and DPI, renamed into place only when complete."""
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=fig.dpi)


