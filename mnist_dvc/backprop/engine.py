"""A scalar reverse-mode autodiff engine, in the spirit of micrograd.

Each `Value` holds a number, its gradient, the operation that made it, its
operands in order and the local derivative with respect to each. Both come
from the operation's rule in ops.py the moment the node is made, so
`backward()` only multiplies and adds. The engine writes nothing down:
record.py turns a run into the hand calculation. Pure Python (no TensorFlow,
no Textual), so the dashboard imports it instantly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

from mnist_dvc.backprop.ops import OPS, Op

__all__ = ["Value", "graph", "propagate"]


class Value:
    """A scalar in the graph. Arithmetic on Values (and plain numbers) builds the graph.

    Every operation in ops.py is a method: `x * y`, `2 - x`, `-x`, `x ** 2`,
    `x.relu()`, `x.softplus()`, ...; `op` is "input", "const" or the operation's name.
    """

    __slots__ = ("data", "exponent", "grad", "local", "name", "op", "parents")

    def __init__(self, data: float, name: str = "", op: str = "input") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.name = name
        self.op = op
        self.parents: list[Value] = []
        self.local: list[float] = []
        self.exponent: float | None = None

    @classmethod
    def apply(cls, op: str, parents: Sequence[Value], exponent: float | None = None) -> Value:
        """The node `op(parents)` (`exponent`: pow's constant), computed at once as in micrograd."""
        node = cls(0.0, op=op)
        node.parents = list(parents)
        node.exponent = None if exponent is None else float(exponent)
        node.compute()
        return node

    def compute(self) -> None:
        """(Re)compute this node's value and local derivatives from its operands' values."""
        args = [p.data for p in self.parents]
        if self.exponent is not None:
            args.append(self.exponent)
        value, local = OPS[self.op].rule(*args)
        if not math.isfinite(value) or not all(math.isfinite(d) for d in local):
            raise OverflowError("the result is not a finite number (overflow)")
        self.data = value + 0.0  # turns -0.0 into 0.0
        self.local = list(local)

    def backward(self) -> None:
        """Fill `grad` of every node this one depends on (micrograd's entry point)."""
        for _ in propagate(self):
            pass

    def __repr__(self) -> str:
        return f"Value({self.name or self.op}={self.data:g}, grad={self.grad:g})"


def _lift(other: Value | float) -> Value:
    return other if isinstance(other, Value) else Value(other, op="const")


def _methods(op: Op) -> dict[str, Callable[..., Value]]:
    """The operation's Python spelling on Value: `__mul__` and `__rmul__`, `__neg__`, `__pow__`, `relu`."""

    def unary(self: Value) -> Value:
        return Value.apply(op.name, [self])

    def binary(self: Value, other: Value | float) -> Value:
        return Value.apply(op.name, [self, _lift(other)])

    def reflected(self: Value, other: float) -> Value:
        return Value.apply(op.name, [_lift(other), self])

    def power(self: Value, exponent: float) -> Value:
        if isinstance(exponent, Value):
            raise TypeError("only powers by a constant are supported")
        return Value.apply(op.name, [self], exponent)

    if op.exponent:
        return {f"__{op.method}__": power}
    if op.syntax == "infix":
        return {f"__{op.method}__": binary, f"__r{op.method}__": reflected}
    if op.syntax == "prefix":
        return {f"__{op.method}__": unary}
    return {op.method: unary}


def _install_operations() -> None:
    """Value's arithmetic comes from the registry, so a new operation needs no edit here."""
    for op in OPS.values():
        for name, method in _methods(op).items():
            if name in vars(Value):
                raise TypeError(f"operation `{op.name}` would replace Value.{name}")
            method.__name__, method.__qualname__ = name, f"Value.{name}"
            method.__doc__ = f"The `{op.name}` operation (see ops.py)."
            setattr(Value, name, method)


_install_operations()


def graph(output: Value, reverse: bool = False) -> list[Value]:
    """Every node `output` depends on, in a topological order that is stable and readable.

    Nodes are ordered by height (longest path from a leaf), ties left to right,
    so the assignment's graph runs p, q, r, s, a, b, f like its hand calculation;
    `reverse` gives the backward order, highest first, still left to right
    (f, a, b, p, q, ...). Iterative, so a long expression cannot exhaust
    Python's recursion limit.
    """
    order: list[Value] = []
    height: dict[Value, int] = {}
    stack: list[tuple[Value, bool]] = [(output, False)]
    while stack:
        node, expanded = stack.pop()
        if node in height:
            continue
        if expanded:
            height[node] = 1 + max((height[p] for p in node.parents), default=-1)
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(node.parents) if p not in height)
    position = {node: i for i, node in enumerate(order)}
    sign = -1 if reverse else 1
    return sorted(order, key=lambda n: (sign * height[n], position[n]))


def propagate(output: Value) -> Iterator[tuple[Value, int, float]]:
    """Backpropagate from `output`, yielding each edge as its share of the gradient is added.

    An edge is (consumer, operand index, the operand's gradient before this
    share). Nodes are visited in reverse topological order, so a node's
    gradient is complete (every consumer has added its share) before it passes
    it on. Only nodes that depend on an input receive a gradient: no step is
    spent on constants.
    """
    nodes = graph(output, reverse=True)
    for node in nodes:
        node.grad = 0.0
    live = set()
    for node in reversed(nodes):
        if node.op == "input" or any(p in live for p in node.parents):
            live.add(node)
    output.grad = 1.0
    for node in nodes:
        for i, parent in enumerate(node.parents):
            if parent in live:
                before = parent.grad
                parent.grad = before + node.grad * node.local[i]
                yield node, i, before
