"""Every file the stages share: paths, shapes, states and keys, named once.

Stages write these files; other stages, the dashboard, the plots and outside
scripts read them. Writers and readers both import the names from here, so a
path or key cannot drift between them. docs/contracts.md describes the same
files for people; tests/unit/test_contracts.py checks that the two agree.
Paths are relative to the project root (where dvc.yaml is).
"""

from __future__ import annotations

import re
from pathlib import Path

# --- data: `download`, `prepare` ------------------------------------------------------------

IMAGE_SIDE = 28
FEATURES = IMAGE_SIDE * IMAGE_SIDE  # 784 pixels per image, row by row
CLASSES = 10  # digits 0-9
SPLITS = ("train", "test")

RAW_DIR = Path("data/raw")
# split -> (images file, labels file) in RAW_DIR: the four original MNIST files.
RAW_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

PREPARED_DIR = Path("data/prepared")
DATA_METRICS = Path("metrics/data.json")


def prepared_file(array: str, split: str, root: Path = PREPARED_DIR) -> Path:
    """`x_<split>.npy` (float32 (N, FEATURES)) or `y_<split>.npy` (uint8 (N,))."""
    return Path(root) / f"{array}_{split}.npy"


# --- training: `train@<model>` ----------------------------------------------------------------

TRAIN_DIR = Path("metrics/train")
MODELS_DIR = Path("models")
PROGRESS_NAME = "progress.json"
PROGRESS_STATES = ("running", "finished", "failed", "interrupted")
# Keys of progress.json; `error` is present only when failed or interrupted.
PROGRESS_KEYS = ("model", "state", "epoch", "epochs", "elapsed_s", "eta_s", "epoch_s", "updated_at",
                 "pid", "backend", "last", "best")
PROGRESS_METRICS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")

# The training log: history column -> DVCLive TSV under <run dir>/plots/metrics/;
# the TSV's value column is named like the file's stem.
SERIES = {
    "train_loss": "train/loss.tsv",
    "train_accuracy": "train/accuracy.tsv",
    "test_loss": "eval/loss.tsv",
    "test_accuracy": "eval/accuracy.tsv",
    "epoch_s": "time/epoch_s.tsv",
    "train_time_s": "time/train_time_s.tsv",
}
# DVCLive metric name of each column (what `live.log_metric` is given).
SERIES_METRICS = {column: path.removesuffix(".tsv") for column, path in SERIES.items()}


def run_dir(model: str, root: Path = Path()) -> Path:
    """The DVCLive folder of one model's training run."""
    return Path(root) / TRAIN_DIR / model


def progress_file(model: str, root: Path = Path()) -> Path:
    return run_dir(model, root) / PROGRESS_NAME


def series_file(run: Path, column: str) -> Path:
    return Path(run) / "plots" / "metrics" / SERIES[column]


def model_file(model: str, root: Path = Path()) -> Path:
    return Path(root) / MODELS_DIR / f"{model}.keras"


# --- evaluation: `evaluate` -------------------------------------------------------------------

EVAL_DIR = Path("metrics/eval")
CONFUSION_DIR = Path("metrics/confusion")
# The per-image test predictions: `actual,predicted` first (what DVC's confusion plot reads), then
# the model's softmax probability of its prediction and its second choice with that probability.
CONFUSION_COLUMNS = ("actual", "predicted")
PREDICTION_COLUMNS = (*CONFUSION_COLUMNS, "p_predicted", "second", "p_second")
# The same rows per seed, in runs that train several seeds (docs/contracts.md).
PREDICTIONS_DIR = Path("reports/predictions")
COMPARISON_FILE = Path("metrics/comparison.json")
# Keys of each model's entry under `models` in comparison.json.
SUMMARY_KEYS = ("best_train_accuracy", "best_test_accuracy", "best_test_epoch", "final_test_accuracy",
                "min_train_loss", "min_test_loss", "generalization_gap", "train_time_s", "params", "epochs")
VERDICTS = ("accuracy", "loss", "gap", "time")
SEED_FILE = re.compile(r"seed_(\d+)\.csv")


def eval_file(model: str, root: Path = Path()) -> Path:
    return Path(root) / EVAL_DIR / f"{model}.json"


def predictions_file(model: str, seed: int | None = None, root: Path = Path()) -> Path:
    """One model's per-image test predictions (PREDICTION_COLUMNS, one row per test image).

    Every writer and reader takes the path from here: `seed` None is the one file of a
    single-seed run, a seed names that seed's file of a multi-seed run.
    """
    if seed is None:
        return Path(root) / CONFUSION_DIR / f"{model}.csv"
    return Path(root) / PREDICTIONS_DIR / model / f"seed_{seed}.csv"


def prediction_seeds(model: str, root: Path = Path()) -> list[int]:
    """The seeds whose predictions files are on disk, sorted; [] where the run has one file per model."""
    names = (path.name for path in (Path(root) / PREDICTIONS_DIR / model).glob("seed_*.csv"))
    return sorted(int(match.group(1)) for match in map(SEED_FILE.fullmatch, names) if match)


# --- plots: `plots` ---------------------------------------------------------------------------

FIGURES_DIR = Path("plots/figures")
ERROR_DIR = Path("metrics/error")
ERROR_COLUMNS = ("step", "train_time_s", "train_error", "test_error")


def error_file(model: str, root: Path = Path()) -> Path:
    return Path(root) / ERROR_DIR / f"{model}.tsv"


# --- backprop: `backprop` ---------------------------------------------------------------------

BACKPROP_FILE = Path("metrics/backprop.json")
BACKPROP_CHECKS = ("tensorflow", "finite_difference")


# --- who writes what --------------------------------------------------------------------------

# Folder or file -> the stage that writes it, most specific first.
_WRITERS = (
    (RAW_DIR, "download"),
    (PREPARED_DIR, "prepare"),
    (DATA_METRICS, "prepare"),
    (TRAIN_DIR, "train@{model}"),
    (MODELS_DIR, "train@{model}"),
    (EVAL_DIR, "evaluate"),
    (CONFUSION_DIR, "evaluate"),
    (PREDICTIONS_DIR, "evaluate"),
    (COMPARISON_FILE, "evaluate"),
    (FIGURES_DIR, "plots"),
    (ERROR_DIR, "plots"),
    (BACKPROP_FILE, "backprop"),
)


def writer(path: Path | str) -> str:
    """The stage that writes `path` (`train@model_a` for model_a's log), or "" if none does."""
    path = Path(path)
    for prefix, stage in _WRITERS:
        if path == prefix or prefix in path.parents:
            inner = path.relative_to(prefix).parts
            model = Path(inner[0]).stem if inner else "<model>"
            return stage.format(model=model)
    return ""


def rerun_hint(path: Path | str, force: bool = False) -> str:
    """What to run to (re)make `path`: "run `dvc repro evaluate`" (with -f for a damaged file)."""
    stage = writer(path)
    if not stage:
        return "check the file"
    return f"run `dvc repro {'-f ' if force else ''}{stage}`" + ("" if force else " first")
