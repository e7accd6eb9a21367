"""A 28×28 test image as terminal text: 14 rows of half-blocks in grey levels, or a character ramp.

Each character cell holds two pixels stacked: "▀" takes the upper pixel's grey as its
foreground and the lower one's as its background, so 28×28 pixels fit in 14 rows of 28
columns, about square in a terminal. Without colours (NO_COLOR, `--once` text) each cell is
one character of a ramp from blank to "@" by the mean of its two pixels.

Grey levels stretch each image from its darkest to its brightest pixel. The prepared arrays
hold pixel/255 (`scale`) or (pixel/255 − mean)/std (`standardize`): both are the same
increasing affine map of the raw pixels for every pixel, and a min–max stretch undoes any
such map, so the drawing is the same under either setting and needs no statistics file
(the PNG figures of the plots stage draw the same way: matplotlib stretches each image too).
Ink is bright on black, as in the raw MNIST files. No Textual here: `--once` uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text

from mnist_dvc.core.contracts import IMAGE_SIDE

RAMP = " .:-=+*#%@"
UPPER_HALF = "▀"
ROWS = IMAGE_SIDE // 2  # 14 character rows per digit
WIDTH = IMAGE_SIDE  # 28 character columns per digit


def grey_levels(image: np.ndarray) -> np.ndarray:
    """uint8 (28, 28): the image stretched from its own darkest (0) to its brightest (255) pixel."""
    pixels = np.asarray(image, dtype=np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE)
    low, high = float(pixels.min()), float(pixels.max())
    if not high > low:  # blank (or not finite): nothing to stretch
        return np.zeros((IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    return np.rint((pixels - low) * (255 / (high - low))).astype(np.uint8)


def ramp_lines(image: np.ndarray) -> list[str]:
    """14 lines of 28 ramp characters, each for the mean grey of a pixel above another."""
    grey = grey_levels(image).astype(np.float32)
    pairs = (grey[0::2] + grey[1::2]) / 2
    steps = np.minimum((pairs * len(RAMP) / 256).astype(np.int64), len(RAMP) - 1)
    return ["".join(RAMP[i] for i in row) for row in steps.tolist()]


@lru_cache(maxsize=8192)
def _cell_style(upper: int, lower: int) -> Style:
    lower_grey = Color.from_rgb(lower, lower, lower)
    if upper == lower:
        return Style(bgcolor=lower_grey)
    return Style(color=Color.from_rgb(upper, upper, upper), bgcolor=lower_grey)


def halfblock_runs(image: np.ndarray) -> list[list[tuple[str, Style]]]:
    """14 rows of (characters, style) runs, 28 cells each: "▀" in the upper pixel's grey on the
    lower pixel's grey; two equal pixels are a space on that grey.

    Runs of equal cells are merged, so a digit (mostly black) is a few dozen runs, not 392.
    """
    grey = grey_levels(image)
    rows = []
    for upper_row, lower_row in zip(grey[0::2].tolist(), grey[1::2].tolist(), strict=True):
        runs = []
        start = 0
        for end in range(1, WIDTH + 1):
            if end < WIDTH and upper_row[end] == upper_row[start] and lower_row[end] == lower_row[start]:
                continue
            upper, lower = upper_row[start], lower_row[start]
            runs.append(((" " if upper == lower else UPPER_HALF) * (end - start), _cell_style(upper, lower)))
            start = end
        rows.append(runs)
    return rows


def side_by_side(blocks: Sequence[Sequence[Text | str]], width: int = WIDTH, gap: int = 2) -> list[Text]:
    """Blocks of lines (a digit and its caption) placed left to right, each padded to `width`."""
    height = max((len(block) for block in blocks), default=0)
    lines = []
    for row in range(height):
        line = Text()
        for i, block in enumerate(blocks):
            item = block[row] if row < len(block) else ""
            cell = Text(item) if isinstance(item, str) else item.copy()
            cell.truncate(width, pad=True)
            line.append(" " * gap if i else "")
            line.append_text(cell)
        lines.append(line)
    return lines
