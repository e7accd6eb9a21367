"""Stage `plots`: the assignment's figures as PNG files.

    python -m stages.plots

Loads and cross-checks every seed's training log, the evaluation reports and the test
images, then saves every figure atomically into `plots/figures/` (names start with
the figure's number, so a listing follows the assignment's order; several seeds are
drawn as their mean with a min–max band). The data of DVC's interactive plots (the
committed history and error curves) is written by `evaluate`, so this stage's one output
stays cached and its run-cache stays on.
"""

from __future__ import annotations

from pathlib import Path

from mnist_dvc.analysis.figure_set import figure_builders, load_inputs, save_png
from mnist_dvc.core.contracts import FIGURES_DIR
from mnist_dvc.core.params import load_params
from stages.cli import run_stage


def remove_others(folder: Path, pattern: str, keep: set[str]) -> None:
    """Drop files of a model no longer in params.yaml (`dvc repro` empties outputs, a direct run does not)."""
    for path in folder.glob(pattern):
        if path.name not in keep:
            path.unlink()


def main() -> int:
    models = list(load_params().models)
    inputs = load_inputs(models)
    written = set()
    for filename, make in figure_builders(inputs):
        save_png(make(), FIGURES_DIR / filename)
        written.add(filename)
    remove_others(FIGURES_DIR, "*.png", written)
    print(f"plots: {len(written)} figures in {FIGURES_DIR}/")
    return 0


if __name__ == "__main__":
    run_stage(main)
