"""One model's training run: state, progress bar, latest/best metrics, each seed's state,
live curves (with several seeds: their mean, over a band from the lowest to the highest seed)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from mnist_dvc.analysis.history import seed_band
from tui.ground.snapshot import COMMITTED_RUN, ModelRun
from tui.ground.widgets import CurvesPlot
from tui.training.text import metric_rows, metrics_heading, progress_line, run_title, seed_lines, status_text

STATUS_CLASSES = ("-waiting", "-running", "-finished", "-failed", "-interrupted", f"-{COMMITTED_RUN}")
STATUS_STYLES = {"running": "bold", "finished": "bold green", "failed": "bold red", "interrupted": "bold red",
                 COMMITTED_RUN: "bold"}


class ModelPanel(Vertical):
    """Updated in place from each new `ModelRun`, so scroll position and focus survive."""

    run: reactive[ModelRun | None] = reactive(None, layout=False)

    def __init__(self, run: ModelRun, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="model-panel")
        self._initial = run

    def compose(self) -> ComposeResult:
        yield Static(classes="run-line")
        yield ProgressBar(show_eta=False, classes="epochs")
        yield Static(classes="run-metrics")
        yield Static(classes="seed-states")
        with Horizontal(classes="charts"):
            yield CurvesPlot("loss", classes="loss-chart")
            yield CurvesPlot("accuracy %", percent=True, classes="accuracy-chart")

    def on_mount(self) -> None:
        self.run = self._initial

    def watch_run(self, run: ModelRun | None) -> None:
        if run is None:
            return
        self.border_title = run_title(run)
        self.border_subtitle = status_text(run)
        for name in STATUS_CLASSES:
            self.set_class(name == f"-{run.status}", name)
        line = Text(status_text(run), style=STATUS_STYLES.get(run.status, ""))
        line.append(f" · {progress_line(run)}", style="")
        self.query_one(".run-line", Static).update(line)
        self.query_one(ProgressBar).update(total=run.epochs_total, progress=run.epochs_done)
        self.query_one(".run-metrics", Static).update(self._metrics_text(run))
        states = self.query_one(".seed-states", Static)
        states.display = len(run.seeds) > 1
        states.update(self._seeds_text(run))
        history = run.history
        logged = [seed.history for seed in run.seeds if len(seed.history)]
        several = len(logged) > 1
        for chart, kind in ((".loss-chart", "loss"), (".accuracy-chart", "accuracy")):
            columns = (f"train_{kind}", f"test_{kind}")
            bands = [seed_band(logged, column) for column in columns] if several else []
            self.query_one(chart, CurvesPlot).show(
                [(column.split("_")[0], history.epoch, getattr(history, column)) for column in columns],
                [(band.epoch, band.low, band.high) for band in bands],
            )

    @staticmethod
    def _metrics_text(run: ModelRun) -> Text:
        """Aligned latest/best columns (plain Text: it reads back as the same string)."""
        out = Text()
        out.append(metrics_heading(run), style="bold")
        for row in metric_rows(run):
            out.append(f"\n{row.label:<15} {row.latest:>8} ")
            out.append(f"{row.best:>8}", style="bold")
            if row.note:
                out.append(f"  {row.note}")
        return out

    @staticmethod
    def _seeds_text(run: ModelRun) -> Text:
        """One line per seed, its state word styled like the panel's."""
        out = Text()
        lines = seed_lines(run)  # none for one seed
        for i, (seed, line) in enumerate(zip(run.seeds[: len(lines)], lines, strict=True)):
            out.append("\n" if i else "")
            out.append(f"{line.seed}  ")
            out.append(line.status, style=STATUS_STYLES.get(seed.status, ""))
            rest = "  ".join(part for part in (line.epochs, line.best, line.reason) if part)
            out.append(f"  {rest}")
        return out
