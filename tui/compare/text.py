"""What the Compare tab says, as plain data and text: the assignment's comparison side by side
(its rows from mnist_dvc.analysis.comparison_table: with several seeds, mean ± half the 95% CI and
the models' difference with its test across seeds; training time labelled by how it was measured,
with no ±, difference or ★ unless each seed was timed on its own), the verdicts, McNemar's test,
and where the models stand among published MNIST results. Every number comes from evaluate's
reports/comparison.json; `python -m tui --once` prints the same lines. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass

from mnist_dvc.analysis.comparison_table import TableRow, table_rows
from mnist_dvc.analysis.formats import pct
from mnist_dvc.core.contracts import VERDICTS
from mnist_dvc.core.records.comparison import Comparison, McNemar
from tui.ground.snapshot import Dashboard
from tui.ground.text import architecture

COMPARE_HINT = (
    "No comparison yet: the evaluate stage writes reports/comparison.json after both models "
    "have trained. Run `dvc repro`, or press 4 and then r."
)


def comparison_rows(comparison: Comparison) -> tuple[list[str], list[TableRow]]:
    """The side-by-side table: the models, and one row per criterion (its `winner`: the model
    evaluate decided is better, with several seeds only where its test across seeds says so)."""
    return list(comparison.models), table_rows(comparison)


def difference_header(comparison: Comparison) -> str | None:
    """The difference column's title: which model minus which, or None with one seed."""
    pair = comparison.differences[0] if comparison.differences else None
    return None if pair is None else f"{' − '.join(pair.models)} (95% CI; {pair.test} p)"


def verdict_lines(comparison: Comparison) -> list[str]:
    rank = {key: i for i, key in enumerate(VERDICTS)}
    order = sorted(comparison.verdicts, key=lambda key: rank.get(key, len(rank)))
    lines = []
    for key in order:
        verdict = comparison.verdicts[key]
        lines.append(f"{key.capitalize()}: {verdict.winner or 'no winner'}. {verdict.sentence}".rstrip())
    return lines


def _mcnemar_result(test: McNemar) -> str:
    """One seed's McNemar test in words: the model evaluate found significantly better, if any."""
    return f"{test.winner} significantly better" if test.winner else "not significant"


def mcnemar_lines(comparison: Comparison) -> list[str]:
    """McNemar's test of the final models: one line for one seed; with several, the count over
    the seeds, then one line per seed."""
    tests = comparison.mcnemar
    if len(tests) == 1:
        test = tests[0]
        head = f"McNemar's exact test ({' vs '.join(test.models)}): "
        counts = f"b01 = {test.b01}, b10 = {test.b10}, p = {test.p_value:.3g}"
        return [head + counts + (f". {test.sentence}" if test.sentence else "")]
    lines = list(comparison.mcnemar_summary)
    for test in tests:
        first, second = test.models
        lines.append(f"  seed {test.seed}: {test.b01} images only {second} gets right, {test.b10} only "
                     f"{first}; p = {test.p_value:.3g}, {_mcnemar_result(test)}")
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
    """The honest figure to set beside published ones: the final models' test accuracy, the mean over
    seeds that evaluate wrote (none before evaluate has run)."""
    if data.comparison is None or name not in data.comparison.models:
        return None
    return data.comparison.models[name].stats["final_test_accuracy"].mean


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
    entry = data.comparison.models.get(name) if data.comparison else None
    return len(entry.seeds) if entry is not None and entry.seeds else 1


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
        widths = {name: max(len(name), *(len(row.cells[name]) for row in rows)) for name in models}
        names = "  ".join(f"{n:>{widths[n]}}  " for n in models)
        lines.append(f"  {'':<{label_width}}  {names}".rstrip())
        for row in rows:
            cells = [f"{row.cells[n]:>{widths[n]}}{' *' if n == row.winner else '  '}" for n in models]
            lines.append(f"  {row.label:<{label_width}}  " + "  ".join(cells).rstrip())
        header = difference_header(data.comparison)
        if header:
            lines.append(f"  {header}:")
            lines += [f"    {row.label}: {row.difference}" for row in rows if row.difference]
        lines.append("  (* = better on that row" + (", significantly across seeds)" if header else ")"))
        note = data.comparison.seeds_note
        lines += [f"  {line}" for line in ([note] if note else []) + verdict_lines(data.comparison)]
        lines += [f"  {line}" for line in mcnemar_lines(data.comparison)]
    lines.append("  Published MNIST results (test accuracy):")
    for row in standings(data):
        lines.append(f"  {'>' if row.ours else ' '} {row.label:<62} {row.accuracy:>12}")
    lines += [f"  {line}" for line in standing_sentences(data)]
    return lines
