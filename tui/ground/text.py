"""Words more than one tab says, so that they say them alike: a model's layer widths and one
training's progress in a few words. No Textual here."""

from __future__ import annotations

from mnist_dvc.analysis.formats import duration, pct
from mnist_dvc.core.contracts import CLASSES, FEATURES
from mnist_dvc.core.params import ModelParams
from mnist_dvc.core.records.progress import Progress


def architecture(spec: ModelParams | None) -> str:
    """`784→256→512→128→10` (Training panels, Compare's published results)."""
    if spec is None:
        return "not in params.yaml"
    return "→".join(str(width) for width in (FEATURES, *spec.hidden, CLASSES))


def progress_brief(progress: Progress) -> str:
    """One training in a few words (Pipeline's running stage, an Experiments row's live cell):
    model, epoch, ETA, latest test accuracy."""
    parts = [f"{progress.model} epoch {progress.epoch}/{progress.epochs}"]
    if progress.state == "running":
        parts.append(f"ETA {duration(progress.eta_s)}" if progress.eta_s is not None else "ETA after epoch 1")
    else:
        parts.append(progress.state)
    if progress.last.test_accuracy is not None:
        parts.append(f"test accuracy {pct(progress.last.test_accuracy)}")
    return " · ".join(parts)
