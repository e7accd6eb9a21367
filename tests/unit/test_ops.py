"""The registry of operations (ops.py): every operation in it is complete, so none is half-registered.

Each one must be accepted by the parser as it is written, be a method of Value
whose value and gradients are its rule's, be written by the hand calculation
and drawn in the graph, and have a TensorFlow counterpart that agrees with the
engine and with finite differences. These tests cover a new operation without
being edited; one that fails them is not finished.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from mnist_dvc.backprop.engine import Value
from mnist_dvc.backprop.expression import Apply, ExpressionError, Name, parse
from mnist_dvc.backprop.notation import fmt, symbol
from mnist_dvc.backprop.ops import OPS, Op, operation
from mnist_dvc.backprop.record import trace
from mnist_dvc.backprop.walkthrough import render_graph, render_walkthrough
from tests.helpers import ROOT

EXPONENT = 2.5
# Every operation is defined at these inputs; some (log, a power by 2.5) are not at the others.
INSIDE = [{"x": 0.7, "y": 1.3}, {"x": 1.9, "y": 0.4}]
MAYBE_OUTSIDE = [{"x": -0.6, "y": 0.8}, {"x": -1.7, "y": -0.9}]
ALL = pytest.mark.parametrize("op", list(OPS.values()), ids=list(OPS))


def written(op: Op) -> str:
    """The operation on x (and y), as an expression writes it."""
    if op.exponent:
        return f"x {op.written} {EXPONENT}"
    if op.syntax == "infix":
        return f"x {op.written} y"
    if op.syntax == "prefix":
        return f"{op.written}x"
    return f"{op.written}({', '.join(['x', 'y'][:op.arity])})"


@pytest.fixture(scope="module")
def tensorflow() -> Callable:
    pytest.importorskip("tensorflow")
    from mnist_dvc.backprop.check import tensorflow_gradients

    return tensorflow_gradients


@ALL
def test_the_parser_accepts_each_operation_as_written(op: Op) -> None:
    tree = parse(written(op), ["x", "y"])
    assert tree == Apply(op.name, (Name("x"), Name("y"))[: op.arity], EXPONENT if op.exponent else None)


@ALL
def test_each_operation_is_a_value_method_computed_by_its_rule(op: Op) -> None:
    operands = [Value(0.7, "x"), Value(1.3, "y")][: op.arity]
    constant = [EXPONENT] if op.exponent else []
    method = getattr(Value, op.method if op.syntax == "call" else f"__{op.method}__")
    node = method(*operands, *constant)
    node.backward()
    value, local = op.rule(0.7, 1.3, *constant) if op.arity == 2 else op.rule(0.7, *constant)
    assert (node.op, node.data) == (op.name, value)
    assert [v.grad for v in operands] == list(local)
    if op.syntax == "infix" and not op.exponent:
        assert getattr(Value, f"__r{op.method}__")(operands[1], 0.7).data == value  # 0.7 <op> y


@ALL
def test_each_operation_is_written_by_the_hand_calculation_and_drawn(op: Op) -> None:
    result = trace(written(op), INSIDE[0])
    [forward] = [s for s in result.steps if s.kind == "forward"]
    assert forward.line.startswith("f = ")
    assert forward.line.endswith(f" = {fmt(result.f)}")
    assert "0.7" in forward.line.split(" = ")[2]  # the operand's value, in the numeric formula
    backward = [s for s in result.steps if s.kind == "backward"]
    assert [s.node for s in backward] == ["x", "y"][: op.arity]
    for step in backward:
        assert step.line.startswith(f"∂f/∂{step.node} = ")
        assert step.line.endswith(fmt(step.value))
    for step in result.steps:
        assert "{" not in step.line and "}" not in step.line and " =  " not in step.line
    drawn = render_graph(result).plain
    assert f"[f {symbol(op, result.nodes['f'].exponent)}]" in drawn
    assert forward.line in render_walkthrough(result).plain


@ALL
def test_each_operation_agrees_with_tensorflow_and_finite_differences(op: Op, tensorflow: Callable) -> None:
    from mnist_dvc.backprop.check import finite_difference_gradients

    text = written(op)
    for inputs in INSIDE + MAYBE_OUTSIDE:
        try:
            result = trace(text, inputs)
        except ExpressionError:
            assert inputs in MAYBE_OUTSIDE, (text, inputs)
            continue
        tf_f, tf_grads = tensorflow(text, inputs)
        assert result.f == pytest.approx(tf_f, abs=1e-12, rel=1e-12), (text, inputs)
        for name, grad in result.grads.items():
            assert abs(grad - tf_grads[name]) <= 1e-9, (text, inputs, name)
        for name, grad in finite_difference_gradients(text, inputs).items():
            assert abs(grad - result.grads[name]) <= 1e-6, (text, inputs, name)


def _cube(x: float) -> tuple[float, tuple[float, ...]]:
    return x**3, (3 * x * x,)


@pytest.mark.parametrize(
    ("name", "spec", "problem"),
    [
        ("cube", {"derivatives": ()}, "call takes 1 operand(s), so 1 derivative(s)"),
        ("cube", {"derivatives": ("3·{y}²",)}, "template `3·{y}²` uses ['y']"),
        ("cube", {"symbol": ""}, "symbol `` must be non-empty"),
        ("cube", {"exponent": True}, "only an infix operation takes a constant exponent"),
        ("cube", {"tensorflow": "tf.math.pow(x, 3)"}, "a name and a dotted name"),
        ("cube", {"infix": "+"}, "`+` already spells another operation"),
        ("cube", {"infix": "^", "derivatives": ("1", "1")}, "`__cube__` is not a Python operator method"),
        ("relu", {}, "the name is taken"),
    ],
)
def test_an_incomplete_or_clashing_operation_is_refused_when_registered(
    name: str, spec: dict, problem: str
) -> None:
    complete = {"symbol": "³", "derivatives": ("3·{x}²",), "tensorflow": "math.pow"}
    before = dict(OPS)
    with pytest.raises(ValueError, match=f"operation `{name}`: .*{re.escape(problem)}"):
        operation(name, **{**complete, **spec})(_cube)
    assert dict(OPS) == before


def test_the_engine_parser_and_walkthrough_never_import_tensorflow() -> None:
    code = ("import sys, mnist_dvc.backprop.record, mnist_dvc.backprop.walkthrough, "
            "mnist_dvc.backprop.check; print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
