"""Stage `backprop`: the assignment's Question 1, computed, explained and verified.

    python -m stages.backprop              # writes metrics/backprop.json and reports/backprop.json
    python -m stages.backprop --explain    # prints the calculation step by step, writes nothing

Reads `backprop.expression` and `backprop.inputs` from params.yaml, runs the recording
autodiff engine, checks its gradients against TensorFlow and central finite
differences (mnist_dvc/backprop/check.py), writes f, every intermediate value,
∂f/∂input and both checks to the report, f and ∂f/∂input alone to the DVC metric, and
fails if either check disagrees.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from mnist_dvc.backprop.check import check_record, finite_difference_gradients, tensorflow_gradients
from mnist_dvc.backprop.expression import ExpressionError
from mnist_dvc.backprop.record import trace
from mnist_dvc.backprop.walkthrough import render_walkthrough
from mnist_dvc.core.contracts import BACKPROP_FILE, BACKPROP_REPORT
from mnist_dvc.core.params import load_params
from stages.cli import StageError, run_stage

CHECK_LABELS = {"tensorflow": "TensorFlow", "finite_difference": "central finite differences"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stages.backprop", description=__doc__.split("\n")[0])
    parser.add_argument("--explain", action="store_true",
                        help="print the forward and backward passes step by step; write nothing")
    args = parser.parse_args(argv)
    params = load_params().backprop
    try:
        result = trace(params.expression, params.inputs)
    except ExpressionError as exc:
        raise StageError(f"params.yaml: backprop: {exc}") from None
    if args.explain:
        Console(highlight=False, soft_wrap=True, emoji=False).print(render_walkthrough(result), end="")
        return 0

    tf_f, tf_grads = tensorflow_gradients(params.expression, params.inputs)
    try:
        fd_grads = finite_difference_gradients(params.expression, params.inputs)
    except ExpressionError as exc:
        raise StageError(f"finite differences step outside the expression's domain: {exc}") from None
    record = check_record(result, tf_f, tf_grads, fd_grads)
    record.write(BACKPROP_REPORT)
    record.headline().write(BACKPROP_FILE)

    check = record.check
    for key, label in CHECK_LABELS.items():
        c = getattr(check, key)
        if not c.ok:
            hint = " (is an input on a kink of relu?)" if key == "finite_difference" else ""
            diff = "a non-finite amount" if c.max_abs_diff is None else f"{c.max_abs_diff:.3g}"
            raise StageError(f"engine's ∂f/∂{c.worst} differs from {label} by {diff} "
                             f"> {c.tolerance:g}{hint}; see {BACKPROP_REPORT}")
    print(f"backprop: f = {result.f:.12g}; {len(result.grads)} gradients agree with TensorFlow "
          f"(max diff {check.tensorflow.max_abs_diff:.2g}) and finite differences "
          f"(max diff {check.finite_difference.max_abs_diff:.2g}); wrote {BACKPROP_FILE} "
          f"and {BACKPROP_REPORT}")
    return 0


if __name__ == "__main__":
    run_stage(lambda: main(sys.argv[1:]))
