"""Errors-tab benchmark: how long the dashboard takes to redraw after a key, on the full test set.

    MNIST_MIRROR=DIR python -m bench.errors_tab          # the real 10,000 test images, synthetic predictions
    python -m bench.errors_tab --root PROJECT            # a project's own prepared test set and predictions

The dashboard runs headless (Textual's pilot) at 200x60, where the gallery beside the matrix
shows the cursor's cell, so every cursor move redraws the heatmap, the list's highlight and a
page of 12 digits read from the memory-mapped test set. A key's latency runs from sending
the key to the last frame the screen composes for it (Textual's own frame pacing included;
only the write to a terminal is left out). Cursor moves walk every cell of the matrix, the
diagonal's ~1,000-image cells included. In the same run: page turns, `]` (next confusion),
`m` (the other model) and, at 80x24, opening a cell and going back. It prints the median,
95th percentile and maximum per action. A script, not a test: tests never assert timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mnist_dvc.analysis.predictions import predictions_csv
from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.contracts import CLASSES, DATA_REPORT, PREPARED_DIR, RAW_DIR, predictions_file
from mnist_dvc.core.params import DataParams
from mnist_dvc.data.normalize import prepare
from mnist_dvc.data.sources import MIRROR_ENV, fetch_mnist, mirror_source
from tui.app import DashboardApp
from tui.panes.errors import ErrorsPane

MODELS = {"model_a": 0.022, "model_b": 0.017}  # made-up error rates, about the trained models'
SEED = 42  # params.yaml's train.seed: the one seed of the made-up predictions
# The digit each digit is most often mistaken for, as trained dense networks do.
LOOKALIKE = {0: 6, 1: 7, 2: 7, 3: 5, 4: 9, 5: 3, 6: 0, 7: 2, 8: 3, 9: 4}
SETTLE_S = 0.05  # quiet time after a key before its last frame is taken


def synthetic_predictions(y: np.ndarray, error_rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-2 classes, probabilities) with `error_rate` mistakes, most onto the digit's lookalike."""
    rng = np.random.default_rng(seed)
    actual = y.astype(np.int64)
    wrong = rng.random(len(y)) < error_rate
    lookalike = np.array([LOOKALIKE[d] for d in range(CLASSES)])[actual]
    other = (actual + rng.integers(1, CLASSES, len(y))) % CLASSES
    predicted = np.where(wrong, np.where(rng.random(len(y)) < 0.6, lookalike, other), actual)
    p_predicted = np.where(wrong, rng.uniform(0.5, 0.99, len(y)), rng.uniform(0.9, 1.0, len(y)))
    second = np.where(wrong, actual, lookalike)
    second = np.where(second == predicted, (predicted + 1) % CLASSES, second)
    p_second = (1 - p_predicted) * rng.uniform(0.5, 1.0, len(y))  # at most 0.5, so never above p_predicted
    return np.column_stack([predicted, second]), np.column_stack([p_predicted, p_second])


def synthetic_project(folder: Path, mirror: Path) -> Path:
    """A project with the real test set prepared from `mirror` and made-up predictions of it."""
    shutil.copy(Path(__file__).resolve().parent.parent / "params.yaml", folder / "params.yaml")
    fetch_mnist(folder / RAW_DIR, [mirror_source(str(mirror))])
    metrics = prepare(DataParams("scale", 0, 0), folder / RAW_DIR, folder / PREPARED_DIR,
                      folder / DATA_REPORT)
    y = np.load(folder / PREPARED_DIR / "y_test.npy")
    for i, (model, rate) in enumerate(MODELS.items()):
        classes, probabilities = synthetic_predictions(y, rate, seed=i)
        write_text(folder / predictions_file(model, SEED), predictions_csv(y, classes, probabilities))
    print(f"prepared {metrics.test.count:,} test images from {mirror}; synthetic predictions")
    return folder


def snake(rows: int = CLASSES, columns: int = CLASSES) -> list[str]:
    """Keys that walk the cursor over every cell, row by row, from (0, 0)."""
    keys: list[str] = []
    for row in range(rows):
        keys += ["right" if row % 2 == 0 else "left"] * (columns - 1)
        if row < rows - 1:
            keys.append("down")
    return keys


def summary(samples: Sequence[float]) -> tuple[float, float, float]:
    """(median, 95th percentile, maximum) in milliseconds."""
    ms = sorted(value * 1000 for value in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return statistics.median(ms), p95, ms[-1]


class Frames:
    """(wall, CPU) times of the frames the app composes (its `_display` gets each finished update)."""

    def __init__(self, app: DashboardApp) -> None:
        self.times: list[tuple[float, float]] = []
        display = app._display

        def timed(screen, renderable) -> None:  # type: ignore[no-untyped-def]
            self.times.append((time.perf_counter(), time.process_time()))
            display(screen, renderable)

        app._display = timed  # type: ignore[method-assign]


Sample = tuple[float, float]  # (wall, CPU) seconds


async def latencies(app: DashboardApp, pilot, frames: Frames, keys: Sequence[str]) -> list[Sample]:  # type: ignore[no-untyped-def]
    """From each key to the last frame drawn for it: wall seconds, and the CPU seconds this process
    spent meanwhile (what the redraw costs, whatever else the machine is running)."""
    found = []
    for key in keys:
        await pilot.pause(SETTLE_S)
        frames.times.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        await pilot.press(key)
        await pilot.pause(SETTLE_S)
        if frames.times:
            last_wall, last_cpu = frames.times[-1]
            found.append((last_wall - wall, last_cpu - cpu))
    return found


async def open_tab(pilot, pane: ErrorsPane) -> None:  # type: ignore[no-untyped-def]
    """Press 6 and wait for the predictions; a problem reading them stops the benchmark."""
    await pilot.press("6")
    deadline = time.monotonic() + 30
    while pane.errors is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"error: the Errors tab shows nothing: {'; '.join(pane.problems) or 'no data'}")
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def run_wide(root: Path, rounds: int) -> dict[str, list[Sample]]:
    app = DashboardApp(root, poll_s=3600)  # no polling during the measurement: the files do not change
    app.animation_level = "none"
    results: dict[str, list[Sample]] = {}
    async with app.run_test(size=(200, 60)) as pilot:
        frames = Frames(app)
        pane = app.query_one(ErrorsPane)
        await open_tab(pilot, pane)
        print(f"{pane.source.model if pane.source else '?'}: {len(pane.errors):,} test images, "
              f"{pane.errors.misclassified:,} misclassified")
        pane.cell = (0, 0)
        await pilot.pause(0.2)
        sequences = {"move the cursor (heatmap + 12 digits)": snake()}
        results.update({name: await latencies(app, pilot, frames, keys * rounds)
                        for name, keys in sequences.items()})
        pane.cell = (1, 1)  # the largest cell: 1,135 images of a 1
        await pilot.press("enter")
        sequences = {"next page of a cell": ["right"] * 40, "] next confusion": ["right_square_bracket"] * 30,
                     "m the other model": ["m"] * 10, "o the other model's predictions": ["o"] * 10}
        results.update({name: await latencies(app, pilot, frames, keys * rounds)
                        for name, keys in sequences.items()})
    return results


async def run_narrow(root: Path, rounds: int) -> dict[str, list[Sample]]:
    app = DashboardApp(root, poll_s=3600)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        frames = Frames(app)
        pane = app.query_one(ErrorsPane)
        await open_tab(pilot, pane)
        moves = await latencies(app, pilot, frames, snake()[:40] * rounds)
        opened = await latencies(app, pilot, frames, ["enter", "escape"] * 20 * rounds)
    return {"80x24: move the cursor": moves, "80x24: open a cell, back": opened}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.errors_tab", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="a project with data/prepared and predictions (default: "
                        f"a temporary one made from ${MIRROR_ENV})")
    parser.add_argument("--rounds", type=int, default=2, help="repeat each key sequence this many times")
    args = parser.parse_args(argv)
    mirror = os.environ.get(MIRROR_ENV)
    if args.root is None and not mirror:
        print(f"error: give --root PROJECT or set {MIRROR_ENV} to the MNIST files' folder", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        root = args.root.resolve() if args.root else synthetic_project(Path(scratch), Path(mirror or ""))
        results = asyncio.run(run_wide(root, args.rounds))
        results.update(asyncio.run(run_narrow(root, args.rounds)))
    load = os.getloadavg()[0]
    print(f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.1f}; key -> last frame in ms: "
          "wall (Textual paces frames at up to 60 per second) and this process's CPU")
    print(f"{'action':<40} {'n':>4} {'wall median':>11} {'p95':>6} {'max':>6} {'CPU median':>11} {'p95':>6}")
    for action, samples in results.items():
        wall = summary([sample[0] for sample in samples])
        cpu = summary([sample[1] for sample in samples])
        print(f"{action:<40} {len(samples):>4} {wall[0]:>11.1f} {wall[1]:>6.1f} {wall[2]:>6.1f} "
              f"{cpu[0]:>11.1f} {cpu[1]:>6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
