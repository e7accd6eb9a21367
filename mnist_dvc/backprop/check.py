"""Checking the autodiff engine: the same gradients from TensorFlow and from finite differences.

The engine is pure Python written for this project, so the `backprop` stage does not
trust it: it recomputes the gradients with TensorFlow's GradientTape in float64 (from
the same parse) and with central finite differences, and records both comparisons.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from functools import reduce
from typing import Any

from mnist_dvc.backprop.expression import evaluate, parse
from mnist_dvc.backprop.ops import OPS, Op
from mnist_dvc.backprop.record import Trace, build
from mnist_dvc.core.records.backprop import Backprop, Check, Checks

TF_TOLERANCE = 1e-9
FD_TOLERANCE = 1e-6
# Central differences: truncation error ~ h², rounding error ~ 1e-16/h; h = 1e-5
# (scaled by |x|) keeps both near 1e-10 for well-scaled expressions.
FD_STEP = 1e-5


def tensorflow_gradients(expression: str, inputs: Mapping[str, float]) -> tuple[float, dict[str, float]]:
    """f and ∂f/∂input from tf.GradientTape on float64 variables, from the same parse as the engine."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf  # only here: a second-long import the engine and --explain never pay

    tree = parse(expression, inputs)
    variables = {name: tf.Variable(value, dtype=tf.float64, name=name) for name, value in inputs.items()}
    ops = {name: tensorflow_function(tf, op) for name, op in OPS.items()}
    with tf.GradientTape() as tape:
        f = evaluate(tree, variables.__getitem__, lambda v: tf.constant(v, dtype=tf.float64), ops)
    grads = tape.gradient(f, list(variables.values()), unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return float(f.numpy()), {name: float(g.numpy()) for name, g in zip(variables, grads, strict=True)}


def tensorflow_function(tf: Any, op: Op) -> Callable[..., Any]:
    """The registry's TensorFlow counterpart of `op`, with a constant exponent made a float64 tensor."""
    function = reduce(getattr, op.tensorflow.split("."), tf)
    if op.exponent:
        return lambda *args: function(*args[:-1], tf.constant(args[-1], dtype=tf.float64))
    return function


def finite_difference_gradients(
    expression: str, inputs: Mapping[str, float], step: float = FD_STEP
) -> dict[str, float]:
    """∂f/∂input ≈ (f(x + h) − f(x − h)) / 2h, with f evaluated by the engine's forward pass."""
    grads = {}
    for name, x in inputs.items():
        h = step * max(1.0, abs(x))
        up, down = x + h, x - h
        f_up = build(expression, {**inputs, name: up})[0].data
        f_down = build(expression, {**inputs, name: down})[0].data
        grads[name] = (f_up - f_down) / (up - down)
    return grads


def compare(engine: Mapping[str, float], other: Mapping[str, float], tolerance: float,
            **extra: float) -> Check:
    """The check record: the largest |difference| over all inputs, and which input it is
    (`extra`: what else the method reports, TensorFlow's `f` or the finite differences' `step`).

    A non-finite gradient from the reference (NaN from TensorFlow, say) counts
    as the worst possible disagreement and is written as null, since JSON has
    no NaN.
    """
    diffs = {name: abs(engine[name] - other[name]) for name in engine}
    worst = max(diffs, key=lambda name: diffs[name] if math.isfinite(diffs[name]) else math.inf)
    finite = math.isfinite(diffs[worst])
    return Check(
        max_abs_diff=diffs[worst] if finite else None,
        worst=worst,
        tolerance=tolerance,
        ok=finite and diffs[worst] <= tolerance,
        grads={name: g if math.isfinite(g) else None for name, g in other.items()},
        **extra,
    )


def check_record(result: Trace, tf_f: float, tf_grads: Mapping[str, float],
                 fd_grads: Mapping[str, float]) -> Backprop:
    """`reports/backprop.json`: the engine's results and both comparisons (its `headline()`, f
    and grads, is the DVC metric `metrics/backprop.json`)."""
    return Backprop(
        expression=result.expression,
        inputs=result.inputs,
        f=result.f,
        values=result.values,
        grads=result.grads,
        check=Checks(tensorflow=compare(result.grads, tf_grads, TF_TOLERANCE, f=tf_f),
                     finite_difference=compare(result.grads, fd_grads, FD_TOLERANCE, step=FD_STEP)),
    )
