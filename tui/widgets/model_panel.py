"""One model's training run: state, progress bar, latest/best metrics, live curves."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from tui.data import ModelRun
from tui.report import metric_rows, progress_line, run_title, status_text
from tui.widgets.curves import CurvesPlot

STATUS_CLASSES = ("-waiting", "-running", "-finished", "-failed", "-interrupted")
STATUS_STYLES = {"running": "bold", "finished": "bold green", "failed": "bold red", "interrupted": "bold red"}


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
        history = run.history
        self.query_one(".loss-chart", CurvesPlot).show(
            [("train", history.epoch, history.train_loss), ("test", history.epoch, history.test_loss)]
        )
        self.query_one(".accuracy-chart", CurvesPlot).show(
            [("train", history.epoch, history.train_accuracy), ("test", history.epoch, history.test_accuracy)]
        )

    @staticmethod
    def _metrics_text(run: ModelRun) -> Text:
        """Aligned latest/best columns (plain Text: it reads back as the same string)."""
        out = Text()
        out.append(f"{'':<15} {'latest':>8} {'best':>8}", style="bold")
        for row in metric_rows(run):
            out.append(f"\n{row.label:<15} {row.latest:>8} ")
            out.append(f"{row.best:>8}", style="bold")
            if row.note:
                out.append(f"  {row.note}")
        return out
