"""What the dashboard says about the project, as plain data and text.

Every line the tabs show about a run, the comparison, the backprop walkthrough and its
check, or a repro, is written here; the Textual panes only style it (and add their
headings and key hints), and `python -m tui --once` prints the same lines, so the
summary in a CI log and the dashboard can never disagree. No Textual import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mnist_dvc.analysis.comparison import CRITERIA
from mnist_dvc.analysis.errors import Confusion, ModelErrors
from mnist_dvc.analysis.formats import duration, loss, pct
from mnist_dvc.analysis.predictions import Predictions
from mnist_dvc.backprop.notation import fmt
from mnist_dvc.backprop.record import Trace
from mnist_dvc.core.contracts import CLASSES, FEATURES, VERDICTS
from mnist_dvc.core.jsonfile import finite_number
from mnist_dvc.core.params import ModelParams
from tui.data import WAITING, Dashboard, ModelRun
from tui.digit_art import ramp_lines, side_by_side
from tui.repro import ReproRun

METRICS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss")
METRIC_LABELS = {
    "train_accuracy": "train accuracy",
    "test_accuracy": "test accuracy",
    "train_loss": "train loss",
    "test_loss": "test loss",
}
START_HINT = (
    "No training run yet. Start one with `dvc repro` in the project folder, "
    "or press 4 and then r to run it from the Pipeline tab."
)
COMPARE_HINT = (
    "No comparison yet: the evaluate stage writes metrics/comparison.json after both models "
    "have trained. Run `dvc repro`, or press 4 and then r."
)


def architecture(spec: ModelParams | None) -> str:
    if spec is None:
        return "not in params.yaml"
    return "→".join(str(width) for width in (FEATURES, *spec.hidden, CLASSES))


# --- training ---------------------------------------------------------------------------


def run_title(run: ModelRun) -> str:
    return f"{run.name}  {architecture(run.spec)}"


def status_text(run: ModelRun) -> str:
    if run.status == WAITING:
        return "waiting: not started yet"
    return f"{run.status}: {run.reason}" if run.reason else run.status


def run_metrics(run: ModelRun) -> dict[str, tuple[float | None, float | None]]:
    """metric -> (latest, best); from progress.json, else from the per-epoch log."""
    result: dict[str, tuple[float | None, float | None]] = {}
    history = run.history
    for metric in METRICS:
        pick = min if metric.endswith("loss") else max
        if run.progress is not None and run.progress.last:
            result[metric] = (run.progress.last.get(metric), run.progress.best.get(metric))
        elif len(history):
            column = getattr(history, metric)
            result[metric] = (column[-1], pick(column))
        else:
            result[metric] = (None, None)
    return result


@dataclass(frozen=True)
class MetricRow:
    """One metric of a run: its latest and best values, and where the best test accuracy was."""

    label: str
    latest: str
    best: str
    note: str


def metric_rows(run: ModelRun) -> list[MetricRow]:
    metrics = run_metrics(run)
    rows = []
    for metric in METRICS:
        last, best = metrics[metric]
        number = loss if metric.endswith("loss") else pct
        at = best_test_epoch(run) if metric == "test_accuracy" and best is not None else None
        note = f"at epoch {at}" if at is not None else ""
        rows.append(MetricRow(METRIC_LABELS[metric], number(last), number(best), note))
    return rows


def best_test_epoch(run: ModelRun) -> int | None:
    if run.progress is not None and "test_accuracy_epoch" in run.progress.best:
        return int(run.progress.best["test_accuracy_epoch"])
    history = run.history
    if not len(history):
        return None
    top = max(range(len(history)), key=lambda i: history.test_accuracy[i])
    return history.epoch[top]


def progress_line(run: ModelRun) -> str:
    """Epochs done and the times: no clock is read here, only what the run wrote."""
    parts = [f"epoch {run.epochs_done}/{run.epochs_total}"]
    progress = run.progress
    elapsed = progress.elapsed_s if progress else (run.history.train_time_s or [None])[-1]
    epoch_s = progress.epoch_s if progress else (run.history.epoch_s or [None])[-1]
    if elapsed is not None:
        parts.append(f"elapsed {duration(elapsed)}")
    if progress is not None and progress.state == "running" and run.status == "running":
        parts.append(f"ETA {duration(progress.eta_s)}" if progress.eta_s is not None else "ETA after epoch 1")
    if epoch_s is not None:
        parts.append(f"last epoch {duration(epoch_s)}")
    if progress is not None and progress.backend:
        parts.append(progress.backend)
    return " · ".join(parts)


def training_lines(data: Dashboard) -> list[str]:
    lines = ["TRAINING"]
    if not data.runs:
        return [*lines, "  no models in params.yaml"]
    if not data.has_training:
        lines.append(f"  {START_HINT}")
    width = max(len(run.name) for run in data.runs)
    for run in data.runs:
        lines.append(f"  {run.name:<{width}}  {architecture(run.spec)}  {status_text(run)}")
        lines.append(f"  {'':<{width}}  {progress_line(run)}")
        if run_metrics(run)["test_accuracy"][0] is not None:
            cells = [f"{row.label} {row.latest} (best {row.best})" for row in metric_rows(run)]
            lines.append(f"  {'':<{width}}  " + ", ".join(cells[:2]))
            lines.append(f"  {'':<{width}}  " + ", ".join(cells[2:]))
    return lines


# --- comparison -------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    key: str
    label: str
    cells: dict[str, str]
    winners: frozenset[str]


def _value(row: dict, key: str) -> float | None:
    return finite_number(row.get(key))


def comparison_rows(comparison: dict) -> tuple[list[str], list[ComparisonRow]]:
    """The side-by-side table: one row per criterion, the best model(s) of each marked."""
    models = list(comparison.get("models", {}))
    rows = []
    for criterion in CRITERIA:
        values = {name: _value(comparison["models"][name], criterion.key) for name in models}
        known = {name: value for name, value in values.items() if value is not None}
        winners: frozenset[str] = frozenset()
        if criterion.better is not None and len(known) > 1:
            target = (max if criterion.better == "higher" else min)(known.values())
            winners = frozenset(name for name, value in known.items() if value == target)
        cells = {name: criterion.fmt(values[name]) for name in models}
        rows.append(ComparisonRow(criterion.key, criterion.label, cells, winners))
    return models, rows


def verdict_lines(comparison: dict) -> list[str]:
    verdicts = comparison.get("verdicts", {})
    rank = {key: i for i, key in enumerate(VERDICTS)}
    order = sorted(verdicts, key=lambda key: rank.get(key, len(rank)))
    lines = []
    for key in order:
        verdict = verdicts[key] if isinstance(verdicts[key], dict) else {}
        winner = verdict.get("winner") or "no winner"
        lines.append(f"{key.capitalize()}: {winner}. {verdict.get('sentence', '')}".rstrip())
    return lines


def mcnemar_line(comparison: dict) -> str | None:
    test = comparison.get("mcnemar") or {}
    if not isinstance(test.get("p_value"), (int, float)):
        return None
    pair = " vs ".join(str(name) for name in test.get("models", []))
    head = f"McNemar's exact test{f' ({pair})' if pair else ''}: "
    counts = f"b01 = {test.get('b01', '–')}, b10 = {test.get('b10', '–')}, p = {test['p_value']:.3g}"
    return head + counts + (f". {test['sentence']}" if test.get("sentence") else "")


# --- published results ------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    label: str
    low: float
    high: float


# Test accuracy on MNIST's 10,000 test images as published (rounded).
REFERENCES = (
    Reference("Committee of 35 CNNs (Cireşan et al., 2012)", 0.9977, 0.9977),
    Reference("Capsule network, CapsNet (Sabour et al., 2017)", 0.9975, 0.9975),
    Reference("LeNet-5 CNN (LeCun et al., 1998)", 0.992, 0.992),
    Reference("Best plain MLPs, no augmentation (LeCun 1998; Simard 2003)", 0.984, 0.990),
)
LENET, MLPS = REFERENCES[2], REFERENCES[3]


@dataclass(frozen=True)
class Standing:
    label: str
    accuracy: str
    ours: bool
    sort_key: float


def final_accuracy(data: Dashboard, name: str) -> float | None:
    """The honest figure to set beside published ones: the final model's test accuracy."""
    row = (data.comparison or {}).get("models", {}).get(name, {})
    if _value(row, "final_test_accuracy") is not None:
        return _value(row, "final_test_accuracy")
    run = data.run(name)
    if run is not None and run.evaluation is not None:
        return float(run.evaluation["test_accuracy"])
    return None


def standings(data: Dashboard) -> list[Standing]:
    """Published results and this project's finished models, best first."""
    rows = [
        Standing(ref.label, pct(ref.low) if ref.low == ref.high else f"{ref.low * 100:.2f}–{pct(ref.high)}",
                 False, ref.high)
        for ref in REFERENCES
    ]
    for run in data.runs:
        accuracy = final_accuracy(data, run.name)
        if accuracy is not None:
            rows.append(Standing(f"{run.name} (this project, MLP {architecture(run.spec)})",
                                 pct(accuracy), True, accuracy))
    return sorted(rows, key=lambda row: -row.sort_key)


def standing_sentence(name: str, accuracy: float) -> str:
    if accuracy < MLPS.low:
        where = f"{(MLPS.low - accuracy) * 100:.2f} pts below the best plain MLPs"
    elif accuracy <= MLPS.high:
        where = "within the range of the best plain MLPs"
    else:
        where = "above the best published plain MLPs"
    lenet = (LENET.high - accuracy) * 100
    best = (REFERENCES[0].high - accuracy) * 100
    return (f"{name}: {pct(accuracy)} final test accuracy, {where}; {lenet:.2f} pts below LeNet-5 "
            f"and {best:.2f} pts below the CNN committee.")


def standing_sentences(data: Dashboard) -> list[str]:
    lines = []
    for run in data.runs:
        accuracy = final_accuracy(data, run.name)
        if accuracy is not None:
            lines.append(standing_sentence(run.name, accuracy))
    return lines


def compare_lines(data: Dashboard) -> list[str]:
    lines = ["COMPARE"]
    if data.comparison is None:
        lines.append(f"  {COMPARE_HINT}")
    else:
        models, rows = comparison_rows(data.comparison)
        label_width = max(len(row.label) for row in rows)
        widths = {name: max(len(name), *(len(row.cells[name]) + 2 for row in rows)) for name in models}
        lines.append("  " + " " * label_width + "  " + "  ".join(f"{n:>{widths[n]}}" for n in models))
        for row in rows:
            cells = [f"{row.cells[n] + (' *' if n in row.winners else ''):>{widths[n]}}" for n in models]
            lines.append(f"  {row.label:<{label_width}}  " + "  ".join(cells))
        lines.append("  (* = better on that row)")
        lines += [f"  {line}" for line in verdict_lines(data.comparison)]
        mcnemar = mcnemar_line(data.comparison)
        if mcnemar:
            lines.append(f"  {mcnemar}")
    lines.append("  Published MNIST results (test accuracy):")
    for row in standings(data):
        lines.append(f"  {'>' if row.ours else ' '} {row.label:<62} {row.accuracy:>12}")
    lines += [f"  {line}" for line in standing_sentences(data)]
    return lines


def summary(data: Dashboard) -> str:
    """The plain-text `--once` report: Training, then Compare, then any warnings."""
    lines = [*training_lines(data), "", *compare_lines(data)]
    if data.warnings:
        lines += ["", *(f"warning: {warning}" for warning in data.warnings)]
    return "\n".join(lines) + "\n"


# --- backprop ---------------------------------------------------------------------------

NO_CHECK = ("No check yet: `dvc repro backprop` compares these gradients with "
            "TensorFlow and finite differences.")
CHECK_NAMES = {"tensorflow": "TensorFlow", "finite_difference": "finite differences"}


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
    """One comparison of metrics/backprop.json: the engine's gradients against another method."""

    ok: bool
    text: str

    @property
    def mark(self) -> str:
        return "✓" if self.ok else "✗"


def check_lines(report: Mapping) -> list[CheckLine]:
    """TensorFlow and finite differences: whether each agreed, and by how much."""
    lines = []
    for key, result in (report.get("check") or {}).items():
        if not isinstance(result, dict):
            continue
        ok = result.get("ok") is True
        text = CHECK_NAMES.get(key, key)
        diff, tol = result.get("max_abs_diff"), result.get("tolerance")
        if isinstance(diff, int | float) and isinstance(tol, int | float):
            text += f": max |Δ| {diff:.3g} {'≤' if ok else '>'} {tol:.3g}"
        lines.append(CheckLine(ok, text))
    return lines


def check_note(report: Mapping, inputs: Mapping[str, float] | None) -> str:
    """At which inputs the check ran, said plainly when the user has edited them since."""
    edited = inputs is not None and inputs != report.get("inputs")
    return f"(checked by `dvc repro backprop` at its inputs{', not at your edited ones' if edited else ''})"


# --- pipeline ---------------------------------------------------------------------------

NO_REPRO = "No repro started from the dashboard yet"


def repro_line(run: ReproRun, running: bool) -> str:
    """The last repro started from a dashboard: running (with its pid) or how it ended."""
    if running:
        return f"{run.label}: running (pid {run.pid}, started {run.started})"
    return f"{run.label}: {run.outcome} (started {run.started})"


# --- errors -----------------------------------------------------------------------------

ERRORS_HINT = (
    "No predictions yet: the evaluate stage writes each model's prediction for every test image "
    "once both models have trained. Run `dvc repro`, or press 4 and then r."
)
TOP_CONFUSIONS = 10  # `--once --errors` lists this many confusions
FIRST_MISTAKES = 6  # and draws this many misclassified digits
ONCE_PER_ROW = 2  # two digits side by side fit 80 columns


def images_word(count: int) -> str:
    return "1 image" if count == 1 else f"{count:,} images"


def confusion_line(cell: Confusion) -> str:
    """One off-diagonal cell: `4 → 9: 17 images`."""
    return f"{cell.actual} → {cell.predicted}: {images_word(cell.count)}"


def confidence(probability: float) -> str:
    return f"{probability * 100:.1f}%"


def mistakes_line(errors: ModelErrors) -> str:
    """`163 of 10,000 test digits misclassified (1.63%)`."""
    share = pct(errors.misclassified / len(errors))
    return f"{errors.misclassified:,} of {len(errors):,} test digits misclassified ({share})"


def errors_heading(model: str, seed: int | None, errors: ModelErrors | None) -> str:
    """Whose mistakes, and how many: `model_b · seed 42 · 163 of 10,000 test digits misclassified (1.63%)`."""
    count = mistakes_line(errors) if errors is not None else "no predictions"
    return " · ".join([model, *([f"seed {seed}"] if seed is not None else []), count])


def cell_title(errors: ModelErrors, actual: int, predicted: int) -> str:
    """What a cell holds and in which order its digits come."""
    count = int(errors.counts[actual, predicted])
    what = f"{actual} → {predicted}" + (" (correct)" if actual == predicted else "")
    if not count:
        return f"{what}: no test image"
    if not errors.predictions.has_top2:
        order = "in test-set order (no probabilities in this file: rerun `dvc repro evaluate`)"
    else:
        order = "the least confident first" if actual == predicted else "the most confident first"
    return f"{what}: {images_word(count)}, {order}"


def caption_lines(predictions: Predictions, index: int) -> list[str]:
    """Under a digit: its true and predicted labels with the model's confidence, its index and
    the model's second choice (`true 4 · pred 9 · 87.3%`, `#8325 · 2nd 4 (11.2%)`)."""
    actual, predicted = int(predictions.actual[index]), int(predictions.predicted[index])
    if predictions.p_predicted is None or predictions.second is None or predictions.p_second is None:
        return [f"true {actual} · pred {predicted}", f"#{index}"]
    second = f"2nd {int(predictions.second[index])} ({confidence(float(predictions.p_second[index]))})"
    return [f"true {actual} · pred {predicted} · {confidence(float(predictions.p_predicted[index]))}",
            f"#{index} · {second}"]


def other_line(model: str, predictions: Predictions, index: int) -> str:
    """What another model predicted for the same image: `model_a: 4 ✓ 99.1%`."""
    predicted = int(predictions.predicted[index])
    mark = "✓" if predicted == int(predictions.actual[index]) else "✗"
    line = f"{model}: {predicted} {mark}"
    if predictions.p_predicted is not None:
        line += f" {confidence(float(predictions.p_predicted[index]))}"
    return line


def errors_report(model: str, seed: int | None, path: str, errors: ModelErrors,
                  images: np.ndarray | None, image_problem: str | None) -> str:
    """`--once --errors MODEL`: the top confusions, then the first misclassified digits as text."""
    seed_part = f", seed {seed}" if seed is not None else ""
    lines = [f"ERRORS {model}{seed_part} ({path})", f"  {mistakes_line(errors)}"]
    if errors.confusions:
        lines.append("  Top confusions (true → predicted):")
        lines += [f"    {confusion_line(cell)}" for cell in errors.confusions[:TOP_CONFUSIONS]]
    mistakes = errors.first_mistakes(FIRST_MISTAKES)
    if not len(mistakes):
        lines.append("  No test digit is misclassified.")
    elif images is None:
        lines.append(f"  The digits are not drawn: {image_problem}")
    else:
        lines.append(f"  The first {len(mistakes)} misclassified test digits:")
        blocks = [[*ramp_lines(images[index]), *caption_lines(errors.predictions, index)]
                  for index in mistakes.tolist()]
        for start in range(0, len(blocks), ONCE_PER_ROW):
            lines.append("")
            lines += [f"  {line.plain}".rstrip() for line in side_by_side(blocks[start:start + ONCE_PER_ROW])]
    return "\n".join(lines) + "\n"
