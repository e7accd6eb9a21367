"""Two runs' predictions of the same test images side by side: the images of one McNemar count
(tui.ground.disagreement), which only one run's model gets right. No Textual here."""

from __future__ import annotations

from pathlib import Path

from mnist_dvc.analysis.errors import ModelErrors
from mnist_dvc.analysis.predictions import Predictions
from tui.errors.data import PredictionsSource
from tui.errors.text import other_line
from tui.ground.disagreement import Disagreement
from tui.ground.runs import DONE, WORKSPACE, Run

VERSUS_HINT = "v or escape: back to the confusions"


def rev_of(run: Run) -> str | None:
    """Where the Errors tab reads a run's predictions: its revision, or the project's files."""
    return run.rev if run.rev != WORKSPACE and run.state == DONE else None


def versus_sources(root: Path, pair: Disagreement) -> tuple[PredictionsSource, PredictionsSource]:
    """The two predictions files: the model and seed of the pair, each at its run's revision."""
    return (PredictionsSource(root, pair.model, pair.seed, rev_of(pair.first)),
            PredictionsSource(root, pair.model, pair.seed, rev_of(pair.second)))


def versus_problem(pair: Disagreement, a: ModelErrors | None, b: ModelErrors | None) -> str | None:
    """Why the pair cannot be shown (a file missing, other test images), or None."""
    for run, found in ((pair.first, a), (pair.second, b)):
        if found is None:
            return f"{run.name}: no predictions of {pair.model} seed {pair.seed}"
    if len(a) != len(b) or not (a.predictions.actual == b.predictions.actual).all():
        return f"{pair.first.name} and {pair.second.name} predicted different test images"
    return None


def versus_lines(pair: Disagreement, a: Predictions, b: Predictions, index: int) -> list[str]:
    """Under a digit: its index and true label, then each run's prediction (`lr-3e-3: 4 ✓ 99.1%`)."""
    return [f"#{index} · true {int(a.actual[index])}", other_line(pair.first.name, a, index),
            other_line(pair.second.name, b, index)]
