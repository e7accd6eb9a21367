"""What the Compare tab says, as plain data and text: the assignment's comparison side by side
(with several seeds: mean ± half the 95% CI, and the models' difference with its test across
seeds), the verdicts, McNemar's test, and where the models stand among published MNIST results.
Every number comes from evaluate's reports/comparison.json; `python -m tui --once` prints the
same lines. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass

from mnist_dvc.analysis.comparison import CRITERIA, SIGNIFICANCE, Criterion, difference_fmt, signed_difference
from mnist_dvc.analysis.formats import pct
from mnist_dvc.core.contracts import VERDICTS
from mnist_dvc.core.jsonfile import finite_number
from tui.ground.snapshot import Dashboard
from tui.ground.text import architecture

COMPARE_HINT = (
    "No comparison yet: the evaluate stage writes reports/comparison.json after both models "
    "have trained. Run `dvc repro`, or press 4 and then r."
)


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


# --- what evaluate decided ----------------------------------------------------------------
# Significance and the better model are evaluate's decisions (mnist_dvc.analysis.comparison).
# Until reports/comparison.json states each criterion's winner, these three read them back from
# the p-values and means that file holds, with evaluate's own threshold; they are the only
# place in tui/ that does, and they go once the file says it.


def _significant(diff: dict) -> bool:
    """A difference across seeds that evaluate's test calls significant (identical seeds: any)."""
    p = diff.get("p_value")
    return diff.get("difference", 0) != 0 if p is None else p < SIGNIFICANCE


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


def _mcnemar_result(test: dict, first: str, second: str) -> str:
    """One seed's McNemar test in words: which model it finds significantly better, if any."""
    if test["p_value"] >= SIGNIFICANCE:
        return "not significant"
    return f"{second if test.get('b01', 0) > test.get('b10', 0) else first} significantly better"


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
        lines.append(f"  seed {test.get('seed', '?')}: {b01} images only {second} gets right, {b10} only "
                     f"{first}; p = {p:.3g}, {_mcnemar_result(test, first, second)}")
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
    if data.comparison is None or name not in data.comparison.get("models", {}):
        return None
    return _value(_stats(data.comparison, name, "final_test_accuracy"), "mean")


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
