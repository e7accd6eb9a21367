"""Stage `plots`: the assignment's figures as PNG files, plus the error curves DVC draws.

    python -m stages.plots

Loads and cross-checks every seed's training log, the evaluation reports and the test
images, then saves every figure atomically into `plots/figures/` (names start with
the figure's number, so a listing follows the assignment's order; several seeds are
drawn as their mean with a min–max band). It also writes `metrics/error/<model>.tsv`
(epoch, cumulative training time, training and testing error: the mean over seeds and
its min and max): DVC plots cannot compute 1 − accuracy, and the assignment's time
figures are about error.
"""

from __future__ import annotations

from pathlib import Path

from mnist_dvc.analysis.figure_set import error_table, figure_builders, load_inputs, save_png
from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.contracts import ERROR_DIR, FIGURES_DIR, error_file
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
    for name in models:
        table = error_table(inputs.curves[name])
        write_text(error_file(name), table.to_csv(sep="\t", index=False, float_format="%.8g"))
    remove_others(ERROR_DIR, "*.tsv", {error_file(name).name for name in models})
    written = set()
    for filename, make in figure_builders(inputs):
        save_png(make(), FIGURES_DIR / filename)
        written.add(filename)
    remove_others(FIGURES_DIR, "*.png", written)
    print(f"plots: {len(written)} figures in {FIGURES_DIR}/, error curves in {ERROR_DIR}/")
    return 0


if __name__ == "__main__":
    run_stage(main)
