"""Stage `plots`: the assignment's figures as PNG files, plus the error curves DVC draws.

    python -m stages.plots

Loads the per-epoch training logs, the evaluation results and the test images,
checks that they belong together, then asks `stages.figures` for every picture
and saves each one atomically into `plots/figures/` (PNG names start with the number of
the figure kind, so a file listing follows the assignment's order).

It also writes `metrics/error/<model>.tsv` (epoch, cumulative training time,
training and testing error): DVC plots can put one file's column on x and
another's on y, but cannot compute 1 − accuracy, and the assignment's time
figures are about error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from stages import figures
from stages.atomic import atomic_path, write_text
from stages.cli import StageError, run_stage
from stages.history import TRAIN_DIR, load_history
from stages.params import load_params
from stages.prepared import CLASSES, load_split

PLOTS_DIR = Path("plots/figures")
ERROR_DIR = Path("metrics/error")
EVAL_DIR = Path("metrics/eval")
CONFUSION_DIR = Path("metrics/confusion")
COMPARISON_FILE = Path("metrics/comparison.json")
# What comparison_bars draws from each model's entry of comparison.json (docs/contracts.md).
COMPARED = ("best_train_accuracy", "best_test_accuracy", "final_test_accuracy", "min_train_loss",
            "min_test_loss", "generalization_gap", "train_time_s", "params", "epochs")


@dataclass(frozen=True)
class Inputs:
    """Everything the figures need, checked for consistency before any drawing."""

    models: list[str]
    histories: dict[str, pd.DataFrame]
    evals: dict[str, dict]
    confusion: dict[str, pd.DataFrame]
    comparison: dict
    x_test: np.ndarray


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_json(path: Path, maker: str) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StageError(f"{path} not found; run `dvc repro {maker}` first") from None
    except json.JSONDecodeError as exc:
        raise StageError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); "
                         f"run `dvc repro -f {maker}`") from None
    if not isinstance(data, dict):
        raise StageError(f"{path} should hold a JSON object; run `dvc repro -f {maker}`")
    return data


def _read_confusion(path: Path, y_test: np.ndarray) -> pd.DataFrame:
    """The evaluate stage's `actual,predicted` rows, which must match the prepared test labels."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise StageError(f"{path} not found; run `dvc repro evaluate` first") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StageError(f"{path} is not a readable CSV ({exc}); run `dvc repro -f evaluate`") from None
    if list(frame.columns) != ["actual", "predicted"]:
        raise StageError(f"{path} has columns {list(frame.columns)}, expected actual,predicted; "
                         "run `dvc repro -f evaluate`")
    values = frame.to_numpy()
    if not np.issubdtype(values.dtype, np.integer) or values.min(initial=0) < 0 \
            or values.max(initial=0) >= CLASSES:
        raise StageError(f"{path} holds values that are not digits 0-9; run `dvc repro -f evaluate`")
    if len(frame) != len(y_test) or not np.array_equal(frame["actual"].to_numpy(), y_test):
        raise StageError(f"{path} does not match data/prepared/y_test.npy ({len(frame)} rows for "
                         f"{len(y_test)} test images, or other labels): it is stale; "
                         "run `dvc repro evaluate`")
    return frame


def load_inputs(models: list[str]) -> Inputs:
    """Read and cross-check every input; a missing or stale one is a one-line StageError."""
    x_test, y_test = load_split("test", mmap=True)
    histories, evals, confusion = {}, {}, {}
    for name in models:
        history = load_history(TRAIN_DIR / name)
        if not len(history):
            raise StageError(f"{TRAIN_DIR / name} has no complete epoch logged; "
                             f"run `dvc repro train@{name}` first")
        histories[name] = history.to_frame()
        evals[name] = _read_json(EVAL_DIR / f"{name}.json", "evaluate")
        if not _is_number(evals[name].get("test_loss")):
            raise StageError(f"{EVAL_DIR / name}.json has no numeric test_loss; run `dvc repro -f evaluate`")
        confusion[name] = _read_confusion(CONFUSION_DIR / f"{name}.csv", np.asarray(y_test))
    comparison = _read_json(COMPARISON_FILE, "evaluate")
    compared = comparison.get("models")
    if not isinstance(compared, dict) or set(compared) != set(models):
        found = ", ".join(compared) if isinstance(compared, dict) else "none"
        raise StageError(f"{COMPARISON_FILE} compares {found} but params.yaml has {', '.join(models)}; "
                         "run `dvc repro evaluate`")
    for name in models:
        missing = [key for key in COMPARED if not _is_number(compared[name].get(key))]
        if missing:
            raise StageError(f"{COMPARISON_FILE}: models.{name} lacks {', '.join(missing)}; "
                             "run `dvc repro -f evaluate`")
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


def _remove_others(folder: Path, pattern: str, keep: set[str]) -> None:
    """Drop files of a model no longer in params.yaml (`dvc repro` empties outputs, a direct run does not)."""
    for path in folder.glob(pattern):
        if path.name not in keep:
            path.unlink()


def main() -> int:
    models = list(load_params().models)
    inputs = load_inputs(models)
    written: set[str] = set()
    for name in models:
        table = error_table(inputs.histories[name])
        write_text(ERROR_DIR / f"{name}.tsv", table.to_csv(sep="\t", index=False, float_format="%.8g"))
    _remove_others(ERROR_DIR, "*.tsv", {f"{name}.tsv" for name in models})
    for filename, make in figure_builders(inputs):
        save_png(make(), PLOTS_DIR / filename)
        written.add(filename)
    _remove_others(PLOTS_DIR, "*.png", written)
    print(f"plots: {len(written)} figures in {PLOTS_DIR}/, error curves in {ERROR_DIR}/")
    return 0


if __name__ == "__main__":
    run_stage(main)
