"""The 10×10 confusion matrix as a colour heatmap with counts, and a cursor on one cell."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from rich.color import Color, blend_rgb
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from mnist_dvc.core.contracts import CLASSES

LABEL_WIDTH = 4  # the true digit at the start of each row
CELL_WIDTH = 5  # counts up to 4 digits and a space
WIDTH = LABEL_WIDTH + CLASSES * CELL_WIDTH
# Mistakes from dark to bright red by count; the diagonal (correct) in one muted green.
COOL, HOT = Color.parse("#3a1414").triplet, Color.parse("#ff6a3d").triplet
DIAGONAL = Style(color="#d8f0dc", bgcolor="#1f4a2c")
EMPTY = Style(color="#5a5a5a")
CURSOR = Style(color="#000000", bgcolor="#ffd75f", bold=True)  # over any heat colour


def mistake_style(count: int, most: int) -> Style:
    """A cell off the diagonal: brighter the more images it holds (square root, so that a cell
    of 1 still shows beside one of 50)."""
    share = (count / most) ** 0.5 if most else 0.0
    background = blend_rgb(COOL, HOT, share)  # type: ignore[arg-type]
    return Style(color="#000000" if share > 0.6 else "#ffffff", bgcolor=Color.from_triplet(background))


class ConfusionHeatmap(Widget, can_focus=True):
    """Rows are the true digit, columns the predicted one. It draws what it is given and
    posts its keys and clicks up; the pane moves the cursor (`cursor`) and opens cells.

    The diagonal has its own colour: on one scale with the ~1,000 correct images per
    digit, every mistake would look black.
    """

    class CursorMove(Message):
        """Move the cursor by (rows, columns)."""

        def __init__(self, rows: int, columns: int) -> None:
            super().__init__()
            self.rows = rows
            self.columns = columns

    class CellClicked(Message):
        def __init__(self, actual: int, predicted: int) -> None:
            super().__init__()
            self.actual = actual
            self.predicted = predicted

    class OpenRequested(Message):
        """Open the cell under the cursor (Enter)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("enter", "open", "Open cell"),
    ]

    cursor: reactive[tuple[int, int]] = reactive((0, 0))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.counts: np.ndarray | None = None

    def show(self, counts: np.ndarray | None) -> None:
        """Draw these counts (10×10, rows = true digit), or nothing."""
        self.counts = counts
        self.refresh()

    def action_move(self, rows: int, columns: int) -> None:
        self.post_message(self.CursorMove(rows, columns))

    def action_open(self) -> None:
        self.post_message(self.OpenRequested())

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row, column = offset.y - 1, (offset.x - LABEL_WIDTH) // CELL_WIDTH
        if 0 <= row < CLASSES and 0 <= column < CLASSES and offset.x >= LABEL_WIDTH:
            self.post_message(self.CellClicked(row, column))

    def render(self) -> Text:
        counts = self.counts
        if counts is None:
            return Text("no predictions to count", style="dim")
        text = Text("true".ljust(LABEL_WIDTH), style="bold")
        text.append("".join(f"{digit:>{CELL_WIDTH - 1}} " for digit in range(CLASSES)), style="bold")
        most = int(max((counts[a, p] for a in range(CLASSES) for p in range(CLASSES) if a != p), default=0))
        for actual in range(CLASSES):
            text.append(f"\n{actual:>2}  ", style="bold")
            for predicted in range(CLASSES):
                count = int(counts[actual, predicted])
                if actual == predicted:
                    style = DIAGONAL
                elif count:
                    style = mistake_style(count, most)
                else:
                    style = EMPTY
                label = f"{count:>{CELL_WIDTH - 1}} " if count or actual == predicted else "   · "
                if (actual, predicted) == self.cursor:
                    style = CURSOR
                text.append(label, style)
        return text
