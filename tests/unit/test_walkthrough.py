"""The text renderer: the default graph against a committed golden drawing, step-by-step
visibility, colours, and the full walkthrough.

To regenerate the golden file after an intended change of the drawing, run
`python -c "from tests.unit.test_walkthrough import write_golden; write_golden()"` and review the diff.
"""

from __future__ import annotations

import pytest
from rich.text import Text

from mnist_dvc.backprop.notation import fmt
from mnist_dvc.backprop.record import Trace, trace
from mnist_dvc.backprop.walkthrough import GRAD_STYLE, VALUE_STYLE, render_graph, render_walkthrough
from tests.helpers import GOLDEN as GOLDEN_DIR

GOLDEN = GOLDEN_DIR / "backprop_default.txt"
ASSIGNMENT = "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
INPUTS = {"x1": 0.7, "w1": -1.5, "x2": 0.34, "w2": -0.35, "x3": 0.2, "w3": -0.25, "x4": -0.9, "w4": 0.2}


def write_golden() -> None:
    GOLDEN.write_text(render_graph(trace(ASSIGNMENT, INPUTS)).plain + "\n")


@pytest.fixture(scope="module")
def default() -> Trace:
    return trace(ASSIGNMENT, INPUTS)


def styles_of(text: Text, fragment: str, part: str | None = None) -> set[str]:
    """The styles covering `part` (default: all) of the first occurrence of `fragment` in `text`."""
    part = part or fragment
    start = text.plain.index(fragment) + fragment.index(part)
    end = start + len(part)
    return {str(span.style) for span in text.spans if span.start <= start and span.end >= end}


def test_default_graph_matches_the_golden_drawing_and_fits_80_columns(default: Trace) -> None:
    drawn = render_graph(default).plain
    assert drawn + "\n" == GOLDEN.read_text()
    assert max(len(line) for line in drawn.splitlines()) <= 80
    for name in ["x1", "w1", "x2", "w2", "x3", "w3", "x4", "w4", "[p ×]", "[a +]", "[b +]", "[f ×]"]:
        assert name in drawn


def test_values_are_green_and_gradients_red(default: Trace) -> None:
    drawn = render_graph(default)
    assert VALUE_STYLE in styles_of(drawn, "−1.169")
    assert VALUE_STYLE in styles_of(drawn, "0.26887")
    assert GRAD_STYLE in styles_of(drawn, "∂ 0.345")
    assert GRAD_STYLE in styles_of(drawn, "∂ 1.0521")


def test_steps_reveal_values_then_gradients_without_moving_anything(default: Trace) -> None:
    before = render_graph(default, -1).plain
    assert "−1.05" not in before and "∂" not in before
    assert "0.7" in before  # inputs are known from the start

    first = render_graph(default, 0)
    assert "−1.05" in first.plain and "−0.119" not in first.plain
    assert "bold reverse" in styles_of(first, "[p ×]")

    last_forward = max(i for i, s in enumerate(default.steps) if s.kind == "forward")
    forward_done = render_graph(default, last_forward).plain
    assert "0.26887" in forward_done and "∂" not in forward_done

    into_x1 = next(i for i, s in enumerate(default.steps) if s.node == "x1")
    midway = render_graph(default, into_x1)
    assert "∂ 0.345" in midway.plain and "∂ −0.161" not in midway.plain
    assert "bold reverse red" in styles_of(midway, "∂ 0.345")

    layouts = {
        tuple(line.find("[") for line in render_graph(default, i).plain.split("\n"))
        for i in range(-1, len(default.steps))
    }
    assert len(layouts) == 1


def test_step_out_of_range_is_a_clear_error(default: Trace) -> None:
    with pytest.raises(ValueError, match="step 21 is out of range: the trace has 21 steps"):
        render_graph(default, 21)
    with pytest.raises(ValueError, match="out of range"):
        render_graph(default, -2)


def test_a_shared_node_is_drawn_once_and_referenced_with_each_use_gradient() -> None:
    result = trace("(x*y)**2 + tanh(x*y) - 2*x", {"x": 0.5, "y": -2.0})
    drawn = render_graph(result).plain
    assert drawn.count("[n1 ×]") == 1
    assert drawn.count("[n1 ↑]") == 1
    for step in result.steps:
        if step.kind == "backward":
            assert f"∂ {fmt(step.value)}" in drawn


def test_walkthrough_lists_every_step_in_order_between_the_graphs(default: Trace) -> None:
    text = render_walkthrough(default).plain
    positions = [text.index(f"{i + 1:>4}. {step.line}\n") for i, step in enumerate(default.steps)]
    assert positions == sorted(positions)
    assert text.index("Forward pass") < positions[0]
    assert text.index("Backward pass") < positions[7]
    assert text.count(render_graph(default).plain) == 1
    assert "  ∂f/∂w4 = 1.0521\n" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_walkthrough_colours_each_result_even_without_a_chain() -> None:
    text = render_walkthrough(trace("x - x", {"x": 2.0}))
    line = "   3. ∂f/∂x += −1   (use 2 of 2; running sum 1 + (−1) = 0)\n"
    assert line in text.plain
    assert GRAD_STYLE in styles_of(text, "+= −1", "−1")
    assert VALUE_STYLE in styles_of(text, "2 − 2 = 0", "0")


def test_softplus_is_written_and_drawn_like_the_other_functions() -> None:
    result = trace("softplus(x1*w1)", {"x1": 0.7, "w1": -1.5})
    assert [s.line for s in result.steps] == [
        "n1 = x1 · w1 = 0.7 · (−1.5) = −1.05",
        "f = softplus(n1) = softplus(−1.05) = 0.300058",
        "∂f/∂n1 = sigmoid(n1) = 0.259225",
        "∂f/∂x1 = ∂f/∂n1 · ∂n1/∂x1 = (0.259225)(−1.5) = −0.388838",
        "∂f/∂w1 = ∂f/∂n1 · ∂n1/∂w1 = (0.259225)(0.7) = 0.181458",
    ]
    drawn = render_graph(result).plain
    assert "├─[n1 ×] ── −1.05 ────────[f softplus] ── 0.300058" in drawn
    text = render_walkthrough(result).plain
    assert "   2. f = softplus(n1) = softplus(−1.05) = 0.300058\n" in text
    assert "  ∂f/∂x1 = −0.388838\n" in text
