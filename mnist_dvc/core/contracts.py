"""Every file the stages share: paths, shapes, states and keys, named once.

Stages write these files; other stages, the dashboard, the plots and outside
scripts read them. Writers and readers both import the names from here, so a
path or key cannot drift between them; the shape of each JSON file is its record
in mnist_dvc/core/records/. docs/contracts.md describes the same files for
people; tests/unit/test_contracts.py checks that the three agree.
Paths are relative to the project root (where dvc.yaml is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

# --- data: `download`, `prepare` ------------------------------------------------------------

IMAGE_SIDE = 28
FEATURES = IMAGE_SIDE * IMAGE_SIDE  # 784 pixels per image, row by row
CLASSES = 10  # digits 0-9
SPLITS = ("train", "test")

RAW_DIR = Path("data/raw")
# split -> (images file, labels file) in RAW_DIR: the four original MNIST IDX files, uncompressed
# (their bytes, hence DVC's hash of RAW_DIR, do not depend on which source served them).
RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

PREPARED_DIR = Path("data/prepared")
# A report, not a DVC metric: counts, class balance, pixel mean/std per split.
DATA_REPORT = Path("reports/data.json")


def prepared_file(array: str, split: str, root: Path = PREPARED_DIR) -> Path:
    """`x_<split>.npy` (float32 (N, FEATURES)) or `y_<split>.npy` (uint8 (N,))."""
    return Path(root) / f"{array}_{split}.npy"


# --- training: `train@<model>` ----------------------------------------------------------------
#
# One stage run trains every seed of a model (params.yaml `train.seeds`). Its two outputs are
# the model's folders: metrics/train/<model>/ (one DVCLive folder per seed) and models/<model>/
# (one saved model per seed). Readers find the seeds in a folder's entries (`seeds_in`), so a
# folder from another revision can be read without that revision's params.yaml.

TRAIN_DIR = Path("metrics/train")
MODELS_DIR = Path("models")
SEED_PREFIX = "seed_"
SEED_NAME = re.compile(rf"^{SEED_PREFIX}(0|[1-9][0-9]*)$")
PROGRESS_NAME = "progress.json"
PROGRESS_STATES = ("running", "finished", "failed", "interrupted")
# How a seed's times (progress.json `epoch_s`, `elapsed_s`; the log's time/*.tsv) were found:
# `measured` = the seed's own epochs, timed one seed after another; `stack_share` = the epoch of all
# the model's seeds stacked in one compiled call, divided by the number of seeds (no per-seed spread).
MEASURED, STACK_SHARE = "measured", "stack_share"
PROGRESS_TIMINGS = (MEASURED, STACK_SHARE)
# How a model's (or a seed's) training time was found, as the reports say it: the two labels above, or
# `model_total`, a log from before seeds were timed on their own (progress.json has no `timing`), whose
# every seed carries the wall time of all the model's seeds together. Only `measured` times have a
# spread across seeds; the others are one measurement per model.
MODEL_TOTAL = "model_total"
TIMINGS = (MEASURED, STACK_SHARE, MODEL_TOTAL)

# The training log: history column -> DVCLive TSV under <seed dir>/plots/metrics/;
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
    """One model's training folder (a stage output): a DVCLive folder per seed inside."""
    return Path(root) / TRAIN_DIR / model


def seed_dir(model: str, seed: int, root: Path = Path()) -> Path:
    """The DVCLive folder of one seed's run, with its progress.json."""
    return run_dir(model, root) / f"{SEED_PREFIX}{seed}"


def progress_file(model: str, seed: int, root: Path = Path()) -> Path:
    return seed_dir(model, seed, root) / PROGRESS_NAME


def seeds_in(names: Iterable[str], suffix: str = "") -> list[int]:
    """Which seeds a model has: those named `seed_<s><suffix>` among a folder's entries, sorted.

    The one answer for every listing: names or paths (a DVCFileSystem lists `a/b/seed_42`),
    of a training folder (`seed_42`, suffix "") or a predictions folder (`seed_42.csv`).
    """
    seeds = set()
    for name in names:
        base = PurePosixPath(name).name
        if base.endswith(suffix) and (match := SEED_NAME.match(base.removesuffix(suffix))):
            seeds.add(int(match[1]))
    return sorted(seeds)


def time_kind(labels: Iterable[str | None]) -> str:
    """A model's timing (one of TIMINGS) from each of its seeds' labels in progress.json (None: a log
    from before the label): `measured` only if every seed was measured on its own."""
    labels = set(labels)
    if not labels:
        raise ValueError("no timing label: the model has no seed")
    unknown = labels - {*PROGRESS_TIMINGS, None}
    if unknown:
        raise ValueError(f"unknown timing label {sorted(unknown)[0]!r}: expected {MEASURED} or {STACK_SHARE}")
    if labels == {MEASURED}:
        return MEASURED
    return MODEL_TOTAL if None in labels else STACK_SHARE


def seeds_of(run: Path) -> list[int]:
    """The seeds whose folders are in a model's training folder on disk, sorted (none: [])."""
    try:
        return seeds_in(entry.name for entry in Path(run).iterdir() if entry.is_dir())
    except OSError:
        return []


def series_file(run: Path, column: str) -> Path:
    """A column's TSV in one seed's DVCLive folder."""
    return Path(run) / "plots" / "metrics" / SERIES[column]


def model_dir(model: str, root: Path = Path()) -> Path:
    """One model's saved networks (a stage output): one file per seed."""
    return Path(root) / MODELS_DIR / model


def model_file(model: str, seed: int, root: Path = Path()) -> Path:
    return model_dir(model, root) / f"{SEED_PREFIX}{seed}.keras"


# --- evaluation: `evaluate` -------------------------------------------------------------------
#
# DVC metrics hold only the headline numbers a user compares across runs (`dvc exp show`,
# `dvc metrics diff`); everything else is a report: committed (`cache: false` outs) but not
# a metric, so DVC's tables stay narrow.

# The headline (records.Summary): {<model>: {key: value}}, one file for all models so `dvc exp show`
# names the columns `model_a.acc` (keys that collide across metric files get the path prefixed).
SUMMARY_FILE = Path("metrics/summary.json")

REPORTS_DIR = Path("reports")
EVAL_DIR = REPORTS_DIR / "eval"
PREDICTIONS_DIR = REPORTS_DIR / "predictions"
PREDICTIONS_SUFFIX = ".csv"
# The per-image test predictions: `actual,predicted` first (what DVC's confusion plot reads), then
# the model's softmax probability of its prediction and its second choice with that probability.
CONFUSION_COLUMNS = ("actual", "predicted")
PREDICTION_COLUMNS = (*CONFUSION_COLUMNS, "p_predicted", "second", "p_second")
COMPARISON_FILE = REPORTS_DIR / "comparison.json"
# The criteria comparison.json compares the models on (keys of a run summary), in the table's order:
# each has a spread over each model's seeds (`stats`) and a decision (`winners`).
CRITERION_KEYS = ("best_test_accuracy", "best_test_epoch", "final_test_accuracy", "best_train_accuracy",
                  "min_train_loss", "min_test_loss", "generalization_gap", "train_time_s", "params")
SEED_TESTS = ("paired t-test", "Welch's t-test")
# The assignment's questions, each answered by a verdict in comparison.json.
VERDICTS = ("accuracy", "loss", "gap", "time")


# Every seed's per-epoch history, committed to git (a `cache: false` out of evaluate, which has no
# run-cache to lose) so a clone without the DVC cache still has the curves (records.history.HistoryReport):
# tab-separated, one row per epoch, the training log's values exactly, and the seed's `timing` (TIMINGS).
HISTORY_DIR = REPORTS_DIR / "history"
HISTORY_COLUMNS = ("epoch", *SERIES, "timing")
HISTORY_SUFFIX = ".tsv"


def history_dir(model: str, root: Path = Path()) -> Path:
    return Path(root) / HISTORY_DIR / model


def history_file(model: str, seed: int, root: Path = Path()) -> Path:
    """One seed's committed history (HISTORY_COLUMNS); `seeds_in(names, HISTORY_SUFFIX)` finds the seeds."""
    return history_dir(model, root) / f"{SEED_PREFIX}{seed}{HISTORY_SUFFIX}"


def eval_file(model: str, root: Path = Path()) -> Path:
    return Path(root) / EVAL_DIR / f"{model}.json"


def predictions_file(model: str, seed: int, root: Path = Path()) -> Path:
    """One seed's test predictions (PREDICTION_COLUMNS), one row per test image in test-set order."""
    return Path(root) / PREDICTIONS_DIR / model / f"{SEED_PREFIX}{seed}{PREDICTIONS_SUFFIX}"


def prediction_seeds(model: str, root: Path = Path()) -> list[int]:
    """The seeds whose predictions files are on disk, sorted (none: [])."""
    try:
        return seeds_in((entry.name for entry in (Path(root) / PREDICTIONS_DIR / model).iterdir()
                         if entry.is_file()), PREDICTIONS_SUFFIX)
    except OSError:
        return []


# Per epoch, over a model's seeds: the mean of each error, and its min and max, for DVC's error-vs-time
# plots (DVC plots cannot compute 1 − accuracy). Committed, like the history it is derived from.
ERROR_DIR = Path("metrics/error")
ERROR_COLUMNS = ("step", "train_time_s", "train_error", "test_error",
                 "train_error_min", "train_error_max", "test_error_min", "test_error_max")


def error_file(model: str, root: Path = Path()) -> Path:
    return Path(root) / ERROR_DIR / f"{model}.tsv"


# --- plots: `plots` ---------------------------------------------------------------------------

FIGURES_DIR = Path("plots/figures")


# --- backprop: `backprop` ---------------------------------------------------------------------

# The headline (`f`, `grads`) is a DVC metric; the full record (values, checks) is a report.
BACKPROP_FILE = Path("metrics/backprop.json")
BACKPROP_REPORT = REPORTS_DIR / "backprop.json"


# --- who writes what --------------------------------------------------------------------------

# Folder or file -> the stage that writes it, most specific first.
_WRITERS = (
    (RAW_DIR, "download"),
    (PREPARED_DIR, "prepare"),
    (DATA_REPORT, "prepare"),
    (TRAIN_DIR, "train@{model}"),
    (MODELS_DIR, "train@{model}"),
    (SUMMARY_FILE, "evaluate"),
    (EVAL_DIR, "evaluate"),
    (PREDICTIONS_DIR, "evaluate"),
    (COMPARISON_FILE, "evaluate"),
    (HISTORY_DIR, "evaluate"),
    (ERROR_DIR, "evaluate"),
    (FIGURES_DIR, "plots"),
    (BACKPROP_FILE, "backprop"),
    (BACKPROP_REPORT, "backprop"),
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
