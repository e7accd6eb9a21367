"""The `plots` stage's inputs and figures: what is drawn, from which files, checked first.

`load_inputs` reads every seed's training log, the evaluation reports and the test images
and checks that they belong together (same models, same seeds, same test set) before
anything is drawn; `seed_curves` turns a model's seeds into one mean curve with its
min–max band; `figure_builders` names each PNG and the function of `figures` that draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mnist_dvc.analysis import figures
from mnist_dvc.analysis.history import load_trained_history, trained_seeds
from mnist_dvc.analysis.predictions import read_predictions
from mnist_dvc.core.atomic import atomic_path
from mnist_dvc.core.contracts import COMPARISON_FILE, SERIES, eval_file, predictions_file, rerun_hint
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.records.comparison import Comparison
from mnist_dvc.core.records.evaluation import Evaluation
from mnist_dvc.data.prepared import load_split


@dataclass(frozen=True)
class Inputs:
    """Everything the figures need, checked for consistency before any drawing."""

    models: list[str]
    curves: dict[str, pd.DataFrame]  # per model: `seed_curves` of its seeds
    comparison: Comparison
    shown_seed: dict[str, int]  # per model: the seed whose confusion matrix and mistakes are drawn
    predictions: dict[str, pd.DataFrame]  # the shown seed's `actual,predicted` rows
    test_loss: dict[str, float]  # the shown seed's final test loss
    x_test: np.ndarray

    def label(self, model: str) -> str:
        """The model's name in a per-seed figure's title; a one-seed run's titles stay plain."""
        seeds = self.comparison.models[model].seeds
        return model if len(seeds) == 1 else f"{model} (seed {self.shown_seed[model]})"


def seed_curves(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One model's seeds as one curve: per epoch that every seed logged, the mean of each column
    of the training log, its `<column>_min` and `<column>_max` over the seeds, and `seeds`."""
    common = sorted(set.intersection(*(set(frame["epoch"]) for frame in frames)))
    stacked = pd.concat([frame[frame["epoch"].isin(common)] for frame in frames], ignore_index=True)
    grouped = stacked.groupby("epoch")[list(SERIES)]
    curves = pd.concat([grouped.mean(), grouped.min().add_suffix("_min"), grouped.max().add_suffix("_max")],
                       axis=1).reset_index()
    curves["seeds"] = len(frames)
    return curves


def _read_predictions(path: Path, y_test: np.ndarray) -> pd.DataFrame:
    """The evaluate stage's `actual,predicted` per test image, which must match the prepared test labels."""
    rows = read_predictions(path)
    if len(rows) != len(y_test) or not np.array_equal(rows.actual, y_test):
        raise BadInput(path, f"does not match data/prepared/y_test.npy ({len(rows)} rows for "
                             f"{len(y_test)} test images, or other labels): it is stale", rerun_hint(path))
    return pd.DataFrame({"actual": rows.actual, "predicted": rows.predicted})

def _checked_comparison(models: list[str], seeds: dict[str, list[int]]) -> Comparison:
    """reports/comparison.json, which must compare these models on the seeds found on disk."""
    comparison = Comparison.read(COMPARISON_FILE)
    compared = comparison.models
    rerun = rerun_hint(COMPARISON_FILE).removesuffix(" first")
    if set(compared) != set(models):
        raise BadInput(COMPARISON_FILE, f"compares {', '.join(compared) or 'none'} but params.yaml has "
                                        f"{', '.join(models)}", rerun)
    for name in models:
        if compared[name].seeds != seeds[name]:
            raise BadInput(COMPARISON_FILE, f"compares {name}'s seeds {compared[name].seeds} but the "
                                            f"training logs have {seeds[name]}", rerun)
    return msgspec.structs.replace(comparison, models={name: compared[name] for name in models})


def load_inputs(models: list[str]) -> Inputs:
    """Read and cross-check every input; a missing or stale one is a one-line MissingInput or BadInput."""
    x_test, y_test = load_split("test", mmap=True)
    seeds = {name: trained_seeds(name) for name in models}
    curves = {name: seed_curves([load_trained_history(name, seed).to_frame() for seed in seeds[name]])
              for name in models}
    comparison = _checked_comparison(models, seeds)
    shown = {name: seeds[name][0] for name in models}
    predictions, test_loss = {}, {}
    for name in models:
        record = Evaluation.read(eval_file(name)).seeds.get(shown[name])
        if record is None:
            raise BadInput(eval_file(name), f"`seeds.{shown[name]}` is missing", rerun_hint(eval_file(name)))
        test_loss[name] = record.test_loss
        predictions[name] = _read_predictions(predictions_file(name, shown[name]), np.asarray(y_test))
    return Inputs(models, curves, comparison, shown, predictions, test_loss, x_test)


def figure_builders(inputs: Inputs) -> Iterator[tuple[str, Callable[[], Figure]]]:
    """(PNG name, figure maker) pairs; figures are made one at a time so only one is in memory."""
    c = inputs.curves
    for name in inputs.models:
        yield f"1_train_error_vs_time_{name}.png", lambda n=name: figures.train_error_vs_time(n, c[n])
    for name in inputs.models:
        yield f"2_error_vs_time_{name}.png", lambda n=name: figures.error_vs_time(n, c[n])
    for name in inputs.models:
        yield f"3_loss_vs_epoch_{name}.png", lambda n=name: figures.loss_vs_epoch(n, c[n])
    yield "4_loss_vs_epoch_all_models.png", lambda: figures.loss_vs_epoch_models(c)
    yield "5_test_accuracy_vs_epoch.png", lambda: figures.accuracy_vs_epoch_models(c)
    yield "6_comparison.png", lambda: figures.comparison_bars(inputs.comparison)
    for name in inputs.models:
        frame = inputs.predictions[name]
        yield f"7_confusion_{name}.png", lambda n=name, f=frame: figures.confusion_matrix(
            inputs.label(n), f["actual"].to_numpy(), f["predicted"].to_numpy(), inputs.test_loss[n])
    for name in inputs.models:
        frame = inputs.predictions[name]
        yield f"8_misclassified_{name}.png", lambda n=name, f=frame: figures.misclassified_digits(
            inputs.label(n), inputs.x_test, f["actual"].to_numpy(), f["predicted"].to_numpy())
    yield "9_best_test_accuracy_per_seed.png", lambda: figures.best_accuracy_per_seed(inputs.comparison)


def save_png(fig: Figure, target: Path) -> None:
    """PNG at the figure's own size and DPI, renamed into place only when complete."""
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=fig.dpi)


