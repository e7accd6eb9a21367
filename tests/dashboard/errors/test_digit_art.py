"""The digit renderer (tui/errors/digit_art.py) against golden text, for a made-up digit and for the
first image of the real MNIST test set (that one needs MNIST_MIRROR).

To regenerate the golden files after an intended change of the drawing, run
`python -c "from tests.dashboard.errors.test_digit_art import write_goldens; write_goldens()"`
(with MNIST_MIRROR set) and review the diff.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.text import Text

from mnist_dvc.core.contracts import RAW_FILES
from mnist_dvc.data.idx import parse_idx
from mnist_dvc.data.normalize import pixel_stats, to_inputs
from mnist_dvc.data.sources import GZ_SUFFIX
from tests.fixtures.errors import synthetic_digit
from tests.helpers import GOLDEN
from tui.errors.digit_art import RAMP, UPPER_HALF, grey_levels, halfblock_runs, ramp_lines, side_by_side

SYNTHETIC = GOLDEN / "digit_synthetic_4.txt"
SYNTHETIC_ANSI = GOLDEN / "digit_synthetic_4.ansi"
MNIST_FIRST = GOLDEN / "digit_mnist_test_0.txt"


def synthetic() -> np.ndarray:
    """The made-up 4, as `prepare` writes it with `scale`: float32 pixel/255."""
    return to_inputs(synthetic_digit(4)[None], 0.0, 1.0)[0]


def mnist_test_images(mirror: Path) -> np.ndarray:
    """The real test images (N, 28, 28), from the mirror's gzip as the download stage reads it."""
    name = RAW_FILES["test"][0]
    return parse_idx(gzip.decompress((mirror / (name + GZ_SUFFIX)).read_bytes()), name)


def halfblock_lines(image: np.ndarray) -> list[Text]:
    """The half-block rows as the gallery draws them, as rich Text lines."""
    return [Text.assemble(*runs) for runs in halfblock_runs(image)]


def ansi(lines: list[Text]) -> str:
    """The half-block lines as a truecolor terminal receives them."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=80, legacy_windows=False)
    for line in lines:
        console.print(line, no_wrap=True)
    return out.getvalue()


def write_goldens() -> None:
    SYNTHETIC.write_text("\n".join(ramp_lines(synthetic())) + "\n")
    SYNTHETIC_ANSI.write_text(ansi(halfblock_lines(synthetic())))
    first = mnist_test_images(Path(os.environ["MNIST_MIRROR"]))[:1]
    MNIST_FIRST.write_text("\n".join(ramp_lines(to_inputs(first, 0.0, 1.0)[0])) + "\n")


def test_a_made_up_digit_matches_its_golden_text() -> None:
    lines = ramp_lines(synthetic())
    assert len(lines) == 14 and {len(line) for line in lines} == {28}
    assert "\n".join(lines) + "\n" == SYNTHETIC.read_text()
    assert set("".join(lines)) <= set(RAMP)


def test_its_half_blocks_match_their_golden_escape_codes() -> None:
    assert ansi(halfblock_lines(synthetic())) == SYNTHETIC_ANSI.read_text()


def test_the_first_mnist_test_image_matches_its_golden_text(mnist_mirror: Path) -> None:
    first = mnist_test_images(mnist_mirror)[:1]
    assert "\n".join(ramp_lines(to_inputs(first, 0.0, 1.0)[0])) + "\n" == MNIST_FIRST.read_text()


def test_either_normalization_draws_the_same_digit(mnist_mirror: Path) -> None:
    """scale and standardize are one increasing affine map of the pixels: the stretch undoes it."""
    images = mnist_test_images(mnist_mirror)[:20]
    mean, std = pixel_stats(images)
    for scaled, standardized in zip(to_inputs(images, 0.0, 1.0), to_inputs(images, mean, std), strict=True):
        assert ramp_lines(scaled) == ramp_lines(standardized)
        assert np.abs(grey_levels(scaled).astype(int) - grey_levels(standardized)).max() <= 1


def cells(line: Text) -> list[tuple[str, int | None, int | None]]:
    """(character, foreground grey, background grey) of each cell of a half-block line."""
    found = []
    for span in line.spans:
        fg = span.style.color.triplet.red if span.style.color else None
        bg = span.style.bgcolor.triplet.red
        found += [(char, fg, bg) for char in line.plain[span.start:span.end]]
    return found


def test_each_cell_shows_the_upper_pixel_over_the_lower_one() -> None:
    image = synthetic()
    grey = grey_levels(image)
    lines = halfblock_lines(image)
    assert len(lines) == 14
    for row, line in enumerate(lines):
        drawn = cells(line)
        assert len(drawn) == 28 == len(line.plain)
        for column, (char, fg, bg) in enumerate(drawn):
            upper, lower = grey[2 * row, column], grey[2 * row + 1, column]
            assert bg == lower
            assert (char, fg) == ((" ", None) if upper == lower else (UPPER_HALF, upper))
    assert sum(len(line.spans) for line in lines) < 150, "runs of equal cells share a span"


def test_grey_levels_stretch_each_image_and_a_blank_one_is_black() -> None:
    image = np.linspace(-0.4, 2.8, 784, dtype=np.float32)
    grey = grey_levels(image)
    assert grey.shape == (28, 28) and grey.min() == 0 and grey.max() == 255
    assert grey_levels(np.full(784, 0.3, dtype=np.float32)).max() == 0
    assert ramp_lines(np.zeros(784, dtype=np.float32)) == [" " * 28] * 14


def test_blocks_side_by_side_are_padded_to_the_digit_width() -> None:
    lines = side_by_side([["ab", "c"], ["defg"]], width=5, gap=1)
    assert [line.plain for line in lines] == ["ab    defg ", "c          "]
