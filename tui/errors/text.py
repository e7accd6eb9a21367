"""What the Errors tab says, as plain text: whose mistakes, how many, each confusion, each digit's
caption, and `python -m tui --once --errors MODEL`'s whole report. No Textual here."""

from __future__ import annotations

import numpy as np

from mnist_dvc.analysis.errors import Confusion, ModelErrors
from mnist_dvc.analysis.formats import pct
from mnist_dvc.analysis.predictions import Predictions
from tui.errors.digit_art import ramp_lines, side_by_side

ERRORS_HINT = (
    "No predictions yet: the evaluate stage writes each model's prediction for every test image "
    "once both models have trained. Run `dvc repro`, or press 4 and then r."
)
TOP_CONFUSIONS = 10  # `--once --errors` lists this many confusions
FIRST_MISTAKES = 6  # and draws this many misclassified digits
ONCE_PER_ROW = 2  # two digits side by side fit 80 columns


def images_word(count: int) -> str:
    return "1 image" if count == 1 else f"{count:,} images"


def confusion_line(cell: Confusion) -> str:
    """One off-diagonal cell: `4 → 9: 17 images`."""
    return f"{cell.actual} → {cell.predicted}: {images_word(cell.count)}"


def confidence(probability: float) -> str:
    return f"{probability * 100:.1f}%"


def mistakes_line(errors: ModelErrors) -> str:
    """`163 of 10,000 test digits misclassified (1.63%)`."""
    share = pct(errors.misclassified / len(errors))
    return f"{errors.misclassified:,} of {len(errors):,} test digits misclassified ({share})"


def errors_heading(model: str, seed: int | None, errors: ModelErrors | None) -> str:
    """Whose mistakes, and how many: `model_b · seed 42 · 163 of 10,000 test digits misclassified (1.63%)`;
    the seed is left out (None) when the model has only one."""
    count = mistakes_line(errors) if errors is not None else "no predictions"
    return " · ".join([model, *([f"seed {seed}"] if seed is not None else []), count])


def cell_title(errors: ModelErrors, actual: int, predicted: int) -> str:
    """What a cell holds and in which order its digits come."""
    count = int(errors.counts[actual, predicted])
    what = f"{actual} → {predicted}" + (" (correct)" if actual == predicted else "")
    if not count:
        return f"{what}: no test image"
    if not errors.predictions.has_top2:
        order = "in test-set order (no probabilities in this file: rerun `dvc repro evaluate`)"
    else:
        order = "the least confident first" if actual == predicted else "the most confident first"
    return f"{what}: {images_word(count)}, {order}"


def caption_lines(predictions: Predictions, index: int) -> list[str]:
    """Under a digit: its true and predicted labels with the model's confidence, its index and
    the model's second choice (`true 4 · pred 9 · 87.3%`, `#8325 · 2nd 4 (11.2%)`)."""
    actual, predicted = int(predictions.actual[index]), int(predictions.predicted[index])
    if predictions.p_predicted is None or predictions.second is None or predictions.p_second is None:
        return [f"true {actual} · pred {predicted}", f"#{index}"]
    second = f"2nd {int(predictions.second[index])} ({confidence(float(predictions.p_second[index]))})"
    return [f"true {actual} · pred {predicted} · {confidence(float(predictions.p_predicted[index]))}",
            f"#{index} · {second}"]


def other_line(model: str, predictions: Predictions, index: int) -> str:
    """What another model predicted for the same image: `model_a: 4 ✓ 99.1%`."""
    predicted = int(predictions.predicted[index])
    mark = "✓" if predicted == int(predictions.actual[index]) else "✗"
    line = f"{model}: {predicted} {mark}"
    if predictions.p_predicted is not None:
        line += f" {confidence(float(predictions.p_predicted[index]))}"
    return line


def errors_report(model: str, path: str, errors: ModelErrors,
                  images: np.ndarray | None, image_problem: str | None) -> str:
    """`--once --errors MODEL`: the top confusions, then the first misclassified digits as text.
    The path names the seed (reports/predictions/<model>/seed_<s>.csv)."""
    lines = [f"ERRORS {model} ({path})", f"  {mistakes_line(errors)}"]
    if errors.confusions:
        lines.append("  Top confusions (true → predicted):")
        lines += [f"    {confusion_line(cell)}" for cell in errors.confusions[:TOP_CONFUSIONS]]
    mistakes = errors.first_mistakes(FIRST_MISTAKES)
    if not len(mistakes):
        lines.append("  No test digit is misclassified.")
    elif images is None:
        lines.append(f"  The digits are not drawn: {image_problem}")
    else:
        lines.append(f"  The first {len(mistakes)} misclassified test digits:")
        blocks = [[*ramp_lines(images[index]), *caption_lines(errors.predictions, index)]
                  for index in mistakes.tolist()]
        for start in range(0, len(blocks), ONCE_PER_ROW):
            lines.append("")
            lines += [f"  {line.plain}".rstrip() for line in side_by_side(blocks[start:start + ONCE_PER_ROW])]
    return "\n".join(lines) + "\n"
