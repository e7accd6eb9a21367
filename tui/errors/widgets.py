"""The Errors tab's widgets: the 10×10 confusion matrix as a colour heatmap with counts and a
cursor on one cell, and the test images of one cell drawn as digits with their captions, a page
at a time.

The gallery draws line by line (Textual's line API) from strips cached per image: turning a
page or switching cells builds the page's lines from ready strips instead of re-styling a large
Text, which keeps a redraw of 12 digits within a few milliseconds. Both draw what they are given
and post their keys up; the pane decides what they show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.color import Color, blend_rgb
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from mnist_dvc.core.contracts import CLASSES
from tui.errors.digit_art import ROWS, WIDTH, halfblock_runs, ramp_lines

# --- the confusion matrix ------------------------------------------------------------------

LABEL_WIDTH = 4  # the true digit at the start of each row
CELL_WIDTH = 5  # counts up to 4 digits and a space
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


# --- the digits of one cell ----------------------------------------------------------------

GAP = 2  # columns between digits
NO_IMAGE = "no image"
CACHED_DIGITS = 256  # drawn digits kept: a few pages of both models


@dataclass(frozen=True)
class Card:
    """One test image and the lines under it; `image` None when the test set cannot be drawn."""

    image: np.ndarray | None
    caption: tuple[Text, ...]


class DigitGallery(Widget, can_focus=True):
    """As many digits as fit, left to right, then the next row; its keys page, step to the
    neighbouring confusion or close. It asks the pane for cards only of the page it draws,
    so a cell of 1,000 images costs one page of memory-mapped rows."""

    class CellStep(Message):
        """Show the next (`delta` = 1) or previous (-1) confusion in count order."""

        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    class Closed(Message):
        """Back to the matrix (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,pagedown,n", "page(1)", "Next page", key_display="→"),
        Binding("left,pageup,p", "page(-1)", "Prev page", key_display="←"),
        Binding("home", "first_page", "First", show=False),
        Binding("end", "last_page", "Last", show=False),
        Binding("right_square_bracket", "step(1)", "Next cell", key_display="]"),
        Binding("left_square_bracket", "step(-1)", "Prev cell", key_display="["),
        Binding("escape", "close", "Back"),
    ]

    page: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = Text()
        self.indices: Sequence[int] = ()
        self.card: Callable[[int], Card] = lambda index: Card(None, ())
        self.caption_lines = 2
        self.per_page = 1
        self._lines: list[Strip] | None = None
        self._drawn: LRUCache[tuple[bytes, bool, Style], list[Strip]] = LRUCache(CACHED_DIGITS)

    def show(self, title: Text | str, indices: Sequence[int], card: Callable[[int], Card],
             caption_lines: int, keep_page: bool = False) -> None:
        """Show these test images (`card` makes the card of one index); back to page 1 unless `keep_page`."""
        self.title = Text(title) if isinstance(title, str) else title
        self.indices, self.card, self.caption_lines = indices, card, caption_lines
        if not keep_page:
            self.page = 0
        self._redraw()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.indices) / self.per_page))

    def _layout(self) -> tuple[int, int]:
        """(columns, rows) of digits that fit: a title line, then cards of a digit, its caption and a gap."""
        width, height = self.size
        columns = max(1, (width + GAP) // (WIDTH + GAP))
        rows = max(1, (height - 1) // (ROWS + self.caption_lines + 1))
        return columns, rows

    def action_page(self, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))

    def action_first_page(self) -> None:
        self.page = 0

    def action_last_page(self) -> None:
        self.page = self.pages - 1

    def action_step(self, delta: int) -> None:
        self.post_message(self.CellStep(delta))

    def action_close(self) -> None:
        self.post_message(self.Closed())

    def watch_page(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def on_focus(self) -> None:
        self._redraw()  # the background changes with the focus

    def on_blur(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        self._lines = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        if self._lines is None:
            self._lines = self._draw()
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width, self.rich_style)

    @property
    def shown(self) -> Sequence[int]:
        """The test indices on the current page."""
        page = min(self.page, self.pages - 1)
        return self.indices[page * self.per_page:(page + 1) * self.per_page]

    def _draw(self) -> list[Strip]:
        """The page: its title, then rows of digits side by side with their captions."""
        columns, rows = self._layout()
        self.per_page = columns * rows
        base = self.rich_style
        title = self.title.copy()
        if len(self.indices) > self.per_page:
            title.append(f" · page {min(self.page, self.pages - 1) + 1}/{self.pages}", style="bold")
        lines = [self._strip(title, base)]
        color = not self.app.no_color
        cards = [self.card(int(index)) for index in self.shown]
        gap = Strip.blank(GAP, base)
        for start in range(0, len(cards), columns):
            row = cards[start:start + columns]
            lines.append(Strip.blank(self.size.width, base))
            blocks = [[*self._digit(card.image, color, base),
                       *(self._strip(line, base).adjust_cell_length(WIDTH, base) for line in card.caption)]
                      for card in row]
            for y in range(ROWS + self.caption_lines):
                parts: list[Strip] = []
                for block in blocks:
                    if parts:
                        parts.append(gap)
                    parts.append(block[y] if y < len(block) else Strip.blank(WIDTH, base))
                lines.append(Strip.join(parts))
        return lines

    def _strip(self, text: Text, base: Style) -> Strip:
        """One line of text on the gallery's background (Text.render leaves out the Text's own style)."""
        console = self.app.console
        line = base + console.get_style(text.style) if text.style else base
        return Strip(Segment(segment.text, line + segment.style if segment.style else line)
                     for segment in text.render(console, end=""))

    def _digit(self, image: np.ndarray | None, color: bool, base: Style) -> list[Strip]:
        """14 strips of 28 cells: half-blocks in grey, or the ramp without colours (cached per image)."""
        if image is None:
            blank = [Strip.blank(WIDTH, base) for _ in range(ROWS)]
            blank[ROWS // 2] = self._strip(Text(NO_IMAGE.center(WIDTH), style="dim"), base)
            return blank
        key = (np.ascontiguousarray(image).tobytes(), color, base)
        drawn = self._drawn.get(key)
        if drawn is None:
            if color:
                drawn = [Strip([Segment(chars, style) for chars, style in runs], WIDTH)
                         for runs in halfblock_runs(image)]
            else:
                drawn = [Strip([Segment(line, base)], WIDTH) for line in ramp_lines(image)]
            self._drawn.set(key, drawn)
        return drawn
