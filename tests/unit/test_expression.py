"""The expression parser: what it accepts, what it names, and what it refuses (and how it says so)."""

from __future__ import annotations

import pytest

from mnist_dvc.backprop.expression import (
    ASSIGNMENT_EXPRESSION,
    ASSIGNMENT_INPUTS,
    Apply,
    ExpressionError,
    Name,
    Number,
    evaluate,
    parse,
    readable_names,
)
from mnist_dvc.backprop.ops import OPERATIONS


def test_parses_every_operation_into_the_tree() -> None:
    text = "-x + 2*y - x/y + x**-1.5 + relu(x) + sigmoid(x) + tanh(x) + exp(x) + log(y) + softplus(y)"
    tree = parse(text, ["x", "y"])
    ops = set()

    def collect(node: object) -> None:
        if isinstance(node, Apply):
            ops.add(node.op)
            for arg in node.args:
                collect(arg)

    collect(tree)
    assert ops == set(OPERATIONS)


def test_numbers_and_unary_minus_on_numbers_are_constants() -> None:
    assert parse("x ** -2", ["x"]) == Apply("pow", (Name("x"),), -2.0)
    assert parse("-1.5 * x", ["x"]) == Apply("mul", (Number(-1.5), Name("x")))
    assert parse("+x - 3", ["x"]) == Apply("sub", (Name("x"), Number(3.0)))


def test_parses_softplus_of_a_product() -> None:
    tree = parse("softplus(x1*w1)", ["x1", "w1"])
    assert tree == Apply("softplus", (Apply("mul", (Name("x1"), Name("w1"))),))
    assert tree.source == "softplus(x1*w1)"


def test_evaluate_computes_repeated_subexpressions_once() -> None:
    calls = []

    def mul(a: float, b: float) -> float:
        calls.append((a, b))
        return a * b

    ops = {"mul": mul, "add": lambda a, b: a + b}
    result = evaluate(parse("x*y + x*y", ["x", "y"]), {"x": 2.0, "y": 5.0}.__getitem__, float, ops)
    assert result == 20.0
    assert calls == [(2.0, 5.0)]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("__import__('os')", ["unknown function", "`__import__`"]),
        ("__import__('os').system('echo hi')", ["attribute access", "__import__('os').system"]),
        ("x.real + 1", ["attribute access", "`x.real`"]),
        ("sin(x)", ["unknown function", "`sin`", "relu, sigmoid, tanh, exp, log"]),
        ("x * y", ["unknown name", "`y`", "the inputs are x"]),
        ("x ^ 2", ["operator `^`", "write **"]),
        ("x // 2", ["operator `//`"]),
        ("x ** x", ["exponent `x`", "must be a number"]),
        ("relu(x, x)", ["relu takes exactly one argument"]),
        ("softplus(*x)", ["softplus takes exactly one argument"]),
        ("softmax(x)", ["unknown function", "`softmax`", "relu, sigmoid, tanh, exp, log, softplus"]),
        ("exp(x=1)", ["exp takes exactly one argument"]),
        ("'text' * x", ["`'text'` is not a real number"]),
        ("True + x", ["`True` is not a real number"]),
        ("2j * x", ["`2j` is not a real number"]),
        ("[x][0]", ["`[x][0]` is not allowed"]),
        ("lambda: x", ["`lambda: x` is not allowed"]),
        ("x if x else 1", ["is not allowed"]),
        ("x < 1", ["`x < 1` is not allowed"]),
        ("not x", ["`not x` is not allowed"]),
        ("x +", ["cannot parse `x +`", "invalid syntax"]),
        ("x = 1", ["cannot parse"]),
        ("   ", ["the expression is empty"]),
        ("1e999 * x", ["`1e999` is too large"]),
        ("+".join(["x"] * 20000), ["nested too deeply"]),
    ],
)
def test_rejects_anything_but_the_allowed_operations(text: str, fragments: list[str]) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text, ["x"])
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_the_assignment_gets_its_own_names_however_it_is_spaced() -> None:
    tree = parse("(x1 * w1+x2 * w2)*(x3*w3 + x4*w4)", ASSIGNMENT_INPUTS)
    assert readable_names(tree, 6, ASSIGNMENT_INPUTS) == ["p", "q", "r", "s", "a", "b"]


def test_other_graphs_get_generated_names_that_avoid_the_inputs() -> None:
    # Same shape as the assignment but different inputs: not the assignment's graph.
    tree = parse("(n1*w1 + x2*w2) * (x3*w3 + x4*w4)", ["n1", "w1", "x2", "w2", "x3", "w3", "x4", "w4"])
    assert readable_names(tree, 3, ["n1", "w1"]) == ["n2", "n3", "n4"]
    assert parse(ASSIGNMENT_EXPRESSION, ASSIGNMENT_INPUTS) != tree
