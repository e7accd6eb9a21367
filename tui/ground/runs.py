"""A run, and its files wherever they are: a folder on disk or a revision DVC can read.

A `Run` is one row of the Experiments tab (the workspace, a commit, or an experiment of a
commit, done, running, queued or failed); the app hands the selected one down to the tabs
that follow it. `reader(root, run)` is the one way in tui/ to read a run's files: from its
working folder while it runs (the workspace, or a queue worker's temporary copy), else at its
revision with DVC's Python API (`dvc.api.DVCFileSystem`, what `dvc.api.open/read` use):
git-tracked files come from git, cached outputs such as the training logs from DVC's cache.
A revision never changes, so there is one DVCFileSystem per revision and its listings are
read once. Only this module knows where a run's logs, predictions and progress are (through
mnist_dvc.core.contracts), so only it changes when that layout moves. No Textual here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from mnist_dvc.analysis.history import History, aligned_history, mean_history, parse_series
from mnist_dvc.analysis.predictions import Predictions, parse_predictions
from mnist_dvc.core.contracts import (
    COMPARISON_FILE,
    PREDICTIONS_DIR,
    PREDICTIONS_SUFFIX,
    SERIES,
    TRAIN_DIR,
    predictions_file,
    progress_file,
    run_dir,
    seed_dir,
    seeds_in,
    series_file,
)
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.params import MODEL_NAME
from mnist_dvc.core.records.comparison import Comparison
from mnist_dvc.core.records.progress import Progress
from tui.ground.process import pid_alive

WORKSPACE, COMMIT, EXPERIMENT = "workspace", "commit", "experiment"
DONE, RUNNING, QUEUED, FAILED = "done", "running", "queued", "failed"


@dataclass(frozen=True)
class Run:
    """One run: the workspace, a commit, or an experiment of a commit.

    `key` stays the same while an experiment goes from queued to running to done (its
    `rev` does not: DVC names a queued run by its queue entry, a finished one by its commit).
    `folder` is where a running experiment works: the workspace, or a queue worker's
    temporary copy under .dvc/tmp/exps/.
    """

    key: str
    rev: str
    name: str
    kind: str
    baseline: str
    state: str
    created: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    folder: str | None = None
    log: str | None = None
    pid: int | None = None
    executor: str | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def short_rev(self) -> str:
        return self.rev if self.rev == WORKSPACE else self.rev[:7]

    @property
    def in_queue(self) -> bool:
        """Run by a queue worker (`dvc queue start`), so `dvc queue kill/logs` know it."""
        return self.executor == "dvc-task" or self.state == QUEUED

    @property
    def fixed(self) -> bool:
        """A commit or a finished experiment: its files never change."""
        return self.rev != WORKSPACE and not self.running and self.state == DONE


class RunFilesError(RuntimeError):
    """A run's file cannot be read: one line naming the run and the file."""


@dataclass(frozen=True)
class Reader:
    """Reads a run's files: `text(path)` a file, `names(path)` a folder's entries (both raise
    FileNotFoundError when there is none). Paths are relative to the run's root."""

    text: Callable[[Path], str]
    names: Callable[[Path], list[str]]

    def listing(self, folder: Path) -> list[str]:
        """A folder's entries; none when it does not exist."""
        try:
            return self.names(folder)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def models(self) -> list[str]:
        """The models with a training log (their folders under metrics/train/), sorted."""
        names = sorted(Path(entry).name for entry in self.listing(TRAIN_DIR))
        return [name for name in names if MODEL_NAME.match(name)]

    def seeds(self, model: str) -> list[int]:
        """The seeds the run trained `model` with (their folders), sorted; none: []."""
        return seeds_in(self.listing(run_dir(model)))

    def prediction_seeds(self, model: str) -> list[int]:
        """The seeds whose test predictions the run holds for `model`, sorted."""
        return seeds_in(self.listing(PREDICTIONS_DIR / model), PREDICTIONS_SUFFIX)

    def seed_history(self, model: str, seed: int) -> History:
        """One seed's per-epoch log (empty while no epoch is complete)."""
        series = {}
        for column in SERIES:
            path = series_file(seed_dir(model, seed), column)
            try:
                series[column] = parse_series(self.text(path), path.stem)
            except FileNotFoundError:
                series[column] = {}
        return aligned_history(series)

    def history(self, model: str) -> History:
        """A model's per-epoch log, the mean over its seeds (empty while no epoch is complete, or if
        the run has no such model)."""
        logs = [log for seed in self.seeds(model) if len(log := self.seed_history(model, seed))]
        return mean_history(logs) if logs else aligned_history({column: {} for column in SERIES})

    def predictions(self, model: str, seed: int, label: Path) -> Predictions:
        """One seed's test predictions, checked by the project's one reader of the file (`label` names
        it in errors). FileNotFoundError when the run has none, BadInput when they are damaged."""
        return parse_predictions(self.text(predictions_file(model, seed)), label)

    def comparison(self) -> Comparison:
        """The run's `reports/comparison.json` (every seed's figures, as evaluate wrote them).
        FileNotFoundError when the run has none, BadInput when it is damaged."""
        return Comparison.from_text(self.text(COMPARISON_FILE), COMPARISON_FILE)


def on_disk(folder: Path) -> Reader:
    folder = Path(folder)
    return Reader(lambda path: (folder / path).read_text(), lambda path: os.listdir(folder / path))


@lru_cache(maxsize=16)
def at_revision(root: Path, rev: str) -> Reader:
    """A revision's files through DVC: one DVCFileSystem per revision, its listings read once. The
    Errors tab reads on the UI thread and the Experiments tab in a worker: one at a time."""
    from dvc.api import DVCFileSystem

    fs = DVCFileSystem(str(root), rev=rev)
    lock = threading.Lock()
    listings: dict[str, list[str] | None] = {}

    def text(path: Path) -> str:
        with lock:
            return fs.read_text(path.as_posix())

    def names(path: Path) -> list[str]:
        key = path.as_posix()
        with lock:
            if key not in listings:
                try:
                    listings[key] = fs.ls(key, detail=False)
                except FileNotFoundError:
                    listings[key] = None
        found = listings[key]
        if found is None:
            raise FileNotFoundError(key)
        return found

    return Reader(text, names)


def reader(root: Path, run: Run) -> Reader:
    """How to read the files of `run`: from its working folder while it runs or for the workspace,
    else at its revision through DVC."""
    if run.running and run.folder:
        return on_disk(Path(run.folder))
    if run.rev == WORKSPACE:
        return on_disk(root)
    return at_revision(root, run.rev)


# --- a run in a folder, while it trains ---------------------------------------------------------


def live_progress(folder: Path) -> dict[str, Progress]:
    """model -> its training progress in `folder` (its first seed's: one process trains every seed of
    a model, in step); models without a readable progress.json are left out (the file is replaced
    atomically, so a miss is a run that has not started that model yet)."""
    files = on_disk(folder)
    result = {}
    for model in files.models():
        for seed in files.seeds(model):
            try:
                result[model] = Progress.read(progress_file(model, seed, Path(folder)))
            except (OSError, BadInput):
                continue
            break
    return result


def training_now(folder: Path) -> dict[str, Progress]:
    """model -> its progress, for the trainings running in `folder` now: a finished model's
    progress.json left from the run a copy started from, or a killed training's, is not one."""
    return {model: p for model, p in live_progress(folder).items()
            if p.state == RUNNING and pid_alive(p.pid)}


def progress_under(folder: Path, outputs: Iterable[Path]) -> list[Progress]:
    """The training progress written inside any of `outputs` (paths relative to `folder`): what a
    stage holding those outputs for writing is doing, epoch by epoch."""
    outputs = [Path(path) for path in outputs]
    found = []
    for model, progress in live_progress(folder).items():
        where = progress_file(model, progress.seed)
        if any(where == out or out in where.parents for out in outputs):
            found.append(progress)
    return found


# --- curves and predictions of any run, cached per revision -------------------------------------


class RunFiles:
    """Histories and predictions of runs: a commit or a finished experiment never changes, so it is
    read once; the workspace and running runs are read again each time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._histories: dict[tuple[str, str], History] = {}
        self._seed_predictions: dict[tuple[str, str, int], Predictions] = {}
        self._comparisons: dict[str, Comparison] = {}

    def comparison(self, run: Run) -> Comparison:
        """The run's `reports/comparison.json`, read at its revision (once for a fixed run);
        RunFilesError names the run and says what writes the file."""
        if run.rev in self._comparisons:
            return self._comparisons[run.rev]
        try:
            found = reader(self.root, run).comparison()
        except FileNotFoundError:
            raise RunFilesError(f"{run.name}: no {COMPARISON_FILE}; the evaluate stage writes it") from None
        except BadInput as exc:
            raise RunFilesError(f"{run.name}: {exc.path}: {exc.problem}") from None
        if run.fixed:
            self._comparisons[run.rev] = found
        return found

    def seed_predictions(self, run: Run, model: str, seed: int) -> Predictions:
        """One seed's test predictions of a model (once for a fixed run); RunFilesError names the run."""
        key = (run.rev, model, seed)
        if key in self._seed_predictions:
            return self._seed_predictions[key]
        path = predictions_file(model, seed)
        try:
            found = reader(self.root, run).predictions(model, seed, path)
        except FileNotFoundError:
            raise RunFilesError(f"{run.name}: no {path}; the evaluate stage writes it") from None
        except BadInput as exc:
            raise RunFilesError(f"{run.name}: {exc.path}: {exc.problem}") from None
        if run.fixed:
            self._seed_predictions[key] = found
        return found

    def history(self, run: Run, model: str) -> History:
        key = (run.rev, model)
        if key in self._histories:
            return self._histories[key]
        found = reader(self.root, run).history(model)
        if run.fixed:
            self._histories[key] = found
        return found
