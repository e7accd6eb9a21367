"""What the Backprop tab says, as plain text: where the walkthrough is, each step's hand
calculation, the gradients reached so far, and whether `dvc repro backprop`'s check agreed.
No Textual here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mnist_dvc.backprop.notation import fmt
from mnist_dvc.backprop.record import Trace
from mnist_dvc.core.records.backprop import Backprop, Check

NO_CHECK = ("No check yet: `dvc repro backprop` compares these gradients with "
            "TensorFlow and finite differences.")
# The checks of reports/backprop.json, in the order the tab lists them.
CHECK_NAMES = {"finite_difference": "finite differences", "tensorflow": "TensorFlow"}


def step_heading(run: Trace, step: int) -> str:
    """Where the walkthrough is: step 0 is the inputs alone, then one step per edge or node."""
    total = len(run.steps)
    if step < 0:
        return f"step 0/{total} · inputs only"
    current = run.steps[step]
    where = f"edge {current.edge[0]} → {current.edge[1]}" if current.edge else f"node {current.node}"
    return f"step {step + 1}/{total} · {current.kind} pass · {where}"


def inputs_line(run: Trace) -> str:
    values = ", ".join(f"{name} = {fmt(value)}" for name, value in run.inputs.items())
    return f"f = {run.expression}   with {values}"


def step_lines(run: Trace) -> list[str]:
    """Every step's calculation, numbered from 1."""
    return [f"{i + 1:>3}  {step.line}" for i, step in enumerate(run.steps)]


def gradient_texts(run: Trace, step: int) -> dict[str, str]:
    """∂f/∂input for each input once the backward pass has reached it by `step`, else a dot."""
    reached = {s.node for s in run.steps[: step + 1] if s.kind == "backward"}
    return {name: f"∂ {fmt(run.grads[name])}" if name in reached else "∂ ·" for name in run.inputs}


@dataclass(frozen=True)
class CheckLine:
    """One comparison of reports/backprop.json: the engine's gradients against another method."""

    ok: bool
    text: str

    @property
    def mark(self) -> str:
        return "✓" if self.ok else "✗"


def check_lines(report: Backprop) -> list[CheckLine]:
    """TensorFlow and finite differences: whether each agreed, and by how much."""
    lines = []
    for key, name in CHECK_NAMES.items():
        result: Check = getattr(report.check, key)
        text = name
        if result.max_abs_diff is not None:
            text += f": max |Δ| {result.max_abs_diff:.3g} {'≤' if result.ok else '>'} {result.tolerance:.3g}"
        lines.append(CheckLine(result.ok, text))
    return lines


def check_note(report: Backprop, inputs: Mapping[str, float] | None) -> str:
    """At which inputs the check ran, said plainly when the user has edited them since."""
    edited = inputs is not None and inputs != report.inputs
    return f"(checked by `dvc repro backprop` at its inputs{', not at your edited ones' if edited else ''})"
