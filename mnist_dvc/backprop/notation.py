"""How the hand calculation writes numbers, nodes and lines, as the assignment's worked solution does.

Kept apart from the engine so the engine stays arithmetic and this stays text:
the registry (ops.py) supplies each operation's templates, record.py decides
what a line is about, and this module alone decides how it reads: six
significant digits, a true minus sign, parentheses around negative numbers
inside formulas, and chains such as
`∂f/∂x1 = ∂f/∂a · ∂a/∂p · ∂p/∂x1 = (−0.23)(1)(−1.5) = 0.345`.

It imports nothing from the engine or the registry at run time (the registry
uses `fmt` for its error messages), only their types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mnist_dvc.backprop.engine import Value
    from mnist_dvc.backprop.ops import Op


def fmt(x: float, digits: int = 6) -> str:
    """A number as the walkthrough writes it: 6 significant digits and a true minus sign."""
    text = format(x + 0.0, f".{digits}g")
    return text.replace("-", "−")


def wrap(text: str) -> str:
    """Parenthesised if negative, so `0.7 · (−1.5)` never reads as a subtraction."""
    return f"({text})" if text.startswith("−") else text


def const_name(x: float) -> str:
    """A constant's node name: its shortest exact spelling, so distinct constants never share a name."""
    text = repr(float(x) + 0.0)
    return (text[:-2] if text.endswith(".0") else text).replace("-", "−")


def partial_symbol(of: str, wrt: str) -> str:
    """∂of/∂wrt, as every chain-rule line writes a partial derivative."""
    return f"∂{of}/∂{wrt}"


def _fill(template: str, operands: Sequence[str], out: str, exponent: float | None) -> str:
    fields = dict(zip(("x", "y"), operands, strict=False), out=out)
    if exponent is not None:
        fields.update(c=wrap(fmt(exponent)), c_minus_1=wrap(fmt(exponent - 1)))
    return template.format(**fields)


def symbol(op: Op, exponent: float | None) -> str:
    """The operation's label in the drawn graph, e.g. `×`, `σ`, `^2`."""
    return op.symbol.format(c=fmt(exponent)) if exponent is not None else op.symbol


def forward_line(op: Op, node: Value) -> str:
    """`p = x1 · w1 = 0.7 · (−1.5) = −1.05`: the node by names, then by values, then its value.

    A function's own parentheses already delimit its argument, so `relu(−2)`
    is not written `relu((−2))`.
    """
    tight = op.syntax == "call"
    names = [p.name if tight else wrap(p.name) for p in node.parents]
    values = [fmt(p.data) if tight else wrap(fmt(p.data)) for p in node.parents]
    symbolic = _fill(op.formula, names, node.name, node.exponent)
    numeric = _fill(op.formula, values, node.name, node.exponent)
    return f"{node.name} = {symbolic} = {numeric} = {fmt(node.data)}"


def local_derivative(op: Op, node: Value, i: int) -> str:
    """∂node/∂operand_i written with names, e.g. `b` for ∂(a·b)/∂a."""
    names = [wrap(p.name) for p in node.parents]
    return _fill(op.derivatives[i], names, node.name, node.exponent)


def chain_line(
    target: str,
    factors: Sequence[tuple[str, float]],
    local: str,
    product: float,
    use: tuple[int, int],
    before: float,
) -> str:
    """One backward step: the chain rule for one edge, and the running sum where a node feeds several.

    `factors` are the chain's (∂-symbol, number) pairs, outermost first; a chain
    of one factor is written by its local derivative, e.g. `∂f/∂a = b = −0.23`.
    `use` is (this use, all uses) of the node the gradient flows into.
    """
    if len(factors) == 1:
        chain = f"{local} = {fmt(product)}" if local != fmt(product) else local
    else:
        symbols = " · ".join(s for s, _ in factors)
        numbers = "".join(f"({fmt(x)})" for _, x in factors)
        chain = f"{symbols} = {numbers} = {fmt(product)}"
    nth, uses = use
    if uses == 1:
        return f"{target} = {chain}"
    if nth == 1:
        return f"{target} = {chain}   (use 1 of {uses}; running sum {fmt(product)})"
    total = before + product
    return (f"{target} += {chain}   (use {nth} of {uses}; running sum "
            f"{fmt(before)} + {wrap(fmt(product))} = {fmt(total)})")
