"""A run of the engine, written down as the assignment's hand calculation: the Trace.

The engine computes; this module decides what the reader is shown: the forward
pass in topological order, one step per node, and the backward pass in reverse
order, one step per edge, gradients adding up where a node feeds several
others. Each `Step` carries its `line` (spelled by notation.py) and its
numbers, so the worked solution can be replayed, checked and drawn, and the
stage, the walkthrough and the dashboard need no Value objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mnist_dvc.backprop.engine import Value, graph, propagate
from mnist_dvc.backprop.expression import OUTPUT, ExpressionError, evaluate, parse, readable_names
from mnist_dvc.backprop.notation import chain_line, const_name, forward_line, local_derivative, partial_symbol
from mnist_dvc.backprop.ops import OPS

__all__ = ["Node", "Step", "Trace", "build", "trace"]


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


def _operation(name: str) -> Callable[..., Value]:
    """The operation in `evaluate`'s calling convention: operands, then pow's exponent."""
    arity = OPS[name].arity
    return lambda *args: Value.apply(name, args[:arity], *args[arity:])


_VALUE_OPERATIONS = {name: _operation(name) for name in OPS}


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

    output = evaluate(tree, leaves.__getitem__, number, _VALUE_OPERATIONS)
    if not output.parents:
        raise ExpressionError(
            f"`{expression.strip()}` has no operation to differentiate; use e.g. x1*w1 + x2*w2"
        )
    intermediate = [n for n in graph(output) if n.parents and n is not output]
    for node, name in zip(intermediate, readable_names(tree, len(intermediate), inputs), strict=True):
        node.name = name
    output.name = OUTPUT
    return output, leaves


def _forward(output: Value) -> list[Step]:
    """One step per operation, in topological order."""
    return [
        Step("forward", node.name, None, forward_line(OPS[node.op], node), node.data)
        for node in graph(output) if node.parents
    ]


def _backward(output: Value) -> list[Step]:
    """One step per edge into a node that depends on an input, as the engine backpropagates."""
    consumers: dict[Value, list[tuple[Value, int]]] = defaultdict(list)
    for node in graph(output, reverse=True):
        for i, parent in enumerate(node.parents):
            consumers[parent].append((node, i))
    received: dict[Value, int] = defaultdict(int)
    steps = []
    for node, i, before in propagate(output):
        parent = node.parents[i]
        product = node.grad * node.local[i]
        received[parent] += 1
        line = chain_line(
            partial_symbol(output.name, parent.name), _chain(output, node, i, consumers),
            local_derivative(OPS[node.op], node, i), product,
            (received[parent], len(consumers[parent])), before,
        )
        steps.append(Step(
            "backward", parent.name, (node.name, parent.name), line, product,
            operand=i, upstream=node.grad, local=node.local[i], total=parent.grad,
        ))
    return steps


def _chain(
    output: Value, node: Value, i: int, consumers: Mapping[Value, list[tuple[Value, int]]]
) -> list[tuple[str, float]]:
    """The chain rule's factors for one edge, outermost first, e.g. ∂f/∂a · ∂a/∂p · ∂p/∂x1.

    The chain is spelled out up the graph while each node has a single
    consumer; at a node that feeds several others it starts from that node's
    (already summed) gradient, since the path there is no longer unique.
    """
    factors = [(partial_symbol(node.name, node.parents[i].name), node.local[i])]
    current = node
    while current is not output and len(consumers[current]) == 1:
        consumer, j = consumers[current][0]
        factors.insert(0, (partial_symbol(consumer.name, current.name), consumer.local[j]))
        current = consumer
    if current is not output:
        factors.insert(0, (partial_symbol(output.name, current.name), current.grad))
    return factors


def trace(expression: str, inputs: dict[str, float]) -> Trace:
    """Build the graph, run and record the forward and backward passes; raises ExpressionError."""
    output, leaves = build(expression, inputs)
    steps = _forward(output) + _backward(output)
    nodes = graph(output)
    reachable = set(nodes)
    ordered = ([leaves[name] for name in inputs if leaves[name] in reachable]
               + [n for n in nodes if n.op == "const"]
               + [n for n in nodes if n.parents])
    return Trace(
        expression=expression,
        inputs=dict(inputs),
        f=output.data,
        values={n.name: n.data for n in nodes if n.parents and n is not output},
        grads={name: leaf.grad for name, leaf in leaves.items()},
        steps=steps,
        nodes={
            n.name: Node(n.name, n.op, tuple(p.name for p in n.parents), n.data, n.grad, n.exponent)
            for n in ordered
        },
        output=output.name,
    )
