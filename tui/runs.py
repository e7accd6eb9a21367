"""One run's files, wherever the run is: a folder on disk or a revision DVC can read.

The Experiments tab overlays the curves of several runs and tests their predictions
against each other; the Pipeline tab shows the progress of the stage another dvc
process runs. Both need a run's per-epoch log, its test predictions or its live
progress, and this module alone knows where those are (through mnist_dvc.core.contracts
and the project's parsers), so only it changes when the layout of a run's files moves.

A revision (a commit or a finished experiment) is read with DVC's Python API
(`dvc.api.DVCFileSystem`, what `dvc.api.open/read` use): git-tracked files come from
git, cached outputs such as the training logs from DVC's cache. A running experiment
has no revision yet: it is read from its working folder. No Textual import here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_dvc.analysis.comparison import mcnemar, mcnemar_sentence
from mnist_dvc.analysis.history import History, aligned_history, mean_history, parse_series
from mnist_dvc.analysis.predictions import Predictions, parse_predictions
from mnist_dvc.core.contracts import (
    SEED_NAME,
    SERIES,
    TRAIN_DIR,
    predictions_file,
    progress_file,
    run_dir,
    seed_dir,
    seeds_of,
    series_file,
)
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import read_json
from mnist_dvc.core.params import MODEL_NAME
from tui.data import Invalid, Progress, parse_progress
from tui.experiments import WORKSPACE, Run

ReadText = Callable[[Path], str]
ListDir = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Reader:
    """Reads a run's files: `text(path)` a file, `names(path)` a folder's entries (both raise
    FileNotFoundError when there is none)."""

    text: ReadText
    names: ListDir

    def seeds(self, model: str) -> list[int]:
        """The seeds the run trained `model` with (their folders), sorted; none: []."""
        try:
            entries = self.names(run_dir(model))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(int(match[1]) for name in entries if (match := SEED_NAME.match(Path(name).name)))


class RunFilesError(RuntimeError):
    """A run's file cannot be read: one line naming the run and the file."""


# --- a running run, from its folder ---------------------------------------------------------------


def trained_models(folder: Path) -> list[str]:
    """The models with a training log in `folder` (a workspace or a queue worker's copy)."""
    try:
        names = sorted(entry.name for entry in os.scandir(Path(folder) / TRAIN_DIR) if entry.is_dir())
    except OSError:
        return []
    return [name for name in names if MODEL_NAME.match(name)]


def live_progress(folder: Path) -> dict[str, Progress]:
    """model -> its training progress in `folder` (its first seed's: one process trains every seed of
    a model, in step); models without a readable progress.json are left out (the file is replaced
    atomically, so a miss is a run that has not started that model yet)."""
    result = {}
    for model in trained_models(folder):
        for seed in seeds_of(run_dir(model, Path(folder))):
            try:
                result[model] = parse_progress(read_json(progress_file(model, seed, Path(folder))))
            except (OSError, BadInput, Invalid, ValueError):
                continue
            break
    return result


def progress_under(folder: Path, outputs: Iterable[Path]) -> list[Progress]:
    """The training progress written inside any of `outputs` (paths relative to `folder`): what a
    stage holding those outputs for writing is doing, epoch by epoch."""
    outputs = [Path(path) for path in outputs]
    found = []
    for model, progress in live_progress(folder).items():
        where = progress_file(model, progress.seed) if progress.seed is not None else run_dir(model)
        if any(where == out or out in where.parents for out in outputs):
            found.append(progress)
    return found


# --- any run, at its revision or in its folder ------------------------------------------------------


def reader(root: Path, run: Run) -> Reader:
    """How to read the files of `run`: from its working folder while it runs or for the workspace,
    else at its revision through DVC."""
    if run.running and run.folder:
        return _disk(Path(run.folder))
    if run.rev == WORKSPACE:
        return _disk(root)
    return _at_revision(root, run.rev)


def _disk(folder: Path) -> Reader:
    return Reader(lambda path: (folder / path).read_text(), lambda path: os.listdir(folder / path))


def _at_revision(root: Path, rev: str) -> Reader:
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(str(root), rev=rev)
    return Reader(lambda path: fs.read_text(path.as_posix()),
                  lambda path: fs.ls(path.as_posix(), detail=False))


def seed_history(read: Reader, model: str, seed: int) -> History:
    """One seed's per-epoch log (empty while no epoch is complete)."""
    series = {}
    for column in SERIES:
        path = series_file(seed_dir(model, seed), column)
        try:
            series[column] = parse_series(read.text(path), path.stem)
        except FileNotFoundError:
            series[column] = {}
    return aligned_history(series)


def history(read: Reader, model: str) -> History:
    """A model's per-epoch log, the mean over its seeds (empty while no epoch is complete, or if the
    run has no such model)."""
    logs = [seed_history(read, model, seed) for seed in read.seeds(model)]
    logs = [log for log in logs if len(log)]
    return mean_history(logs) if logs else aligned_history({column: {} for column in SERIES})


def predictions(read: Reader, model: str, label: str) -> Predictions:
    """A model's test predictions (`actual`, `predicted` per test image, in test-set order) of its
    lowest seed: with `train.seeds` a count, every run starts at `train.seed`, so two runs are
    compared on the same seed. Checked by the project's one reader of the file."""
    seeds = read.seeds(model)
    if not seeds:
        raise RunFilesError(f"{label}: no training log of {model}; the train stage writes it")
    path = predictions_file(model, seeds[0])
    try:
        text = read.text(path)
    except FileNotFoundError:
        raise RunFilesError(f"{label}: no {path}; the evaluate stage writes it") from None
    try:
        return parse_predictions(text, path)
    except BadInput as exc:
        raise RunFilesError(f"{label}: {exc.path}: {exc.problem}") from None


@dataclass(frozen=True)
class PairTest:
    """McNemar's exact test between two runs' predictions of one model."""

    first: str
    second: str
    b01: int | None = None  # images only `second` gets right
    b10: int | None = None  # images only `first` gets right
    p_value: float | None = None
    problem: str | None = None

    @property
    def sentence(self) -> str:
        """The project's McNemar sentence (the evaluate stage's words), or why there is no test."""
        head = f"{self.first} vs {self.second}: "
        if self.problem is not None:
            return head + self.problem
        return head + mcnemar_sentence(self.first, self.second,
                                       {"b01": self.b01, "b10": self.b10, "p_value": self.p_value})


def mcnemar_between(first: str, a: Predictions, second: str, b: Predictions) -> PairTest:
    """The test, when both runs predicted the same test images (same test set, same order)."""
    if a.actual.shape != b.actual.shape or not np.array_equal(a.actual, b.actual):
        return PairTest(first, second,
                        problem="different test sets (data.test_limit differs?): not comparable")
    test = mcnemar(a.actual, a.predicted, b.predicted)
    return PairTest(first, second, test["b01"], test["b10"], test["p_value"])


class RunFiles:
    """Histories and predictions of runs, cached per revision: a commit or a finished experiment
    never changes, so it is read once; the workspace and running runs are read again each time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._histories: dict[tuple[str, str], History] = {}
        self._predictions: dict[tuple[str, str], Predictions] = {}

    @staticmethod
    def _fixed(run: Run) -> bool:
        return run.rev != WORKSPACE and not run.running and run.state == "done"

    def history(self, run: Run, model: str) -> History:
        key = (run.rev, model)
        if key in self._histories:
            return self._histories[key]
        found = history(reader(self.root, run), model)
        if self._fixed(run):
            self._histories[key] = found
        return found

    def predictions(self, run: Run, model: str) -> Predictions:
        key = (run.rev, model)
        if key in self._predictions:
            return self._predictions[key]
        found = predictions(reader(self.root, run), model, run.name)
        if self._fixed(run):
            self._predictions[key] = found
        return found
