"""Safe parsing of the `backprop.expression` string into a small expression tree.

The expression comes from params.yaml or from a dashboard text box, so it is
never handed to `eval`: Python's `ast` parses it and only names, numbers and
the operations registered in ops.py (+ − * /, ** by a constant, unary minus,
and calls of the functions registered there) are accepted. Anything else is
rejected with one line naming the offending piece of text, before any
computation starts.

The tree is backend-neutral: `evaluate` walks it with a table of operations,
so the same parse drives the autodiff engine, the TensorFlow check and the
finite-difference check, and they cannot disagree about what was written.
This module imports only the standard library and the registry.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from mnist_dvc.backprop.ops import FUNCTIONS, OPS, Op
from mnist_dvc.core.errors import ProjectError

OUTPUT = "f"

# The assignment's graph and the names its hand calculation gives the intermediate
# nodes, in topological order (products first, then sums).
ASSIGNMENT_EXPRESSION = "(x1*w1 + x2*w2) * (x3*w3 + x4*w4)"
ASSIGNMENT_INPUTS = ("x1", "w1", "x2", "w2", "x3", "w3", "x4", "w4")
ASSIGNMENT_NAMES = ("p", "q", "r", "s", "a", "b")

# How Python spells its operators; the registry says which of them are operations here.
_PYTHON_BINARY = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//",
    ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
    ast.BitXor: "^", ast.BitAnd: "&",
}
_PYTHON_UNARY = {ast.USub: "-", ast.Invert: "~", ast.Not: "not"}
_INFIX = {op.written: op for op in OPS.values() if op.syntax == "infix"}
_PREFIX = {op.written: op for op in OPS.values() if op.syntax == "prefix"}
_CALLS = {op.written: op for op in OPS.values() if op.syntax == "call"}
_ALLOWED = "allowed: input names, numbers, " + ", ".join([
    " ".join(op.written + (" (by a number)" if op.exponent else "") for op in _INFIX.values()),
    *(f"unary {op.written}" for op in _PREFIX.values()),
    *FUNCTIONS,
])


class ExpressionError(ProjectError, ValueError):
    """An expression that cannot be parsed or evaluated, in one line naming the bad token."""


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Apply:
    """An operation on sub-expressions; `exponent` is set for one that takes a constant (pow).

    Equality ignores `source`, so identical sub-expressions compare equal and
    are computed once (a node used twice), wherever they are written.
    """

    op: str
    args: tuple[Expr, ...]
    exponent: float | None = None
    source: str = field(default="", compare=False)


Expr = Name | Number | Apply
T = TypeVar("T")


def parse(text: str, inputs: Iterable[str]) -> Expr:
    """Parse `text` over the given input names; raises ExpressionError."""
    names = tuple(inputs)
    text = text.strip()
    if not text:
        raise ExpressionError("the expression is empty; write e.g. (x1*w1 + x2*w2) * (x3*w3 + x4*w4)")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(f"cannot parse `{text}`: {exc.msg}{where}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"`{text[:40]}...` is nested too deeply; simplify the expression") from None
    try:
        return _Converter(text, names).convert(tree.body)
    except RecursionError:
        raise ExpressionError(f"`{text[:40]}...` is nested too deeply; simplify the expression") from None


class _Converter:
    def __init__(self, text: str, inputs: tuple[str, ...]) -> None:
        self.text = text
        self.inputs = inputs

    def source(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def convert(self, node: ast.AST) -> Expr:
        if isinstance(node, ast.Name):
            if node.id not in self.inputs:
                known = ", ".join(self.inputs) or "none"
                raise ExpressionError(
                    f"unknown name `{node.id}`; the inputs are {known} (set them in backprop.inputs)"
                )
            return Name(node.id)
        if isinstance(node, ast.Constant):
            return Number(self.number(node))
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            raise ExpressionError(f"attribute access `{self.source(node)}` is not allowed; {_ALLOWED}")
        raise ExpressionError(f"`{self.source(node)}` is not allowed; {_ALLOWED}")

    def number(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"`{self.source(node)}` is not a real number; {_ALLOWED}")
        try:
            result = float(value)
        except OverflowError:
            result = math.inf
        if not math.isfinite(result):
            raise ExpressionError(f"the number `{self.source(node)}` is too large")
        return result

    def unary(self, node: ast.UnaryOp) -> Expr:
        if isinstance(node.op, ast.UAdd):
            return self.convert(node.operand)
        written = _PYTHON_UNARY.get(type(node.op))
        if written not in _PREFIX:
            raise ExpressionError(f"`{self.source(node)}` is not allowed; {_ALLOWED}")
        operand = self.convert(node.operand)
        if written == "-" and isinstance(operand, Number):
            return Number(-operand.value)  # Python reads -1.5 as minus 1.5: it is one number
        return self.apply(_PREFIX[written], [operand], node)

    def binary(self, node: ast.BinOp) -> Expr:
        written = _PYTHON_BINARY[type(node.op)]
        if written not in _INFIX:
            hint = " (for a power write **)" if written == "^" else ""
            raise ExpressionError(
                f"operator `{written}` in `{self.source(node)}` is not supported{hint}; {_ALLOWED}"
            )
        op = _INFIX[written]
        left = self.convert(node.left)
        if op.exponent:
            exponent = self.convert(node.right)
            if not isinstance(exponent, Number):
                raise ExpressionError(
                    f"the exponent `{self.source(node.right)}` in `{self.source(node)}` must be a number "
                    "(only powers by a constant are supported)"
                )
            return self.apply(op, [left], node, exponent.value)
        return self.apply(op, [left, self.convert(node.right)], node)

    def call(self, node: ast.Call) -> Expr:
        func = node.func
        if isinstance(func, ast.Attribute):
            raise ExpressionError(f"attribute access `{self.source(func)}` is not allowed; {_ALLOWED}")
        if not isinstance(func, ast.Name) or func.id not in _CALLS:
            raise ExpressionError(
                f"unknown function `{self.source(func)}` in `{self.source(node)}`; "
                f"the functions are {', '.join(FUNCTIONS)}"
            )
        op = _CALLS[func.id]
        if (len(node.args) != op.arity or node.keywords
                or any(isinstance(arg, ast.Starred) for arg in node.args)):
            count = "one argument" if op.arity == 1 else f"{op.arity} arguments"
            raise ExpressionError(f"`{self.source(node)}`: {func.id} takes exactly {count}")
        return self.apply(op, [self.convert(arg) for arg in node.args], node)

    def apply(self, op: Op, args: list[Expr], node: ast.AST, exponent: float | None = None) -> Apply:
        return Apply(op.name, tuple(args), exponent, source=self.source(node))


def evaluate(
    tree: Expr,
    leaf: Callable[[str], T],
    number: Callable[[float], T],
    ops: Mapping[str, Callable[..., T]],
) -> T:
    """Compute `tree` with the given backend: `ops[op](*args)`, then pow's exponent: `ops["pow"](base, c)`.

    Equal sub-expressions are computed once and the result reused, so in the
    autodiff engine a repeated sub-expression is one node feeding several
    others. A backend's ArithmeticError or ValueError becomes an ExpressionError
    naming the sub-expression that failed.
    """
    memo: dict[Expr, T] = {}

    def walk(node: Expr) -> T:
        if isinstance(node, Name):
            return leaf(node.id)
        if isinstance(node, Number):
            return number(node.value)
        if node in memo:
            return memo[node]
        args = [walk(arg) for arg in node.args]
        constant = () if node.exponent is None else (node.exponent,)
        try:
            result = ops[node.op](*args, *constant)
        except ExpressionError:
            raise
        except (ArithmeticError, ValueError) as exc:
            raise ExpressionError(f"cannot compute `{node.source}` at these inputs: {exc}") from None
        memo[node] = result
        return result

    try:
        return walk(tree)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply; simplify it") from None


def readable_names(tree: Expr, count: int, taken: Iterable[str]) -> list[str]:
    """Names for the `count` intermediate nodes, in topological order.

    The assignment's own graph gets its hand calculation's names (p, q, r, s,
    a, b) so the walkthrough reads like the worked solution; any other graph
    gets n1, n2, ..., skipping names already used by inputs.
    """
    if count == len(ASSIGNMENT_NAMES) and tree == parse(ASSIGNMENT_EXPRESSION, ASSIGNMENT_INPUTS):
        return list(ASSIGNMENT_NAMES)
    used = set(taken) | {OUTPUT}
    names: list[str] = []
    index = 0
    while len(names) < count:
        index += 1
        if f"n{index}" not in used:
            names.append(f"n{index}")
    return names

