"""The operations an expression may use, each defined once, everything about it side by side.

Every reader of an operation reads it here: the parser (how it is written),
the engine (its forward value and local derivatives, as micrograd keeps each
op's forward and backward together), the notation (how the hand calculation
writes it and its derivative), the drawing (its box in the graph) and the
TensorFlow check (the function it is compared with). So an operation added
here is parsed, differentiated, explained, drawn and checked everywhere at
once, and `operation` refuses one that is registered only in part.

TensorFlow functions are named, not imported: the engine, the parser and
`--explain` must start without paying TensorFlow's import.
"""

from __future__ import annotations

import math
import operator
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mnist_dvc.backprop.notation import fmt, wrap

Result = tuple[float, tuple[float, ...]]
Rule = Callable[..., Result]
Syntax = Literal["infix", "prefix", "call"]


@dataclass(frozen=True)
class Op:
    """One operation.

    `rule` maps the operand values (then the constant exponent, if `exponent`)
    to the value and the local derivative with respect to each operand; its
    ArithmeticError or ValueError says in words why it cannot be computed.
    `written` is how an expression spells it: between its operands ("infix"),
    before its operand ("prefix") or called by name ("call"). `method` is
    Value's method: `mul` gives `__mul__` and `__rmul__`, `relu` gives `x.relu()`.
    `formula` and `derivatives` (one per operand) are the hand calculation's
    templates over {x}, {y} (operands), {out} (this node), {c} and {c_minus_1}
    (the exponent); `symbol` labels its box in the graph. `tensorflow` is the
    TensorFlow function's path under `tf`, resolved by the check.
    """

    name: str
    rule: Rule
    syntax: Syntax
    written: str
    method: str
    symbol: str
    formula: str
    derivatives: tuple[str, ...]
    tensorflow: str
    exponent: bool = False

    @property
    def arity(self) -> int:
        """How many operands it takes (a constant exponent is not an operand)."""
        return len(self.derivatives)


OPS: dict[str, Op] = {}


def operation(
    name: str,
    *,
    symbol: str,
    derivatives: tuple[str, ...],
    tensorflow: str,
    infix: str | None = None,
    prefix: str | None = None,
    method: str | None = None,
    formula: str | None = None,
    exponent: bool = False,
) -> Callable[[Rule], Rule]:
    """Register the decorated rule as operation `name`; a function (called by name) unless infix or prefix."""

    def register(rule: Rule) -> Rule:
        syntax: Syntax = "infix" if infix else "prefix" if prefix else "call"
        op = Op(
            name=name, rule=rule, syntax=syntax, written=infix or prefix or name, method=method or name,
            symbol=symbol, formula=formula or f"{name}({{x}})", derivatives=derivatives,
            tensorflow=tensorflow, exponent=exponent,
        )
        _validate(op)
        OPS[name] = op
        return rule

    return register


def _validate(op: Op) -> None:
    """Refuse an operation that some reader could not handle, when it is registered, not when used."""
    problems = []
    if op.name in OPS:
        problems.append("the name is taken")
    if any(o.syntax == op.syntax and o.written == op.written for o in OPS.values()):
        problems.append(f"`{op.written}` already spells another operation")
    expected = 2 if op.syntax == "infix" and not op.exponent else 1
    if op.arity != expected:
        problems.append(f"{op.syntax} takes {expected} operand(s), so {expected} derivative(s)")
    if op.exponent and op.syntax != "infix":
        problems.append("only an infix operation takes a constant exponent")
    if op.syntax == "call" and not op.written.isidentifier():
        problems.append("a function's name must be an identifier")
    if op.syntax != "call" and not hasattr(operator, f"__{op.method}__"):
        problems.append(f"`__{op.method}__` is not a Python operator method")
    if not op.method.isidentifier() or not all(p.isidentifier() for p in op.tensorflow.split(".")):
        problems.append("method and tensorflow must be a name and a dotted name")
    allowed = {"x", "out", *(["y"] if op.arity == 2 else []), *(["c", "c_minus_1"] if op.exponent else [])}
    for template in (op.formula, *op.derivatives):
        if not _fields(template) <= allowed:
            problems.append(f"template `{template}` uses {sorted(_fields(template) - allowed)}")
    if not op.symbol or not _fields(op.symbol) <= ({"c"} if op.exponent else set()):
        problems.append(f"symbol `{op.symbol}` must be non-empty text (and may use {{c}} with an exponent)")
    if problems:
        raise ValueError(f"operation `{op.name}`: " + "; ".join(problems))


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _logistic(x: float) -> float:
    """1 / (1 + e^−x), written so that exp never overflows, for large |x| of either sign."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


@operation("add", infix="+", method="add", symbol="+", formula="{x} + {y}",
           derivatives=("1", "1"), tensorflow="math.add")
def _add(x: float, y: float) -> Result:
    return x + y, (1.0, 1.0)


@operation("sub", infix="-", method="sub", symbol="−", formula="{x} − {y}",
           derivatives=("1", "−1"), tensorflow="math.subtract")
def _sub(x: float, y: float) -> Result:
    return x - y, (1.0, -1.0)


@operation("mul", infix="*", method="mul", symbol="×", formula="{x} · {y}",
           derivatives=("{y}", "{x}"), tensorflow="math.multiply")
def _mul(x: float, y: float) -> Result:
    return x * y, (y, x)


@operation("div", infix="/", method="truediv", symbol="÷", formula="{x} / {y}",
           derivatives=("1/{y}", "−{x}/{y}²"), tensorflow="math.divide")
def _div(x: float, y: float) -> Result:
    if y == 0:
        raise ZeroDivisionError("division by zero")
    return x / y, (1 / y, -x / (y * y))


@operation("pow", infix="**", method="pow", exponent=True, symbol="^{c}", formula="{x}^{c}",
           derivatives=("{c}·{x}^{c_minus_1}",), tensorflow="math.pow")
def _pow(x: float, c: float) -> Result:
    if x < 0 and not c.is_integer():
        raise ValueError(f"{wrap(fmt(x))}^{fmt(c)} is not a real number")
    if x == 0 and c < 0:
        raise ZeroDivisionError(f"division by zero in 0^{wrap(fmt(c))}")
    if x == 0 and 0 < c < 1:
        raise ZeroDivisionError(f"0^{fmt(c)} has an infinite derivative")
    return x**c, (0.0 if c == 0 else c * x ** (c - 1),)


@operation("neg", prefix="-", method="neg", symbol="−", formula="−{x}",
           derivatives=("−1",), tensorflow="math.negative")
def _neg(x: float) -> Result:
    return -x, (-1.0,)


@operation("relu", symbol="relu", derivatives=("[{x} > 0]",), tensorflow="nn.relu")
def _relu(x: float) -> Result:
    return max(x, 0.0), (1.0 if x > 0 else 0.0,)


@operation("sigmoid", symbol="σ", derivatives=("{out}·(1 − {out})",), tensorflow="math.sigmoid")
def _sigmoid(x: float) -> Result:
    s = _logistic(x)
    return s, (s * (1 - s),)


@operation("tanh", symbol="tanh", derivatives=("1 − {out}²",), tensorflow="math.tanh")
def _tanh(x: float) -> Result:
    t = math.tanh(x)
    return t, (1 - t * t,)


@operation("exp", symbol="exp", derivatives=("{out}",), tensorflow="math.exp")
def _exp(x: float) -> Result:
    try:
        e = math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp({fmt(x)}) is too large") from None
    return e, (e,)


@operation("log", symbol="log", derivatives=("1/{x}",), tensorflow="math.log")
def _log(x: float) -> Result:
    if x <= 0:
        raise ValueError(f"log needs a positive argument, got {fmt(x)}")
    return math.log(x), (1 / x,)


@operation("softplus", symbol="softplus", derivatives=("sigmoid({x})",), tensorflow="math.softplus")
def _softplus(x: float) -> Result:
    # log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|): exp never overflows, and log1p keeps
    # the digits of the tiny values far left of 0 that log(1 + ...) would round away.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x))), (_logistic(x),)


OPERATIONS = tuple(OPS)
FUNCTIONS = tuple(op.written for op in OPS.values() if op.syntax == "call")
