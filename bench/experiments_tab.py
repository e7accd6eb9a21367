"""Experiments-tab scale benchmark: 200 experiments, how fast the tab opens and how it keeps up.

    python -m bench.experiments_tab               # 200 experiments in a temporary repository
    python -m bench.experiments_tab -n 50 --keep  # fewer; keep the repository to look at it

It makes a git + DVC repository and saves N experiments in it with `dvc exp save` (DVC's
Python API, no training: params changed, result files written; bench/experiment_repo.py),
then measures, all in this one run so the numbers compare with each other:

- collecting the runs with DVC's Python API: the first time (DVC fills its per-revision
  cache) and again (from that cache), in this process and in the child process the tab uses;
- opening the tab (key 5) in the real dashboard, headless, a second after it started: until
  the table shows every run, with the last session's table cached (what a user sees every
  time but the first) and without (the first time: the child's collection); and the same for
  a repository of 3 experiments, for scale;
- the UI while the tab refreshes (a collection in the child process, rows rebuilt): the
  longest gap between two ticks of a 20 ms timer, i.e. how long a key press could wait;
- one rebuild of the table's rows and columns.

It is a script, not a test: tests never assert timings.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.experiment_repo import Made, make_repo
from tui.experiments import collect as experiments

TIMER_S = 0.02


def made(n: int) -> list[Made]:
    """N experiments that differ in learning rate, widths and epochs (short logs: 3-8 epochs)."""
    widths = ([64, 128, 64], [128, 128, 64], [256, 128, 64], [32, 64, 32])
    return [
        Made(f"exp-{i:03d}", {"train.learning_rate": round(0.0005 * (1 + i % 7), 4),
                              "models.model_a.hidden": widths[i % len(widths)]},
             accuracy=0.95 + (i % 40) / 1000, epochs=3 + i % 6)
        for i in range(n)
    ]


def timed(call: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()  # type: ignore[operator]
    return time.perf_counter() - start, result


async def open_tab(root: Path, rows: int, refresh_gaps: bool = False) -> dict[str, float]:
    """The dashboard headless: seconds from key 5 to every row shown; with `refresh_gaps`, a
    refresh (u) is then timed and the longest pause of the UI's event loop during it recorded."""
    from textual.widgets import DataTable

    from tui.app import DashboardApp
    from tui.experiments.pane import ExperimentsPane

    app = DashboardApp(root)
    app.animation_level = "none"
    result: dict[str, float] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one("#exp-table", DataTable)
        pane = app.query_one(ExperimentsPane)
        await pilot.pause(1.0)  # the dashboard has started and drawn its first tab
        start = time.perf_counter()
        await pilot.press("5")
        while table.row_count < rows:
            await asyncio.sleep(0.005)
        result["open_s"] = time.perf_counter() - start
        while pane.collecting:
            await asyncio.sleep(0.01)
        result["fresh_s"] = time.perf_counter() - start
        if refresh_gaps:
            ticks: list[float] = []
            timer = app.set_interval(TIMER_S, lambda: ticks.append(time.perf_counter()))
            await asyncio.sleep(0.5)
            before = len(ticks)
            start = time.perf_counter()
            await pilot.press("u")
            while not pane.collecting:
                await asyncio.sleep(0.005)
            while pane.collecting:
                await asyncio.sleep(0.005)
            result["refresh_s"] = time.perf_counter() - start
            await asyncio.sleep(0.2)
            timer.stop()
            gaps = [b - a for a, b in zip(ticks[before:], ticks[before + 1:], strict=False)]
            result["refresh_max_gap_s"] = max(gaps)
            result["refresh_median_gap_s"] = statistics.median(gaps)
            pane._rows = []  # force the next rebuild of every row
            result["rebuild_s"], _ = timed(pane._show_table)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.experiments_tab",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="experiments to save (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the repository and print where it is")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-experiments-"))
    root = folder / "repo"
    try:
        made_s, _ = timed(lambda: make_repo(root, made(args.n)))
        rows = args.n + 2  # the workspace and the baseline commit
        cold_s, table = timed(lambda: experiments.collect(root))
        assert len(table.runs) == rows, f"{len(table.runs)} runs listed, {rows} expected"
        warm_s, _ = timed(lambda: experiments.collect(root))
        child_s, _ = timed(lambda: experiments.collect_in_child(root))
        (root / experiments.CACHE).unlink(missing_ok=True)
        first = asyncio.run(open_tab(root, rows))  # no cached table: the child collects first
        cached = asyncio.run(open_tab(root, rows, refresh_gaps=True))  # the last table is shown at once
        small = make_repo(folder / "small")
        asyncio.run(open_tab(small, 5))
        small_cached = asyncio.run(open_tab(small, 5))
    finally:
        if args.keep:
            print(f"repository kept: {root}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    report = [
        (f"saving {args.n} experiments (dvc exp save)", made_s, f"{made_s / args.n:.2f} s each"),
        ("collect in this process, DVC's cache empty", cold_s, ""),
        ("collect in this process, from DVC's cache", warm_s, f"{cold_s / warm_s:.1f}x faster than empty"),
        ("collect in the child process (what the tab runs)", child_s, f"{child_s / warm_s:.1f}x in-process"),
        ("tab opened, first time: rows after the child's collection", first["open_s"], ""),
        ("tab opened with the last table cached: every row shown", cached["open_s"],
         f"{first['open_s'] / cached['open_s']:.0f}x faster than the first time"),
        ("  ... and the fresh table from DVC behind it", cached["fresh_s"], ""),
        ("tab opened with the last table cached, 5 runs (3 experiments)", small_cached["open_s"],
         f"202 runs take {cached['open_s'] / small_cached['open_s']:.1f}x as long"),
        ("refresh (u): collection and rows rebuilt", cached["refresh_s"], ""),
        ("  longest UI pause during the refresh (20 ms timer)", cached["refresh_max_gap_s"],
         f"median tick {cached['refresh_median_gap_s'] * 1000:.0f} ms"),
        (f"one rebuild of the table ({rows} rows)", cached["rebuild_s"], ""),
    ]
    print(f"Experiments tab, {rows} runs ({args.n} experiments), one run of "
          "`python -m bench.experiments_tab`:")
    for label, seconds, note in report:
        print(f"  {label:<60} {seconds:8.3f} s  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
