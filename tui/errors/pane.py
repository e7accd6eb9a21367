"""Errors tab: a model's confusion matrix as a heatmap, its mistakes by count, and the digits of a cell.

What it shows is chosen by `source` (model, seed, run: tui.errors.data.PredictionsSource),
which the pane sets from its keys (m: model, s: seed) and from `run`, the run selected in the
Experiments tab that the app hands down: a commit or finished experiment is shown from its
revision, anything else (the workspace, a run still queued, running or failed) from the
project's files. The files are read by tui.errors.data (no Textual), polled only once the tab has
been opened; their problems go up to the app's warning bar as a `Warnings` message. The heatmap and
the gallery post their keys up; the pane owns the cursor (`cell`) and what the gallery shows.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from mnist_dvc.analysis.errors import ModelErrors
from mnist_dvc.core.contracts import CLASSES
from tui.errors.data import ErrorsData, PredictionsSource, sources
from tui.errors.text import ERRORS_HINT, caption_lines, cell_title, confusion_line, errors_heading, other_line
from tui.errors.versus import VERSUS_HINT, versus_lines, versus_problem, versus_sources
from tui.errors.widgets import Card, ConfusionHeatmap, DigitGallery
from tui.ground.disagreement import Disagreement
from tui.ground.runs import DONE, WORKSPACE, Run
from tui.ground.snapshot import Dashboard

Cell = tuple[int, int]


def freeze_long_lived() -> None:
    """Once the tab is drawn, move what is alive now (the app's widgets, the predictions, the
    drawn digits) out of reach of Python's cyclic collector: its full collections walked them
    all and paused a key now and then by 100-300 ms (bench/errors_tab.py). Collected first, so
    no garbage is kept."""
    gc.collect()
    gc.freeze()


class ErrorsPane(Vertical):
    class Warnings(Message):
        """The tab's file problems, one line each (empty when there are none)."""

        def __init__(self, problems: tuple[str, ...]) -> None:
            super().__init__()
            self.problems = problems

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "next_model", "Model"),
        Binding("s", "next_seed", "Seed"),
        Binding("o", "other_model", "Other model"),
        Binding("v", "leave_versus", "Back to confusions"),
    ]

    data: reactive[Dashboard | None] = reactive(None, layout=False)
    run: reactive[Run | None] = reactive(None, layout=False)
    source: reactive[PredictionsSource | None] = reactive(None, layout=False)
    cell: reactive[Cell] = reactive((0, 0), layout=False)
    other: reactive[str | None] = reactive(None, layout=False)
    # Set by the app from the Experiments tab's McNemar table: two runs' predictions of these images.
    versus: reactive[Disagreement | None] = reactive(None, layout=False)

    def __init__(self, root: Path, poll_s: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.files = ErrorsData(root)
        self.poll_s = poll_s
        self._timer: Timer | None = None
        self.problems: tuple[str, ...] = ()
        self._shown: tuple[PredictionsSource | None, ModelErrors | None] = (None, None)
        self._placed = False  # the cursor starts on the largest confusion, then stays where the user puts it
        self._seeds = 0  # seeds of the shown model on disk: `s` shows in the footer from 2 on
        self._models = 0

    def compose(self) -> ComposeResult:
        yield Static(ERRORS_HINT, id="errors-hint", classes="hint")
        yield Static(id="errors-heading")
        with Horizontal(id="errors-body"):
            with Vertical(id="errors-matrix"):
                yield ConfusionHeatmap(id="heatmap")
                yield OptionList(id="confusions")
            yield DigitGallery(id="gallery")

    def on_mount(self) -> None:
        heatmap = self.query_one("#heatmap")
        heatmap.border_title = "true ↓  predicted →"
        heatmap.border_subtitle = "arrows · ⏎ open"
        self.query_one("#confusions").border_title = "mistakes by count"

    def focus_default(self) -> None:
        """The heatmap: its arrows move the cursor, Enter opens the cell."""
        self.remove_class("-open")
        self.query_one(ConfusionHeatmap).focus()

    # --- what to show -----------------------------------------------------------------

    @property
    def models(self) -> list[str]:
        return [run.name for run in self.data.runs] if self.data else []

    @property
    def rev(self) -> str | None:
        """The selected run's revision when it has one to read, else None: the project's files."""
        run = self.run
        return run.rev if run is not None and run.rev != WORKSPACE and run.state == DONE else None

    def _sources(self, model: str) -> list[PredictionsSource]:
        params = self.data.params if self.data else None
        return sources(self.files.root, model, self.rev, params.train.seed_list if params else ())

    def _source_of(self, model: str, seed: int | None) -> PredictionsSource:
        """That model's predictions of `seed` when it has them, else of its first seed."""
        found = self._sources(model)
        return next((source for source in found if source.seed == seed), found[0])

    @property
    def errors(self) -> ModelErrors | None:
        return self.files.errors(self.source) if self.source is not None else None

    def _seed_choices(self) -> list[PredictionsSource]:
        """What `s` steps through: the shown model's seeds on disk, and the shown seed while its
        file is gone (it stays on screen, empty and warned about, until the user moves on)."""
        if self.source is None:
            return []
        found = self._sources(self.source.model)
        return found if self.source in found else sorted([*found, self.source], key=lambda s: s.seed)

    def _wanted(self) -> list[PredictionsSource]:
        """The shown predictions (read even once deleted, so that they go), and every other
        model's of the shown seed: `m` and `o` then need no read."""
        if self.source is None:
            return []
        others = [self._source_of(model, self.source.seed) for model in self.models
                  if model != self.source.model]
        return [self.source, *others]

    def watch_run(self) -> None:
        """Another run selected: the same model and seed of that run, when it has them."""
        if self.source is not None and self.source.rev != self.rev:
            self.source = self._source_of(self.source.model, self.source.seed)

    def watch_data(self, data: Dashboard | None) -> None:
        if data is None or not self.models:
            return
        if len(self.models) != self._models:
            self._models = len(self.models)
            self.refresh_bindings()  # m and o show once there are two models (the footer redraws)
        if self.source is None or self.source.model not in self.models:
            self.source = self._source_of(self.models[0], None)
        if self._timer is not None:
            self._poll()

    def on_show(self) -> None:
        """The tab was opened: read the files from now on (10,000 rows per model, the test images)."""
        if self._timer is None:
            self._timer = self.set_interval(self.poll_s, self._poll)
            self._poll()

    def _poll(self) -> None:
        if self.source is None:
            return
        seeds = len(self._seed_choices())
        if seeds != self._seeds:
            self._seeds = seeds
            self.refresh_bindings()
        wanted = self._wanted()
        changed = self.files.poll(wanted)
        if changed or self._shown[0] != self.source or self._shown[1] is not self.errors:
            self._show_errors()
        evaluated = {run.name for run in self.data.runs if run.evaluation is not None} if self.data else set()
        problems = self.files.problems(wanted, evaluated)
        if problems != self.problems:
            self.problems = problems
            self.post_message(self.Warnings(problems))

    # --- drawing ----------------------------------------------------------------------

    def watch_source(self) -> None:
        if self._timer is not None:
            self._poll()

    def _show_errors(self) -> None:
        """A new model, seed or file: heading, heatmap, list and the cell's digits (empty without
        predictions; they stay on screen so that the focus, and the keys, stay in the tab)."""
        errors = self.errors
        self._shown = (self.source, errors)
        self.query_one("#errors-hint").display = errors is None
        if self.source is not None:
            several = len(self._seed_choices()) > 1
            heading = errors_heading(self.source.model, self.source.seed if several else None, errors)
            if self.source.rev is not None and self.run is not None:
                heading = f"{self.run.name} · {heading}"
            self.query_one("#errors-heading", Static).update(Text(heading, style="bold"))
        self.query_one(ConfusionHeatmap).show(errors.counts if errors is not None else None)
        confusions = self.query_one("#confusions", OptionList)
        confusions.set_options(Option(confusion_line(cell), id=f"{cell.actual}-{cell.predicted}")
                               for cell in (errors.confusions if errors is not None else ()))
        if errors is not None and not self._placed:
            self._placed = True
            if errors.confusions:
                top = errors.confusions[0]
                self.cell = (top.actual, top.predicted)
            self.call_after_refresh(freeze_long_lived)
        self._sync_cursor()
        self._show_cell(keep_page=False)

    def watch_cell(self) -> None:
        self._sync_cursor()
        self._show_cell(keep_page=False)

    def watch_other(self) -> None:
        self._show_cell(keep_page=True)

    def _sync_cursor(self) -> None:
        """The heatmap's cursor and the list's highlight on `cell` (none in the list for the diagonal)."""
        self.query_one(ConfusionHeatmap).cursor = self.cell
        confusions = self.query_one("#confusions", OptionList)
        actual, predicted = self.cell
        try:
            index = confusions.get_option_index(f"{actual}-{predicted}")
        except OptionDoesNotExist:
            index = None
        if confusions.highlighted != index:
            confusions.highlighted = index

    def watch_versus(self, pair: Disagreement | None) -> None:
        if pair is not None:
            self.files.poll(versus_sources(self.files.root, pair))
            self.add_class("-open")
            self.query_one(DigitGallery).focus()
        self.refresh_bindings()
        self._show_cell(keep_page=False)

    def _show_versus(self, pair: Disagreement) -> None:
        """The images only one run gets right, each with both runs' predictions under it."""
        first, second = (self.files.errors(source) for source in versus_sources(self.files.root, pair))
        title = Text(f"{pair.title} · {VERSUS_HINT}", style="bold")
        problem = versus_problem(pair, first, second)
        gallery = self.query_one(DigitGallery)
        if problem is not None:
            title.append(f" · {problem}", style="dim")
            gallery.show(title, (), lambda index: Card(None, ()), 3)
            return
        images = self.files.drawable(first)

        def card(index: int) -> Card:
            head, a, b = versus_lines(pair, first.predictions, second.predictions, index)
            return Card(images.x[index] if images is not None else None,
                        (Text(head, style="dim"), Text(a, style="green" if "✓" in a else "red"),
                         Text(b, style="green" if "✓" in b else "red")))

        gallery.show(title, pair.indices, card, 3)

    def _show_cell(self, keep_page: bool) -> None:
        if self.versus is not None:
            self._show_versus(self.versus)
            return
        errors = self.errors
        if errors is None:
            self.query_one(DigitGallery).show("", (), lambda index: Card(None, ()), 2)
            return
        actual, predicted = self.cell
        rows = errors.predictions
        images = self.files.drawable(errors)
        other = self._other_errors(errors)

        def card(index: int) -> Card:
            lines = caption_lines(rows, index)
            right = int(rows.predicted[index]) == int(rows.actual[index])
            caption = [Text(lines[0], style="bold green" if right else "bold red"),
                       *(Text(line, style="dim") for line in lines[1:])]
            if other is not None and self.other is not None:
                line = other_line(self.other, other.predictions, index)
                caption.append(Text(line, style="green" if "✓" in line else "red"))
            return Card(images.x[index] if images is not None else None, tuple(caption))

        title = Text(cell_title(errors, actual, predicted), style="bold")
        if self.other is not None and other is None:
            title.append(f" · {self.other}: no predictions of these test images", style="dim")
        lines = 2 + (other is not None and self.other is not None)
        self.query_one(DigitGallery).show(title, errors.images(actual, predicted), card, lines, keep_page)

    def _other_errors(self, errors: ModelErrors) -> ModelErrors | None:
        """The other model's predictions when they are of the same test images."""
        if self.other is None or self.source is None:
            return None
        found = self.files.errors(self._source_of(self.other, self.source.seed))
        if found is None or len(found) != len(errors):
            return None
        same = (found.predictions.actual == errors.predictions.actual).all()
        return found if same else None

    # --- keys and messages ------------------------------------------------------------

    def on_confusion_heatmap_cursor_move(self, message: ConfusionHeatmap.CursorMove) -> None:
        message.stop()
        actual, predicted = self.cell
        self.cell = (max(0, min(CLASSES - 1, actual + message.rows)),
                     max(0, min(CLASSES - 1, predicted + message.columns)))

    def on_confusion_heatmap_cell_clicked(self, message: ConfusionHeatmap.CellClicked) -> None:
        message.stop()
        self.cell = (message.actual, message.predicted)

    def on_confusion_heatmap_open_requested(self, message: ConfusionHeatmap.OpenRequested) -> None:
        message.stop()
        self.open_cell()

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        """The user walks the list (a highlight set by the pane, or by new options, moves nothing)."""
        message.stop()
        if message.option_list.has_focus and message.option.id:
            actual, predicted = message.option.id.split("-")
            self.cell = (int(actual), int(predicted))

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        self.open_cell()

    def on_digit_gallery_cell_step(self, message: DigitGallery.CellStep) -> None:
        """The next or previous confusion in count order (from a diagonal cell: the largest)."""
        message.stop()
        errors = self.errors
        if errors is None or not errors.confusions:
            return
        cells = [(cell.actual, cell.predicted) for cell in errors.confusions]
        at = cells.index(self.cell) + message.delta if self.cell in cells else 0
        self.cell = cells[max(0, min(len(cells) - 1, at))]

    def on_digit_gallery_closed(self, message: DigitGallery.Closed) -> None:
        message.stop()
        self.versus = None
        self.focus_default()

    def action_leave_versus(self) -> None:
        self.versus = None
        self.focus_default()

    def open_cell(self) -> None:
        """The gallery takes the focus (and, in a narrow terminal, the matrix's place)."""
        if self.errors is None:
            return
        self.add_class("-open")
        self.query_one(DigitGallery).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that would do nothing are hidden: m and o need two models, s two seeds."""
        if action in ("next_model", "other_model"):
            return len(self.models) > 1
        if action == "next_seed":
            return self._seeds > 1
        if action == "leave_versus":
            return self.versus is not None
        return True

    def action_next_model(self) -> None:
        """The next model, on the same cell and seed; if it was the one compared with, they swap."""
        models = self.models
        if self.source is None:
            return
        model = models[(models.index(self.source.model) + 1) % len(models)]
        if self.other == model:
            self.other = self.source.model
        self.source = self._source_of(model, self.source.seed)

    def action_next_seed(self) -> None:
        if self.source is None:
            return
        found = self._seed_choices()
        self.source = found[(found.index(self.source) + 1) % len(found)]

    def action_other_model(self) -> None:
        """Show under each digit what the next other model predicted; after the last, none."""
        others = [model for model in self.models if self.source is None or model != self.source.model]
        order = [None, *others]
        self.other = order[(order.index(self.other) + 1) % len(order)] if self.other in order else None
