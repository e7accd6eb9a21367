"""The autodiff engine: the assignment's numbers, the recorded steps, and agreement with
TensorFlow (float64 GradientTape) and central finite differences on many graphs and inputs."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from mnist_dvc.backprop.engine import Value
from mnist_dvc.backprop.expression import ExpressionError
from mnist_dvc.backprop.ops import OPERATIONS
from mnist_dvc.backprop.record import trace

ASSIGNMENT = "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
INPUTS = {"x1": 0.7, "w1": -1.5, "x2": 0.34, "w2": -0.35, "x3": 0.2, "w3": -0.25, "x4": -0.9, "w4": 0.2}
# The hand calculation in the assignment's Question 1.
VALUES = {"p": -1.05, "q": -0.119, "r": -0.05, "s": -0.18, "a": -1.169, "b": -0.23}
F = 0.26887
GRADS = {
    "x1": 0.345, "w1": -0.161, "x2": 0.0805, "w2": -0.0782,
    "x3": 0.29225, "w3": -0.2338, "x4": -0.2338, "w4": 1.0521,
}

# Together these use every operation; the last reuses x*y (an intermediate node feeding three others).
EXPRESSIONS = [
    "x*x + x",
    "(x - y) / (x + y) ** 2",
    "-x * y ** -1 + x ** 0.5 - 3",
    "relu(x - y) + relu(y - x) * sigmoid(x * y)",
    "tanh(x / y) - exp(-y) * log(x + 1)",
    "log(sigmoid(x) + exp(tanh(y))) * (x*y)**2 - (x*y) + relu(x*y)",
    "softplus(x*y - 2) * softplus(-x) + softplus(30*y)",
]


@pytest.fixture(scope="module")
def tensorflow() -> Callable:
    """TensorFlow's gradients; its import costs seconds, so it is paid once for this module."""
    pytest.importorskip("tensorflow")
    from mnist_dvc.backprop.check import tensorflow_gradients

    return tensorflow_gradients


def test_assignment_values_and_gradients_match_the_hand_calculation() -> None:
    result = trace(ASSIGNMENT, INPUTS)
    assert result.values == pytest.approx(VALUES, abs=1e-12, rel=0)
    assert result.f == pytest.approx(F, abs=1e-12, rel=0)
    assert result.grads == pytest.approx(GRADS, abs=1e-12, rel=0)
    assert list(result.values) == ["p", "q", "r", "s", "a", "b"]
    assert list(result.grads) == list(INPUTS)


def test_steps_follow_the_hand_calculation_in_order() -> None:
    result = trace(ASSIGNMENT, INPUTS)
    forward = [s for s in result.steps if s.kind == "forward"]
    backward = [s for s in result.steps if s.kind == "backward"]
    assert result.steps == forward + backward
    assert [s.node for s in forward] == ["p", "q", "r", "s", "a", "b", "f"]
    assert all(s.edge is None for s in forward)
    assert forward[0].line == "p = x1 · w1 = 0.7 · (−1.5) = −1.05"
    assert forward[-1].line == "f = a · b = (−1.169) · (−0.23) = 0.26887"
    assert [s.edge for s in backward] == [
        ("f", "a"), ("f", "b"), ("a", "p"), ("a", "q"), ("b", "r"), ("b", "s"),
        ("p", "x1"), ("p", "w1"), ("q", "x2"), ("q", "w2"),
        ("r", "x3"), ("r", "w3"), ("s", "x4"), ("s", "w4"),
    ]
    assert all(s.node == s.edge[1] for s in backward)
    lines = {s.node: s.line for s in backward}
    assert lines["a"] == "∂f/∂a = b = −0.23"
    assert lines["p"] == "∂f/∂p = ∂f/∂a · ∂a/∂p = (−0.23)(1) = −0.23"
    assert lines["x1"] == "∂f/∂x1 = ∂f/∂a · ∂a/∂p · ∂p/∂x1 = (−0.23)(1)(−1.5) = 0.345"
    assert lines["w4"] == "∂f/∂w4 = ∂f/∂b · ∂b/∂s · ∂s/∂w4 = (−1.169)(1)(−0.9) = 1.0521"
    for s in backward:
        assert s.value == pytest.approx(s.upstream * s.local, abs=1e-15)


def test_gradients_add_at_forks_with_a_running_sum() -> None:
    result = trace("x*x + x", {"x": 3.0})
    assert result.f == 12.0
    assert result.grads == {"x": 7.0}  # d(x² + x)/dx = 2x + 1
    into_x = [s for s in result.steps if s.kind == "backward" and s.node == "x"]
    assert [s.value for s in into_x] == [1.0, 3.0, 3.0]
    assert [s.total for s in into_x] == [1.0, 4.0, 7.0]
    assert [s.operand for s in into_x] == [1, 0, 1]
    assert into_x[0].line == "∂f/∂x = 1   (use 1 of 3; running sum 1)"
    assert into_x[1].line == "∂f/∂x += ∂f/∂n1 · ∂n1/∂x = (1)(3) = 3   (use 2 of 3; running sum 1 + 3 = 4)"


def test_chain_restarts_from_the_summed_gradient_of_a_shared_node() -> None:
    result = trace("(x*y)**2 + tanh(x*y)", {"x": 0.5, "y": -2.0})
    assert [s.node for s in result.steps if s.kind == "forward"] == ["n1", "n2", "n3", "f"]
    into_n1 = [s for s in result.steps if s.kind == "backward" and s.node == "n1"]
    assert len(into_n1) == 2
    n1_grad = into_n1[-1].total
    into_x = next(s for s in result.steps if s.kind == "backward" and s.node == "x")
    assert into_x.line.startswith("∂f/∂x = ∂f/∂n1 · ∂n1/∂x = (")
    assert into_x.upstream == n1_grad
    assert into_x.value == pytest.approx(n1_grad * -2.0)


def test_value_operators_in_micrograd_style() -> None:
    x, y = Value(2.0, "x"), Value(-3.0, "y")
    h = x * y  # used three times below
    out = h * h + h.relu() + 1 / x - (2 - y) ** 2 + h.exp().log() / 4
    out.backward()
    # d/dh = 2h + relu'(h) + 1/4 with h = -6; dh/dx = y, dh/dy = x
    assert x.grad == pytest.approx((-12 + 0 + 0.25) * -3.0 - 1 / 4.0, abs=1e-12)
    assert y.grad == pytest.approx((-12 + 0 + 0.25) * 2.0 + 2 * (2 + 3.0), abs=1e-12)
    assert h.grad == pytest.approx(-11.75, abs=1e-12)
    with pytest.raises(TypeError):
        x ** y


@pytest.mark.parametrize(
    ("expression", "inputs", "fragment"),
    [
        ("log(x)", {"x": -1.0}, "cannot compute `log(x)` at these inputs: log needs a positive argument"),
        ("1/(x - x)", {"x": 2.0}, "cannot compute `1/(x - x)` at these inputs: division by zero"),
        ("exp(x)", {"x": 1000.0}, "exp(1000) is too large"),
        ("x ** 0.5", {"x": -4.0}, "(−4)^0.5 is not a real number"),
        ("x ** -1", {"x": 0.0}, "division by zero"),
        ("x*f", {"x": 1.0, "f": 2.0}, "input name `f` is reserved"),
        ("x", {"x": 1.0}, "no operation to differentiate"),
        ("x * y", {"x": 1.0}, "unknown name `y`"),
    ],
)
def test_expressions_that_cannot_be_computed_say_where(expression: str, inputs: dict, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        trace(expression, inputs)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("x", "value", "slope"),
    [
        (0.0, math.log(2), 0.5),
        (1.0, math.log1p(math.e), math.e / (1 + math.e)),
        (-2.5, math.log1p(math.exp(-2.5)), 1 / (1 + math.exp(2.5))),
        (-40.0, math.exp(-40), math.exp(-40)),  # log(1 + e^−40) would round to 0
        (1000.0, 1000.0, 1.0),  # e^1000 overflows a float
        (-1000.0, 0.0, 0.0),
    ],
)
def test_softplus_is_log_1_plus_exp_with_derivative_sigmoid_even_far_from_0(
    x: float, value: float, slope: float
) -> None:
    result = trace("softplus(x)", {"x": x})
    assert result.f == pytest.approx(value, rel=1e-15, abs=0)
    assert result.grads["x"] == pytest.approx(slope, rel=1e-15, abs=0)


def test_the_test_expressions_use_every_operation() -> None:
    used = {node.op for e in EXPRESSIONS for node in trace(e, {"x": 1.3, "y": 0.6}).nodes.values()}
    assert set(OPERATIONS) <= used


def _check(expression: str, inputs: dict[str, float], tensorflow: Callable) -> None:
    from mnist_dvc.backprop.check import finite_difference_gradients

    result = trace(expression, inputs)
    tf_f, tf_grads = tensorflow(expression, inputs)
    assert result.f == pytest.approx(tf_f, abs=1e-12, rel=1e-12)
    for name, grad in result.grads.items():
        assert abs(grad - tf_grads[name]) <= 1e-9, (expression, inputs, name)
    for name, grad in finite_difference_gradients(expression, inputs).items():
        assert abs(grad - result.grads[name]) <= 1e-6, (expression, inputs, name)


def test_assignment_graph_agrees_with_tensorflow_and_finite_differences_on_random_inputs(
    tensorflow: Callable,
) -> None:
    rng = random.Random(5)
    for _ in range(25):
        _check(ASSIGNMENT, {name: rng.uniform(-2.0, 2.0) for name in INPUTS}, tensorflow)


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_every_operation_agrees_with_tensorflow_and_finite_differences(
    expression: str, tensorflow: Callable
) -> None:
    rng = random.Random(expression)
    for _ in range(5):
        _check(expression, {"x": rng.uniform(0.2, 2.0), "y": rng.uniform(0.2, 2.0)}, tensorflow)


@pytest.mark.parametrize("inputs", [{"x": 750.0, "y": -2.0}, {"x": -750.0, "y": 0.5}])
def test_softplus_agrees_with_tensorflow_and_finite_differences_far_from_0(
    inputs: dict[str, float], tensorflow: Callable
) -> None:
    _check("softplus(x) - softplus(-x) + softplus(x*y)", inputs, tensorflow)


def test_unused_inputs_have_zero_gradient(tensorflow: Callable) -> None:
    result = trace("x * 2", {"x": 1.5, "unused": 4.0})
    assert result.grads == {"x": 2.0, "unused": 0.0}
    assert tensorflow("x * 2", {"x": 1.5, "unused": 4.0})[1] == result.grads
