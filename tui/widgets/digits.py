"""The test images of one confusion cell, drawn as digits with their captions, a page at a time."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.digit_art import ROWS, WIDTH, digit_lines, side_by_side

GAP = 2  # columns between digits
NO_IMAGE = "no image"


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

    def show(self, title: Text | str, indices: Sequence[int], card: Callable[[int], Card],
             caption_lines: int, keep_page: bool = False) -> None:
        """Show these test images (`card` makes the card of one index); back to page 1 unless `keep_page`."""
        self.title = Text(title) if isinstance(title, str) else title
        self.indices, self.card, self.caption_lines = indices, card, caption_lines
        if not keep_page:
            self.page = 0
        self.refresh()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.indices) / self.per_page))

    def _layout(self) -> tuple[int, int]:
        """(columns, rows) of digits that fit: a title line, then cards of a digit, its caption and a gap."""
        width, height = self.content_size
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

    def render(self) -> Text:
        columns, rows = self._layout()
        self.per_page = columns * rows
        page = min(self.page, self.pages - 1)
        shown = self.indices[page * self.per_page:(page + 1) * self.per_page]
        text = self.title.copy()
        if len(self.indices) > self.per_page:
            text.append(f" · page {page + 1}/{self.pages}", style="bold")
        color = not self.app.no_color
        cards = [self.card(int(index)) for index in shown]
        blocks = [[*self._digit(card.image, color), *card.caption] for card in cards]
        for start in range(0, len(blocks), columns):
            text.append("\n")
            for line in side_by_side(blocks[start:start + columns], WIDTH, GAP):
                text.append("\n")
                text.append_text(line)
        return text

    @staticmethod
    def _digit(image: np.ndarray | None, color: bool) -> list[Text]:
        if image is None:
            blank = [Text(" " * WIDTH) for _ in range(ROWS)]
            blank[ROWS // 2] = Text(NO_IMAGE.center(WIDTH), style="dim")
            return blank
        return digit_lines(image, color)
