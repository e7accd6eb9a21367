"""`reports/backprop.json` and `metrics/backprop.json`: written by `backprop`."""

from __future__ import annotations

from mnist_dvc.core.records.base import Record


class Check(Record):
    """The engine's gradients against another method's: the largest |difference| (None when not
    finite) and at which input, within `tolerance` or not."""

    max_abs_diff: float | None
    worst: str
    tolerance: float
    ok: bool
    grads: dict[str, float | None]  # the other method's ∂f/∂input (None: not finite)
    f: float | None = None  # TensorFlow's f
    step: float | None = None  # the finite differences' relative step


class Checks(Record):
    tensorflow: Check
    finite_difference: Check


class BackpropHeadline(Record):
    """`metrics/backprop.json` (the DVC metric): f and ∂f/∂input."""

    f: float
    grads: dict[str, float]


class Backprop(Record):
    """`reports/backprop.json`: the expression at its inputs, every intermediate value, the gradients
    and both checks of them."""

    expression: str
    inputs: dict[str, float]
    f: float
    values: dict[str, float]  # intermediate node -> value
    grads: dict[str, float]  # input -> ∂f/∂input
    check: Checks

    def headline(self) -> BackpropHeadline:
        return BackpropHeadline(f=self.f, grads=self.grads)
