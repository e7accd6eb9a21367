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

from mnist_dvc.analysis.comparison import CRITERIA, SIGNIFICANCE, Criterion, difference_fmt, signed_difference
from mnist_dvc.analysis.errors import Confusion, ModelErrors
from mnist_dvc.analysis.formats import duration, loss, pct
from mnist_dvc.analysis.predictions import Predictions
from mnist_dvc.backprop.notation import fmt
from mnist_dvc.backprop.record import Trace
from mnist_dvc.core.contracts import CLASSES, FEATURES, VERDICTS
from mnist_dvc.core.jsonfile import finite_number
from mnist_dvc.core.params import ModelParams
from tui.data import WAITING, Dashboard, ModelRun, Progress, SeedRun
from tui.digit_art import ramp_lines, side_by_side
from tui.dvc import LockHolder
from tui.experiments import Run
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
    "No comparison yet: the evaluate stage writes reports/comparison.json after both models "
    "have trained. Run `dvc repro`, or press 4 and then r."
)


def architecture(spec: ModelParams | None) -> str:
    if spec is None:
        return "not in params.yaml"
    return "→".join(str(width) for width in (FEATURES, *spec.hidden, CLASSES))


# --- training ---------------------------------------------------------------------------


def run_title(run: ModelRun) -> str:
    seeds = f"  {len(run.seeds)} seeds" if len(run.seeds) > 1 else ""
    return f"{run.name}  {architecture(run.spec)}{seeds}"


def status_text(run: ModelRun | SeedRun) -> str:
    if run.status == WAITING and not run.reason:
        return "waiting: not started yet"
    return f"{run.status}: {run.reason}" if run.reason else run.status


Metrics = dict[str, tuple[float | None, float | None]]


def seed_metrics(seed: SeedRun) -> Metrics:
    """metric -> (latest, best) of one seed; from progress.json, else from the per-epoch log."""
    result: Metrics = {}
    history = seed.history
    for metric in METRICS:
        pick = min if metric.endswith("loss") else max
        if seed.progress is not None and seed.progress.last:
            result[metric] = (seed.progress.last.get(metric), seed.progress.best.get(metric))
        elif len(history):
            column = getattr(history, metric)
            result[metric] = (column[-1], pick(column))
        else:
            result[metric] = (None, None)
    return result


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


def run_metrics(run: ModelRun) -> Metrics:
    """metric -> (latest, best), each the mean over the seeds that have it."""
    per_seed = [seed_metrics(seed) for seed in run.seeds]
    return {metric: (_mean([m[metric][0] for m in per_seed]), _mean([m[metric][1] for m in per_seed]))
            for metric in METRICS}


def best_spread(run: ModelRun, metric: str) -> tuple[float, float] | None:
    """The lowest and highest seed's best value of a metric, when two or more seeds have one."""
    bests = [best for seed in run.seeds if (best := seed_metrics(seed)[metric][1]) is not None]
    return (min(bests), max(bests)) if len(bests) > 1 else None


@dataclass(frozen=True)
class MetricRow:
    """One metric of a run: its latest and best values, and where the best test accuracy was
    (one seed) or how far the seeds' best values spread (several)."""

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
        note = ""
        if len(run.seeds) > 1:
            spread = best_spread(run, metric)
            note = f"{number(spread[0])}–{number(spread[1])}" if spread else ""
        elif metric == "test_accuracy" and best is not None:
            at = best_test_epoch(run.seeds[0])
            note = f"at epoch {at}" if at is not None else ""
        rows.append(MetricRow(METRIC_LABELS[metric], number(last), number(best), note))
    return rows


def metrics_heading(run: ModelRun) -> str:
    """What the columns of `metric_rows` are: the seeds' means and spread when there are several."""
    if len(run.seeds) > 1:
        return f"{f'mean of {len(run.seeds)} seeds':<15} {'latest':>8} {'best':>8}  best: lowest–highest seed"
    return f"{'':<15} {'latest':>8} {'best':>8}"


def best_test_epoch(seed: SeedRun) -> int | None:
    if seed.progress is not None and "test_accuracy_epoch" in seed.progress.best:
        return int(seed.progress.best["test_accuracy_epoch"])
    history = seed.history
    if not len(history):
        return None
    top = max(range(len(history)), key=lambda i: history.test_accuracy[i])
    return history.epoch[top]


def progress_line(run: ModelRun) -> str:
    """Epochs done and the times: no clock is read here, only what the run wrote. The seeds
    train together, so they share their times; the furthest seed's are shown."""
    parts = [f"epoch {run.epochs_done}/{run.epochs_total}"]
    lead = max(run.seeds, key=lambda seed: (seed.progress is not None, seed.epochs_done), default=None)
    progress = lead.progress if lead else None
    history = lead.history if lead else run.history
    elapsed = progress.elapsed_s if progress else (history.train_time_s or [None])[-1]
    epoch_s = progress.epoch_s if progress else (history.epoch_s or [None])[-1]
    if elapsed is not None:
        parts.append(f"elapsed {duration(elapsed)}")
    if progress is not None and progress.state == "running" and run.status == "running":
        parts.append(f"ETA {duration(progress.eta_s)}" if progress.eta_s is not None else "ETA after epoch 1")
    if epoch_s is not None:
        parts.append(f"last epoch {duration(epoch_s)}")
    if progress is not None and progress.backend:
        parts.append(progress.backend)
    return " · ".join(parts)


@dataclass(frozen=True)
class SeedLine:
    """One seed's state in a model with several: status word, epochs, best test accuracy, reason."""

    seed: str
    status: str
    epochs: str
    best: str
    reason: str

    def text(self) -> str:
        parts = (self.seed, self.status, self.epochs, self.best, self.reason)
        return "  ".join(part for part in parts if part)


def seed_lines(run: ModelRun) -> list[SeedLine]:
    """Per seed, aligned in columns; none for a one-seed model (its panel says it all)."""
    if len(run.seeds) < 2:
        return []
    seed_width = max(len(str(seed.seed)) for seed in run.seeds)
    status_width = max(len(seed.status) for seed in run.seeds)
    done_width = len(str(run.epochs_total))
    lines = []
    for seed in run.seeds:
        best = seed_metrics(seed)["test_accuracy"][1]
        at = best_test_epoch(seed)
        lines.append(SeedLine(
            seed=f"seed {seed.seed:<{seed_width}}",
            status=f"{seed.status:<{status_width}}",
            epochs=f"epoch {seed.epochs_done:>{done_width}}/{seed.epochs_total}",
            best=f"best test {pct(best)} at epoch {at}" if best is not None and at is not None else "",
            reason=seed.reason if seed.reason and seed.reason != run.reason else "",  # said once above
        ))
    return lines


def training_lines(data: Dashboard) -> list[str]:
    lines = ["TRAINING"]
    if not data.runs:
        return [*lines, "  no models in params.yaml"]
    if not data.has_training:
        lines.append(f"  {START_HINT}")
    width = max(len(run.name) for run in data.runs)
    for run in data.runs:
        seeds = f"  {len(run.seeds)} seeds" if len(run.seeds) > 1 else ""
        lines.append(f"  {run.name:<{width}}  {architecture(run.spec)}{seeds}  {status_text(run)}")
        lines.append(f"  {'':<{width}}  {progress_line(run)}")
        if run_metrics(run)["test_accuracy"][0] is not None:
            several = len(run.seeds) > 1
            cells = [f"mean {row.label} {row.latest} (best {row.best}, seeds {row.note})" if several
                     else f"{row.label} {row.latest} (best {row.best})" for row in metric_rows(run)]
            lines.append(f"  {'':<{width}}  " + ", ".join(cells[:2]))
            lines.append(f"  {'':<{width}}  " + ", ".join(cells[2:]))
        lines += [f"  {'':<{width}}  {line.text()}" for line in seed_lines(run)]
    return lines


# --- comparison -------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One criterion: each model's value (the mean ± half its 95% CI with several seeds), the
    model(s) marked better, and the first pair's difference with its test across seeds."""

    key: str
    label: str
    cells: dict[str, str]
    winners: frozenset[str]
    difference: str | None = None


def _value(row: dict, key: str) -> float | None:
    return finite_number(row.get(key))


def _stats(comparison: dict, name: str, key: str) -> dict:
    entry = comparison["models"][name]
    spread = (entry.get("stats") or {}).get(key) if isinstance(entry, dict) else None
    return spread if isinstance(spread, dict) else {}


def _cell(criterion: Criterion, spread: dict) -> str:
    """The mean, and ± half its 95% interval when there is one: 98.35% ± 0.09 pts."""
    mean = _value(spread, "mean")
    ci = spread.get("ci")
    if mean is None or not isinstance(ci, list) or len(ci) != 2 or criterion.key in {"params", "epochs"}:
        return criterion.fmt(mean)
    half = (ci[1] - ci[0]) / 2
    return f"{criterion.fmt(mean)} ± {difference_fmt(criterion)(half)}"


def _pair(comparison: dict) -> dict | None:
    differences = comparison.get("differences") or []
    return differences[0] if differences and isinstance(differences[0], dict) else None


def _significant(diff: dict) -> bool:
    p = diff.get("p_value")
    return diff.get("difference", 0) != 0 if p is None else p < SIGNIFICANCE


def difference_header(comparison: dict) -> str | None:
    """The difference column's title: which model minus which, or None with one seed."""
    pair = _pair(comparison)
    return None if pair is None else f"{' − '.join(pair['models'])} (95% CI; {pair.get('test', 'test')} p)"


def difference_cell(criterion: Criterion, diff: dict) -> str:
    """first − second, its 95% interval and p: "-0.52 pts (-0.60 pts to -0.43 pts; p 7.09e-05)"."""
    difference = signed_difference(criterion, diff["difference"])
    if diff.get("p_value") is None:
        return f"{difference} (same on every seed)"
    low, high = (signed_difference(criterion, value) for value in diff["ci"])
    return f"{difference} ({low} to {high}; p {diff['p_value']:.3g})"


def _winners(criterion: Criterion, comparison: dict, models: list[str], pair: dict | None) -> frozenset[str]:
    """One seed: the better value. Several: the better mean, and only when the difference is
    significant across seeds (a not significant edge is no edge)."""
    means = {name: _value(_stats(comparison, name, criterion.key), "mean") for name in models}
    known = {name: value for name, value in means.items() if value is not None}
    if criterion.better is None or len(known) < 2:
        return frozenset()
    target = (max if criterion.better == "higher" else min)(known.values())
    best = frozenset(name for name, value in known.items() if value == target)
    if pair is None:
        return best
    diff = pair["criteria"].get(criterion.key)
    return best if isinstance(diff, dict) and len(best) == 1 and _significant(diff) else frozenset()


def comparison_rows(comparison: dict) -> tuple[list[str], list[ComparisonRow]]:
    """The side-by-side table: one row per criterion, the better model of each marked."""
    models = list(comparison.get("models", {}))
    pair = _pair(comparison) if len(models) == 2 else None
    rows = []
    for criterion in CRITERIA:
        cells = {name: _cell(criterion, _stats(comparison, name, criterion.key)) for name in models}
        diff = pair["criteria"].get(criterion.key) if pair else None
        rows.append(ComparisonRow(criterion.key, criterion.label, cells,
                                  _winners(criterion, comparison, models, pair),
                                  difference_cell(criterion, diff) if isinstance(diff, dict) else None))
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


def seeds_line(comparison: dict) -> str | None:
    note = comparison.get("seeds_note")
    return note if isinstance(note, str) else None


def mcnemar_lines(comparison: dict) -> list[str]:
    """McNemar's test of the final models: one line for one seed; with several, the count over
    the seeds, then one line per seed."""
    tests = [t for t in comparison.get("mcnemar") or [] if isinstance(t, dict)]
    if len(tests) == 1:
        test = tests[0]
        pair = " vs ".join(str(name) for name in test.get("models", []))
        head = f"McNemar's exact test{f' ({pair})' if pair else ''}: "
        counts = f"b01 = {test.get('b01', '–')}, b10 = {test.get('b10', '–')}, p = {test['p_value']:.3g}"
        return [head + counts + (f". {test['sentence']}" if test.get("sentence") else "")]
    lines = [line for line in comparison.get("mcnemar_summary") or [] if isinstance(line, str)]
    for test in tests:
        first, second = test.get("models", ["first", "second"])
        b01, b10, p = test.get("b01", 0), test.get("b10", 0), test["p_value"]
        result = "not significant"
        if p < SIGNIFICANCE:
            result = f"{second if b01 > b10 else first} significantly better"
        lines.append(f"  seed {test.get('seed', '?')}: {b01} images only {second} gets right, {b10} only "
                     f"{first}; p = {p:.3g}, {result}")
    return lines


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
    """The honest figure to set beside published ones: the final models' test accuracy (the mean
    over seeds)."""
    if data.comparison is not None and name in data.comparison.get("models", {}):
        mean = _value(_stats(data.comparison, name, "final_test_accuracy"), "mean")
        if mean is not None:
            return mean
    run = data.run(name)
    if run is not None and run.evaluation is not None and run.evaluation.get("seeds"):
        seeds = run.evaluation["seeds"].values()
        return sum(record["test_accuracy"] for record in seeds) / len(seeds)
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
            seeds = seed_count(data, run.name)
            mean = f", mean of {seeds} seeds" if seeds > 1 else ""
            rows.append(Standing(f"{run.name} (this project, MLP {architecture(run.spec)}{mean})",
                                 pct(accuracy), True, accuracy))
    return sorted(rows, key=lambda row: -row.sort_key)


def seed_count(data: Dashboard, name: str) -> int:
    """How many seeds the comparison has for a model (1 without a comparison)."""
    entry = (data.comparison or {}).get("models", {}).get(name)
    seeds = entry.get("seeds") if isinstance(entry, dict) else None
    return len(seeds) if isinstance(seeds, list) and seeds else 1


def standing_sentence(name: str, accuracy: float, seeds: int = 1) -> str:
    if accuracy < MLPS.low:
        where = f"{(MLPS.low - accuracy) * 100:.2f} pts below the best plain MLPs"
    elif accuracy <= MLPS.high:
        where = "within the range of the best plain MLPs"
    else:
        where = "above the best published plain MLPs"
    lenet = (LENET.high - accuracy) * 100
    best = (REFERENCES[0].high - accuracy) * 100
    what = "final test accuracy" if seeds == 1 else f"mean final test accuracy over {seeds} seeds"
    return (f"{name}: {pct(accuracy)} {what}, {where}; {lenet:.2f} pts below LeNet-5 "
            f"and {best:.2f} pts below the CNN committee.")


def standing_sentences(data: Dashboard) -> list[str]:
    lines = []
    for run in data.runs:
        accuracy = final_accuracy(data, run.name)
        if accuracy is not None:
            lines.append(standing_sentence(run.name, accuracy, seed_count(data, run.name)))
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
        header = difference_header(data.comparison)
        if header:
            lines.append(f"  {header}:")
            lines += [f"    {row.label}: {row.difference}" for row in rows if row.difference]
        lines.append("  (* = better on that row" + (", significantly across seeds)" if header else ")"))
        note = seeds_line(data.comparison)
        lines += [f"  {line}" for line in ([note] if note else []) + verdict_lines(data.comparison)]
        lines += [f"  {line}" for line in mcnemar_lines(data.comparison)]
    lines.append("  Published MNIST results (test accuracy):")
    for row in standings(data):
        lines.append(f"  {'>' if row.ours else ' '} {row.label:<62} {row.accuracy:>12}")
    lines += [f"  {line}" for line in standing_sentences(data)]
    return lines


def following_line(run: Run) -> str:
    """The Training tab's note while it follows an experiment outside the workspace."""
    return (f"Following experiment {run.name}, running in {run.folder} (a queue worker's copy). "
            "Move the cursor on the Experiments tab (5) to another run to see the workspace again.")


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
    """One comparison of reports/backprop.json: the engine's gradients against another method."""

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


def progress_brief(progress: Progress) -> str:
    """One training in a few words: model, epoch, ETA, latest test accuracy."""
    parts = [f"{progress.model} epoch {progress.epoch}/{progress.epochs}"]
    if progress.state == "running":
        parts.append(f"ETA {duration(progress.eta_s)}" if progress.eta_s is not None else "ETA after epoch 1")
    else:
        parts.append(progress.state)
    if "test_accuracy" in progress.last:
        parts.append(f"test accuracy {pct(progress.last['test_accuracy'])}")
    return " · ".join(parts)


def lock_line(holder: LockHolder) -> str:
    """Who holds the workspace's lock, while `dvc status` has to wait for it."""
    who = f"pid {holder.pid}: {holder.command}" if holder.pid else holder.command or "another dvc process"
    what = ", ".join(holder.stages) if holder.stages else "no stage yet (reading)"
    return f"Another dvc command runs here ({who}); running: {what}. Statuses are checked once it ends."


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
    """Whose mistakes, and how many: `model_b · seed 42 · 163 of 10,000 test digits misclassified (1.63%)`;
    the seed is left out (None) when the model has only one."""
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


def errors_report(model: str, path: str, errors: ModelErrors,
                  images: np.ndarray | None, image_problem: str | None) -> str:
    """`--once --errors MODEL`: the top confusions, then the first misclassified digits as text.
    The path names the seed (reports/predictions/<model>/seed_<s>.csv)."""
    lines = [f"ERRORS {model} ({path})", f"  {mistakes_line(errors)}"]
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
