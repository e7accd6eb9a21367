"""A scalar reverse-mode autodiff engine that records every step it takes.

In the spirit of micrograd: each `Value` holds a number, its gradient, the
operation that made it, its operands in order and the local derivative with
respect to each. Unlike micrograd it keeps a written record: the forward pass
(topological order) and the backward pass (reverse order, one step per edge,
gradients adding up where a node feeds several others) come back as `Step`s
whose `line` is the hand calculation, so the assignment's worked solution can
be replayed, checked and drawn. Pure Python: no TensorFlow, no Textual, so the
dashboard can import it instantly.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mnist_dvc.backprop.expression import OUTPUT, ExpressionError, evaluate, parse, readable_names

__all__ = ["ExpressionError", "Node", "Step", "Trace", "Value", "backward", "build", "forward", "trace"]


@dataclass(frozen=True)
class Step:
    """One recorded step; `line` is the plain-text calculation shown to the reader.

    forward: `node` was computed (`value`) from its operands.
    backward: gradient flowed along `edge` = (consumer, operand) into `node`;
    `upstream` (∂f/∂consumer) × `local` (∂consumer/∂operand) = `value`, and
    `total` is ∂f/∂node so far: the running sum where the node feeds several others.
    `operand` tells apart the two edges of a node used twice by one consumer (x·x).
    """

    kind: str
    node: str
    edge: tuple[str, str] | None
    line: str
    value: float
    operand: int | None = None
    upstream: float | None = None
    local: float | None = None
    total: float | None = None


@dataclass(frozen=True)
class Node:
    """A graph node as the renderer needs it: `op` is "input", "const" or an operation."""

    name: str
    op: str
    operands: tuple[str, ...]
    value: float
    grad: float
    exponent: float | None = None


@dataclass(frozen=True)
class Trace:
    """One recorded run, by node name, so readers (stage, dashboard, tests) need no Value objects.

    `values` holds the intermediate nodes (not the inputs, not f), `grads` ∂f/∂input
    for every input (0 for an unused one), `nodes` and `output` the graph to draw.
    """

    expression: str
    inputs: dict[str, float]
    f: float
    values: dict[str, float]
    grads: dict[str, float]
    steps: list[Step]
    nodes: dict[str, Node]
    output: str = OUTPUT


# Each rule maps operand values (and the exponent for pow) to the result and
# the local derivative with respect to each operand.
Rule = Callable[..., tuple[float, tuple[float, ...]]]


def _div(x: float, y: float) -> tuple[float, tuple[float, ...]]:
    if y == 0:
        raise ZeroDivisionError("division by zero")
    return x / y, (1 / y, -x / (y * y))


def _pow(x: float, c: float) -> tuple[float, tuple[float, ...]]:
    if x < 0 and not c.is_integer():
        raise ValueError(f"{_wrap(fmt(x))}^{fmt(c)} is not a real number")
    if x == 0 and c < 0:
        raise ZeroDivisionError(f"division by zero in 0^{_wrap(fmt(c))}")
    if x == 0 and 0 < c < 1:
        raise ZeroDivisionError(f"0^{fmt(c)} has an infinite derivative")
    return x**c, (0.0 if c == 0 else c * x ** (c - 1),)


def _sigmoid(x: float) -> tuple[float, tuple[float, ...]]:
    # Written so that exp never overflows, for large |x| of either sign.
    if x >= 0:
        s = 1 / (1 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1 + e)
    return s, (s * (1 - s),)


def _tanh(x: float) -> tuple[float, tuple[float, ...]]:
    t = math.tanh(x)
    return t, (1 - t * t,)


def _exp(x: float) -> tuple[float, tuple[float, ...]]:
    try:
        e = math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp({fmt(x)}) is too large") from None
    return e, (e,)


def _log(x: float) -> tuple[float, tuple[float, ...]]:
    if x <= 0:
        raise ValueError(f"log needs a positive argument, got {fmt(x)}")
    return math.log(x), (1 / x,)


RULES: dict[str, Rule] = {
    "add": lambda x, y: (x + y, (1.0, 1.0)),
    "sub": lambda x, y: (x - y, (1.0, -1.0)),
    "mul": lambda x, y: (x * y, (y, x)),
    "div": _div,
    "pow": _pow,
    "neg": lambda x: (-x, (-1.0,)),
    "relu": lambda x: (max(x, 0.0), (1.0 if x > 0 else 0.0,)),
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "exp": _exp,
    "log": _log,
}


class Value:
    """A scalar in the graph. Arithmetic on Values (and plain numbers) builds the graph."""

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
    def apply(cls, op: str, parents: list[Value], exponent: float | None = None) -> Value:
        """The node `op(parents)`, computed at once as in micrograd; see RULES for the ops."""
        node = cls(0.0, op=op)
        node.parents = parents
        node.exponent = exponent
        node.compute()
        return node

    def compute(self) -> None:
        """(Re)compute this node's value and local derivatives from its operands' values."""
        args = [p.data for p in self.parents]
        if self.op == "pow":
            args.append(self.exponent)
        value, local = RULES[self.op](*args)
        if not math.isfinite(value) or not all(math.isfinite(d) for d in local):
            raise OverflowError("the result is not a finite number (overflow)")
        self.data = value + 0.0  # turns -0.0 into 0.0
        self.local = list(local)

    def __repr__(self) -> str:
        return f"Value({self.name or self.op}={self.data:g}, grad={self.grad:g})"

    @staticmethod
    def _lift(other: Value | float) -> Value:
        return other if isinstance(other, Value) else Value(other, name=const_name(other), op="const")

    def __add__(self, other: Value | float) -> Value:
        return Value.apply("add", [self, self._lift(other)])

    def __radd__(self, other: float) -> Value:
        return Value.apply("add", [self._lift(other), self])

    def __sub__(self, other: Value | float) -> Value:
        return Value.apply("sub", [self, self._lift(other)])

    def __rsub__(self, other: float) -> Value:
        return Value.apply("sub", [self._lift(other), self])

    def __mul__(self, other: Value | float) -> Value:
        return Value.apply("mul", [self, self._lift(other)])

    def __rmul__(self, other: float) -> Value:
        return Value.apply("mul", [self._lift(other), self])

    def __truediv__(self, other: Value | float) -> Value:
        return Value.apply("div", [self, self._lift(other)])

    def __rtruediv__(self, other: float) -> Value:
        return Value.apply("div", [self._lift(other), self])

    def __pow__(self, exponent: float) -> Value:
        if isinstance(exponent, Value):
            raise TypeError("only powers by a constant are supported")
        return Value.apply("pow", [self], float(exponent))

    def __neg__(self) -> Value:
        return Value.apply("neg", [self])

    def relu(self) -> Value:
        return Value.apply("relu", [self])

    def sigmoid(self) -> Value:
        return Value.apply("sigmoid", [self])

    def tanh(self) -> Value:
        return Value.apply("tanh", [self])

    def exp(self) -> Value:
        return Value.apply("exp", [self])

    def log(self) -> Value:
        return Value.apply("log", [self])

    def backward(self) -> None:
        """Fill `grad` of every node this one depends on (micrograd's entry point)."""
        backward(self)


_VALUE_OPS: dict[str, Callable[..., Value]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": operator.pow, "neg": operator.neg, "relu": Value.relu, "sigmoid": Value.sigmoid,
    "tanh": Value.tanh, "exp": Value.exp, "log": Value.log,
}


def fmt(x: float, digits: int = 6) -> str:
    """A number as the walkthrough writes it: 6 significant digits and a true minus sign."""
    text = format(x + 0.0, f".{digits}g")
    return text.replace("-", "−")


def const_name(x: float) -> str:
    """A constant's node name: its shortest exact spelling, so distinct constants never share a name."""
    text = repr(float(x) + 0.0)
    return (text[:-2] if text.endswith(".0") else text).replace("-", "−")


def _wrap(text: str) -> str:
    return f"({text})" if text.startswith("−") else text


def _graph(output: Value, reverse: bool = False) -> list[Value]:
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


def forward(output: Value) -> list[Step]:
    """Recompute every operation in topological order, recording one step per node."""
    steps = []
    for node in _graph(output):
        if not node.parents:
            continue
        node.compute()
        symbolic = _formula(node, [_wrap(p.name) for p in node.parents])
        numeric = _formula(node, [fmt(p.data) if node.op in _FUNCTION_OPS else _wrap(fmt(p.data))
                                  for p in node.parents])
        line = f"{node.name} = {symbolic} = {numeric} = {fmt(node.data)}"
        steps.append(Step("forward", node.name, None, line, node.data))
    return steps


_FUNCTION_OPS = ("relu", "sigmoid", "tanh", "exp", "log")
_INFIX = {"add": "+", "sub": "−", "mul": "·", "div": "/"}


def _formula(node: Value, args: list[str]) -> str:
    if node.op in _INFIX:
        return f" {_INFIX[node.op]} ".join(args)
    if node.op == "pow":
        return f"{args[0]}^{_wrap(fmt(node.exponent))}"
    if node.op == "neg":
        return f"−{args[0]}"
    return f"{node.op}({args[0]})"


def _local_formula(node: Value, i: int) -> str:
    """The local derivative ∂node/∂operand_i written with names, e.g. `b` for ∂(a·b)/∂a."""
    names = [_wrap(p.name) for p in node.parents]
    x = names[0]
    if node.op == "add":
        return "1"
    if node.op == "sub":
        return "1" if i == 0 else "−1"
    if node.op == "mul":
        return names[1 - i]
    if node.op == "div":
        return f"1/{names[1]}" if i == 0 else f"−{x}/{names[1]}²"
    if node.op == "pow":
        c = node.exponent
        return f"{_wrap(fmt(c))}·{x}^{_wrap(fmt(c - 1))}"
    return {
        "neg": "−1",
        "relu": f"[{x} > 0]",
        "sigmoid": f"{node.name}·(1 − {node.name})",
        "tanh": f"1 − {node.name}²",
        "exp": node.name,
        "log": f"1/{x}",
    }[node.op]


def backward(output: Value) -> list[Step]:
    """Backpropagate from `output`, recording one step per edge into a node that depends on an input.

    Nodes are visited in reverse topological order, so a node's gradient is
    complete (every consumer has added its share) before it passes it on.
    """
    nodes = _graph(output, reverse=True)
    consumers: dict[Value, list[tuple[Value, int]]] = defaultdict(list)
    for node in nodes:
        node.grad = 0.0
        for i, parent in enumerate(node.parents):
            consumers[parent].append((node, i))
    live = set()
    for node in reversed(nodes):
        if node.op == "input" or any(p in live for p in node.parents):
            live.add(node)
    output.grad = 1.0
    received: dict[Value, int] = defaultdict(int)
    steps = []
    for node in nodes:
        for i, parent in enumerate(node.parents):
            if parent not in live:
                continue
            product = node.grad * node.local[i]
            before = parent.grad
            parent.grad = before + product
            received[parent] += 1
            line = _chain_line(output, node, i, consumers, received[parent], before)
            steps.append(Step(
                "backward", parent.name, (node.name, parent.name), line, product,
                operand=i, upstream=node.grad, local=node.local[i], total=parent.grad,
            ))
    return steps


def _chain_line(
    output: Value, node: Value, i: int,
    consumers: Mapping[Value, list[tuple[Value, int]]], nth: int, before: float,
) -> str:
    """The chain rule for one edge, e.g. `∂f/∂x1 = ∂f/∂a · ∂a/∂p · ∂p/∂x1 = (−0.23)(1)(−1.5) = 0.345`.

    The chain is spelled out up the graph while each node has a single
    consumer; at a node that feeds several others it starts from that node's
    (already summed) gradient, since the path there is no longer unique.
    """
    parent = node.parents[i]
    product = node.grad * node.local[i]
    symbols = [f"∂{node.name}/∂{parent.name}"]
    numbers = [node.local[i]]
    current = node
    while current is not output and len(consumers[current]) == 1:
        consumer, j = consumers[current][0]
        symbols.insert(0, f"∂{consumer.name}/∂{current.name}")
        numbers.insert(0, consumer.local[j])
        current = consumer
    if current is not output:
        symbols.insert(0, f"∂{output.name}/∂{current.name}")
        numbers.insert(0, current.grad)
    target = f"∂{output.name}/∂{parent.name}"
    if len(numbers) == 1:
        formula = _local_formula(node, i)
        chain = f"{formula} = {fmt(product)}" if formula != fmt(product) else formula
    else:
        factors = "".join(f"({fmt(x)})" for x in numbers)
        chain = f"{' · '.join(symbols)} = {factors} = {fmt(product)}"
    uses = len(consumers[parent])
    if uses == 1:
        return f"{target} = {chain}"
    if nth == 1:
        return f"{target} = {chain}   (use 1 of {uses}; running sum {fmt(product)})"
    total = before + product
    return (f"{target} += {chain}   (use {nth} of {uses}; running sum "
            f"{fmt(before)} + {_wrap(fmt(product))} = {fmt(total)})")


def build(expression: str, inputs: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Parse `expression` and build its graph: the output node (named f) and the input nodes.

    Intermediate nodes get readable names; raises ExpressionError for a bad
    expression or one that cannot be computed at these inputs.
    """
    if OUTPUT in inputs:
        raise ExpressionError(f"the input name `{OUTPUT}` is reserved for the output; rename that input")
    tree = parse(expression, inputs)
    leaves = {name: Value(value, name=name, op="input") for name, value in inputs.items()}
    constants: dict[float, Value] = {}

    def number(value: float) -> Value:
        if value not in constants:
            constants[value] = Value(value, name=const_name(value), op="const")
        return constants[value]

    output = evaluate(tree, leaves.__getitem__, number, _VALUE_OPS)
    if not output.parents:
        raise ExpressionError(
            f"`{expression.strip()}` has no operation to differentiate; use e.g. x1*w1 + x2*w2"
        )
    intermediate = [n for n in _graph(output) if n.parents and n is not output]
    for node, name in zip(intermediate, readable_names(tree, len(intermediate), inputs), strict=True):
        node.name = name
    output.name = OUTPUT
    return output, leaves


def trace(expression: str, inputs: dict[str, float]) -> Trace:
    """Build the graph, run and record the forward and backward passes; raises ExpressionError."""
    output, leaves = build(expression, inputs)
    steps = forward(output) + backward(output)
    graph = _graph(output)
    reachable = set(graph)
    ordered = ([leaves[name] for name in inputs if leaves[name] in reachable]
               + [n for n in graph if n.op == "const"]
               + [n for n in graph if n.parents])
    nodes = {
        n.name: Node(n.name, n.op, tuple(p.name for p in n.parents), n.data, n.grad, n.exponent)
        for n in ordered
    }
    return Trace(
        expression=expression,
        inputs=dict(inputs),
        f=output.data,
        values={n.name: n.data for n in graph if n.parents and n is not output},
        grads={name: leaf.grad for name, leaf in leaves.items()},
        steps=steps,
        nodes=nodes,
        output=output.name,
    )
