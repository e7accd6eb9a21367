"""What the Errors tab reads: a model's per-image test predictions and the prepared test images.

No Textual here (`python -m tui --once --errors MODEL` uses it too). Like the workspace
snapshot, no reader raises: files are re-read when they change (tui.ground.watch), a corrupt
one keeps the last good data and says so in one line, and the tab shows those lines in the
warning bar. The test images are memory-mapped read-only: a page of digits reads only its rows.

The predictions of another run (a commit, or a finished experiment selected in the
Experiments tab) are read at its revision through DVC (tui.ground.runs), once: a revision
never changes. The test images stay the workspace's prepared ones; predictions of another
test set are reported as stale, not drawn.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_dvc.analysis.errors import ModelErrors
from mnist_dvc.core.contracts import PREPARED_DIR, predictions_file, prepared_file, rerun_hint
from mnist_dvc.core.errors import BadInput, MissingInput, ProjectError
from mnist_dvc.data.prepared import load_split
from tui.ground.runs import Reader, at_revision, on_disk
from tui.ground.watch import Watched

# The seed to name when nothing says which (no predictions, no training log, params.yaml
# unreadable): params.yaml's default `train.seed`. The tab only says "not evaluated yet" for it.
DEFAULT_SEED = 42


@dataclass(frozen=True)
class PredictionsSource:
    """Whose mistakes the tab shows: one model's predictions, of one seed, of one run.

    Small and frozen, so whoever selects the run can hand the tab another one. `rev` None
    is the project's own files on disk; otherwise a commit or finished experiment, read
    through DVC.
    """

    root: Path
    model: str
    seed: int
    rev: str | None = None

    @property
    def path(self) -> Path:
        """The file, relative to the project root (it names the file in warnings)."""
        return predictions_file(self.model, self.seed)

    @property
    def label(self) -> str:
        """How warnings name the file: its path, with the revision when it is another run's."""
        return str(self.path) if self.rev is None else f"{self.rev[:7]}:{self.path}"

    @property
    def files(self) -> Reader:
        return on_disk(self.root) if self.rev is None else at_revision(self.root, self.rev)

    def load(self) -> ModelErrors:
        """The predictions, checked by the project's one parser; MissingInput or BadInput in one line."""
        try:
            return ModelErrors(self.files.predictions(self.model, self.seed, Path(self.label)))
        except FileNotFoundError:
            remedy = "that run did not evaluate this model and seed" if self.rev else rerun_hint(self.path)
            raise MissingInput(self.label, remedy) from None
        except UnicodeDecodeError:
            redo = rerun_hint(self.path, force=True)
            raise BadInput(self.label, "not UTF-8 text (corrupt)", redo) from None


def sources(root: Path, model: str, rev: str | None = None, planned: Sequence[int] = (),
            ) -> list[PredictionsSource]:
    """One source per seed whose predictions the run holds (on disk, or at `rev`); before any, the
    seeds the model trained, else those `planned` (params.yaml's seeds), whose files say "not
    evaluated yet" until evaluate writes them."""
    files = on_disk(root) if rev is None else at_revision(root, rev)
    seeds = files.prediction_seeds(model) or files.seeds(model) or list(planned) or [DEFAULT_SEED]
    return [PredictionsSource(root, model, seed, rev) for seed in seeds]


@dataclass(frozen=True, eq=False)
class TestImages:
    """The prepared test set: x (N, 784) float32 memory map, y (N,) labels."""

    x: np.ndarray
    y: np.ndarray


def load_test_images(root: Path) -> TestImages:
    x, y = load_split("test", Path(root) / PREPARED_DIR, mmap=True)
    return TestImages(x, np.asarray(y))


def mismatch(errors: ModelErrors, images: TestImages) -> str | None:
    """Why these predictions are not of these test images (a stale file), or None when they are."""
    rows = errors.predictions
    if len(rows) != len(images.y):
        return f"{len(rows):,} rows for the {len(images.y):,} prepared test images"
    if not np.array_equal(rows.actual, images.y):
        return "its true labels differ from data/prepared/y_test.npy"
    return None


class ErrorsData:
    """Polls the predictions files the tab asks for and the test images; keeps the last good ones."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        # prepare writes x_test.npy, then y_test.npy: a new y means both are complete
        self._images = Watched(self.root / prepared_file("y", "test"), lambda: load_test_images(self.root),
                               str(prepared_file("x", "test")))
        self._predictions: dict[PredictionsSource, Watched[ModelErrors] | ReadOnce] = {}

    def _watched(self, source: PredictionsSource) -> Watched[ModelErrors] | ReadOnce:
        if source not in self._predictions:
            self._predictions[source] = (Watched(self.root / source.path, source.load, source.label)
                                         if source.rev is None else ReadOnce(source))
        return self._predictions[source]

    def poll(self, wanted: Iterable[PredictionsSource]) -> bool:
        """Re-read what changed among the test images and the `wanted` predictions; True if any did."""
        changed = self._images.refresh()
        for source in wanted:
            changed = self._watched(source).refresh() or changed
        return changed

    @property
    def images(self) -> TestImages | None:
        return self._images.value

    def errors(self, source: PredictionsSource) -> ModelErrors | None:
        watched = self._predictions.get(source)
        return watched.value if watched is not None else None

    def drawable(self, errors: ModelErrors) -> TestImages | None:
        """The test images, when they are the ones these predictions are about."""
        images = self.images
        return images if images is not None and mismatch(errors, images) is None else None

    def problems(self, wanted: Iterable[PredictionsSource], evaluated: set[str]) -> tuple[str, ...]:
        """One line per problem: a corrupt or stale file, a missing one that evaluate should have written.

        A model that was never evaluated has no predictions yet: that is the tab's hint, not a warning.
        """
        found = []
        any_predictions = False
        for source in wanted:
            watched = self._watched(source)
            if watched.problem:
                found.append(watched.problem)
            if watched.value is None and not watched.problem and source.model in evaluated:
                found.append(f"{source.label}: not found, though {source.model} was evaluated; "
                             "run `dvc repro evaluate`")
            if watched.value is not None:
                any_predictions = True
                stale = mismatch(watched.value, self.images) if self.images is not None else None
                if stale:
                    found.append(f"{source.label}: {stale} (stale); run `dvc repro evaluate`")
        if self._images.problem:
            found.append(self._images.problem)
        elif self.images is None and any_predictions:
            found.append(f"{prepared_file('x', 'test')}: not found, so the digits cannot be drawn; "
                         "run `dvc repro prepare` (or `dvc pull`)")
        return tuple(found)


class ReadOnce:
    """Another run's predictions file: read on the first poll and kept (`Watched`'s interface)."""

    def __init__(self, source: PredictionsSource) -> None:
        self.source = source
        self._read = False
        self.value: ModelErrors | None = None
        self.problem: str | None = None

    def refresh(self) -> bool:
        if self._read:
            return False
        self._read = True
        try:
            self.value = self.source.load()
        except (OSError, ValueError, ProjectError) as exc:
            self.problem = str(exc)
        return True


def load_once(root: Path, model: str, seed: int | None, planned: Sequence[int] = (),
              ) -> tuple[PredictionsSource, ModelErrors, TestImages | None, str | None]:
    """For `--once --errors`: the predictions (of `seed`, else of the first seed on disk; a
    ProjectError if unusable) and the test images when they can be drawn, else why not."""
    source = sources(root, model, None, planned)[0] if seed is None else PredictionsSource(root, model, seed)
    try:
        errors = source.load()
    except MissingInput:
        others = [found.seed for found in sources(root, model) if found.path != source.path
                  and (root / found.path).is_file()]
        if seed is not None and others:
            seeds = f"seed{'s' if len(others) > 1 else ''} {', '.join(map(str, others))}"
            raise MissingInput(source.path, f"{model} has predictions of {seeds}: pass one of them to --seed"
                               ) from None
        raise MissingInput(source.path, rerun_hint(source.path)) from None
    except BadInput as exc:
        raise BadInput(source.path, exc.problem, rerun_hint(source.path, force=True)) from None
    try:
        images = load_test_images(root)
    except (MissingInput, BadInput) as exc:
        return source, errors, None, str(exc).replace(f"{root}{os.sep}", "")
    stale = mismatch(errors, images)
    if stale:
        return source, errors, None, f"{source.path}: {stale} (stale); run `dvc repro evaluate`"
    return source, errors, images, None
