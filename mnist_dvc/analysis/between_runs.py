"""Is run A better than run B? Each run's criteria over its seeds, and every run against a baseline.

A run (an experiment: the pipeline with some params) trains each model with several seeds, and
`reports/comparison.json` keeps every seed's figures. Here the seeds of one run are a sample:
a mean with its 95% interval (`estimates`), and two runs are compared per model and criterion
(`compare_runs`): the difference to the baseline with its 95% interval, a t-test across seeds
(paired by seed when both runs ran the same seeds, else Welch's; across_seeds.difference), the
probability that a seed of one beats a seed of the other (superiority.py), the p-values adjusted
with Holm's method over every test shown at once, and a verdict sentence only where the adjusted
test is significant. Pure functions over plain data (no files, no Textual): the dashboard reads
the files and draws; docs/experiments.md, "Is run A better than run B?", explains every number.

Why 3 seeds for an interval: with 2 the interval rests on one degree of freedom, so its
half-width is 12.7 standard errors (t(1) = 12.71 against t(2) = 4.30), about 6.4 times the
distance between the two values, and the spread it is built on is itself a guess from one
difference (the estimated sd is below a third of the true one one time in four). Such an
interval and its test say almost nothing, and read as if they said something; from 3 seeds on
they start to inform. So below 3 seeds a run shows its mean and says it has no interval, and a
comparison with it shows the difference of means and no test.

Training time: a seed's time is a measurement of its own only when the seeds were trained and
timed one after another (`MEASURED`). Stacked seeds share one compiled epoch, each seed's time
is the stack's divided by the seeds (`STACK_SHARE`), and older runs record the wall time of all
seeds together on every seed (`MODEL_TOTAL`): either way the model has one measurement, so time
gets no interval, no test and no "mean" there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from mnist_dvc.analysis.across_seeds import LEVEL, PAIRED, difference, spread
from mnist_dvc.analysis.criteria import BY_KEY, SIGNIFICANCE
from mnist_dvc.analysis.formats import p_value, seed_list
from mnist_dvc.analysis.precision import UNITS, RowFormat, row_format
from mnist_dvc.analysis.superiority import Superiority, superiority
from mnist_dvc.core.contracts import MEASURED, MODEL_TOTAL, STACK_SHARE, TIMINGS

# Read here by the dashboard and its tests: a model's time kind from its seeds' timing labels.
from mnist_dvc.core.contracts import time_kind as time_kind
from mnist_dvc.core.records.comparison import Comparison as ComparisonFile

# The criteria compared between runs: the run's headline numbers that vary from seed to seed.
CRITERIA = ("best_test_accuracy", "final_test_accuracy", "min_test_loss", "generalization_gap",
            "train_time_s")
TIME = "train_time_s"
MIN_SEEDS = 3  # fewer seeds: no interval, no test (see the module's docstring)

# How each model's training time was found (contracts.TIMINGS; `time_kind` of its seeds' labels, the
# timing comparison.json records): MODEL_TOTAL is older runs', every seed carrying the model's wall time.
TIME_KINDS = TIMINGS
TIME_NOTES = {
    STACK_SHARE: "one measurement: the seeds were trained stacked, each given the stacked epoch's time "
                 "divided by the seeds",
    MODEL_TOTAL: "one measurement: the wall time of all the model's seeds together, the same on every seed",
}
NO_INTERVAL = f"no interval: fewer than {MIN_SEEDS} seeds"

# What the ± and intervals cover, for the tab and the exports (one line).
INTERVAL_SCOPE = ("Intervals are over training seeds: between seeds only the initial weights and the order "
                  "of the training batches changed, while the data, the test set and the params stayed "
                  "the same, so they show how much training randomness moves a number, not how it would "
                  "move on other test images.")


@dataclass(frozen=True)
class RunValues:
    """One run's figures: model -> criterion -> seed -> value, and per model how its training
    times were found (one of TIME_KINDS: a run may stack one model's seeds and not another's).
    No default kind, so that no run is taken for timed per seed by mistake."""

    name: str
    values: Mapping[str, Mapping[str, Mapping[int, float]]]
    time_kinds: Mapping[str, str]

    def __post_init__(self) -> None:
        for model in self.values:
            kind = self.time_kinds.get(model)
            if kind not in TIME_KINDS:
                raise ValueError(f"{self.name}: {model}'s time kind {kind!r} is not one of "
                                 f"{', '.join(TIME_KINDS)}")

    def seeds(self, model: str) -> tuple[int, ...]:
        """The seeds the run trained `model` with (those of its first criterion), sorted."""
        by_criterion = self.values.get(model, {})
        return tuple(sorted(next(iter(by_criterion.values()), {})))


def from_comparison(name: str, comparison: ComparisonFile, time_kinds: Mapping[str, str] | None = None,
                    criteria: Iterable[str] = CRITERIA) -> RunValues:
    """A run's figures from its `reports/comparison.json` record (`models` -> model -> `runs` ->
    seed -> run summary), the per-seed values, never the means DVC shows; `time_kinds`: model ->
    its time kind, by default the `timing` the file records (a file from before it did: MODEL_TOTAL)."""
    criteria = tuple(criteria)
    values = {model: {key: {seed: float(getattr(summary, key)) for seed, summary in entry.runs.items()}
                      for key in criteria}
              for model, entry in comparison.models.items()}
    if time_kinds is None:
        time_kinds = {model: entry.timing or MODEL_TOTAL for model, entry in comparison.models.items()}
    return RunValues(name, values, time_kinds)


def one_measurement(run: RunValues, model: str, criterion: str) -> bool:
    """Whether the criterion has one measurement for the model in this run, not one per seed."""
    return criterion == TIME and run.time_kinds[model] != MEASURED


# --- per run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """One criterion of one model of one run, over its seeds.

    `value`: the mean over the seeds, or the one measurement (`mean` False); `low`/`high`: the 95%
    interval of the mean, None with `note` saying why there is none."""

    criterion: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]  # per seed, in the order of `seeds`
    value: float
    mean: bool
    low: float | None = None
    high: float | None = None
    note: str | None = None

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def half(self) -> float | None:
        """Half the interval's width, or None without one."""
        return None if self.low is None else (self.high - self.low) / 2


def _same_value(run: RunValues, model: str, criterion: str, by_seed: Mapping[int, float]) -> float:
    """The one measurement all seeds carry (equal up to float rounding), or a one-line error."""
    values = list(by_seed.values())
    if not all(math.isclose(v, values[0], rel_tol=1e-9) for v in values):
        raise ValueError(f"{run.name}: {criterion} differs between seeds, but its time kind "
                         f"{run.time_kinds[model]!r} says the seeds share one measurement")
    return float(sum(values) / len(values))


def estimate(run: RunValues, model: str, criterion: str) -> Estimate:
    """The criterion's mean and 95% interval over the run's seeds (Student's t, as evaluate's)."""
    by_seed = run.values.get(model, {}).get(criterion)
    if not by_seed:
        raise ValueError(f"{run.name}: {model} has no seed with {criterion}")
    seeds = tuple(sorted(by_seed))
    values = tuple(float(by_seed[s]) for s in seeds)
    if one_measurement(run, model, criterion):
        return Estimate(criterion, seeds, values, _same_value(run, model, criterion, by_seed), False,
                        note=TIME_NOTES[run.time_kinds[model]])
    described = spread(values)
    if len(seeds) < MIN_SEEDS:
        return Estimate(criterion, seeds, values, described.mean, True, note=NO_INTERVAL)
    low, high = described.ci
    return Estimate(criterion, seeds, values, described.mean, True, low, high)


def estimates(run: RunValues, criteria: Iterable[str] = CRITERIA) -> dict[str, dict[str, Estimate]]:
    """model -> criterion -> its Estimate, for every model of the run."""
    criteria = tuple(criteria)
    return {model: {c: estimate(run, model, c) for c in criteria} for model in run.values}


@dataclass(frozen=True)
class SeedGroup:
    """Runs that trained a model with the same seeds: any two of them can be compared seed by seed."""

    label: str  # "S1", "S2", … in order of first appearance
    seeds: tuple[int, ...]
    runs: tuple[str, ...]


def seed_groups(seeds_by_run: Mapping[str, Iterable[int]]) -> list[SeedGroup]:
    """The runs grouped by their seed set (run -> the seeds of one model), in the order given; a
    run alone in its group can be compared with the others only without pairing (Welch)."""
    groups: dict[tuple[int, ...], list[str]] = {}
    for run, seeds in seeds_by_run.items():
        groups.setdefault(tuple(sorted(seeds)), []).append(run)
    return [SeedGroup(f"S{i}", seeds, tuple(runs)) for i, (seeds, runs) in enumerate(groups.items(), 1)]


# --- between runs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One run against the baseline, on one criterion of one model.

    `difference` is run − baseline, `ci` its 95% interval; `test` names the t-test (None: no test,
    `note` says why), `p_value` its p, `p_adjusted` Holm's over the `tests` tests compared at once;
    `superiority`: P(a seed of the run beats a seed of the baseline); `verdict`: a sentence only
    where the adjusted test is significant."""

    run: str
    baseline: str
    model: str
    criterion: str
    run_estimate: Estimate
    baseline_estimate: Estimate
    difference: float
    ci: tuple[float, float] | None = None
    test: str | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    tests: int = 0
    superiority: Superiority | None = None
    verdict: str | None = None
    note: str | None = None
    df: float | None = None
    paired_seeds: tuple[int, ...] = ()

    @property
    def significant(self) -> bool:
        return self.p_adjusted is not None and self.p_adjusted < SIGNIFICANCE


def holm(p_values: Sequence[float]) -> list[float]:
    """The p-values adjusted with Holm's step-down method (statsmodels' multipletests), in the
    order given. It keeps the chance of any false "significant" among them below the level,
    whatever their dependence. statsmodels is imported here, not at the top: it adds about 0.7 s."""
    if not p_values:
        return []
    from statsmodels.stats.multitest import multipletests

    return [float(p) for p in multipletests(list(p_values), alpha=SIGNIFICANCE, method="holm")[1]]


def _untested(run: RunValues, baseline: RunValues, model: str, criterion: str, first: Estimate,
              second: Estimate) -> Comparison | None:
    """The comparison when no test is possible (one measurement, too few seeds), else None."""
    note = None
    if one_measurement(run, model, criterion) or one_measurement(baseline, model, criterion):
        note = "no interval and no test: training time is one measurement per model in " + \
               " and ".join(r.name for r in (run, baseline) if one_measurement(r, model, criterion))
    elif min(first.n, second.n) < MIN_SEEDS:
        note = f"no interval and no test: fewer than {MIN_SEEDS} seeds"
    if note is None:
        return None
    return Comparison(run.name, baseline.name, model, criterion, first, second, first.value - second.value,
                      note=note)


def _compare(run: RunValues, baseline: RunValues, model: str, criterion: str) -> Comparison:
    first, second = estimate(run, model, criterion), estimate(baseline, model, criterion)
    untested = _untested(run, baseline, model, criterion, first, second)
    if untested is not None:
        return untested
    a, b = run.values[model][criterion], baseline.values[model][criterion]
    diff = difference(a, b)
    paired = tuple(sorted(a)) if diff.test == PAIRED else ()
    common = dict(run=run.name, baseline=baseline.name, model=model, criterion=criterion, run_estimate=first,
                  baseline_estimate=second, difference=diff.difference, ci=tuple(diff.ci),
                  paired_seeds=paired)
    if diff.p_value is None:  # the same difference on every seed: nothing to test
        return Comparison(**common, note=diff.note)
    better = BY_KEY[criterion].better
    return Comparison(**common, test=diff.test, p_value=diff.p_value, df=diff.df,
                      superiority=superiority(a, b, better))


def compare_runs(runs: Sequence[RunValues], baseline: str, models: Iterable[str] | None = None,
                 criteria: Iterable[str] = CRITERIA) -> list[Comparison]:
    """Every run but the baseline against it, per model (those of the baseline, or `models`)
    and criterion; p-values Holm-adjusted over all the tests made here at once, so ask for
    exactly what the screen shows. A model a run lacks is left out."""
    by_name = {run.name: run for run in runs}
    if baseline not in by_name:
        raise ValueError(f"the baseline {baseline!r} is not among the runs compared")
    if len(by_name) != len(runs):
        raise ValueError("two runs have the same name: name each run once")
    base = by_name[baseline]
    models = list(base.values) if models is None else list(models)
    results = [_compare(run, base, model, criterion)
               for run in runs if run.name != baseline
               for model in models if model in run.values and model in base.values
               for criterion in criteria]
    tested = [i for i, c in enumerate(results) if c.p_value is not None]
    adjusted = holm([results[i].p_value for i in tested])
    for i, p in zip(tested, adjusted, strict=True):
        c = replace(results[i], p_adjusted=p, tests=len(tested))
        results[i] = replace(c, verdict=verdict(c)) if c.significant else c
    return results


# --- words --------------------------------------------------------------------------------------


def _name(criterion: str) -> str:
    """The criterion in a sentence: "best test accuracy" (the table's label, no parenthesis)."""
    return BY_KEY[criterion].label.split(" (")[0].lower()


def value_format(*found: Estimate) -> RowFormat:
    """One format for the estimates of a row (one criterion across models or runs)."""
    unit = UNITS[found[0].criterion][0]
    return row_format(unit, [v for e in found for v in (e.value, e.low, e.high)], [e.half for e in found])


def estimate_text(item: Estimate, fmt: RowFormat | None = None) -> str:
    """ "98.18 ± 0.19% (n = 3)"; "mean 98.25% (n = 2, no interval: …)"; "439 s (one measurement: …)"."""
    fmt = fmt or value_format(item)
    if not item.mean:
        return f"{fmt.value(item.value)} ({item.note})"
    if item.low is None:
        return f"mean {fmt.value(item.value)} (n = {item.n}, {item.note})"
    return f"{fmt.pm(item.value, item.half)} (n = {item.n})"


def difference_format(*found: Comparison) -> RowFormat:
    """One format for the differences of a row."""
    unit = UNITS[found[0].criterion][1]
    numbers = [v for c in found for v in (c.difference, *(c.ci or ()))]
    halves = [(c.ci[1] - c.ci[0]) / 2 if c.ci else None for c in found]
    return row_format(unit, numbers, halves)


def difference_text(item: Comparison, fmt: RowFormat | None = None) -> str:
    """ "-0.43 pts (95% CI -0.79 to -0.07)", or the difference and why it has no interval."""
    fmt = fmt or difference_format(item)
    text = fmt.value(item.difference, signed=True)
    if item.ci is None or item.test is None:
        return f"{text} ({item.note})"
    return f"{text} ({LEVEL:.0%} CI {fmt.interval(*item.ci, signed=True)})"


def superiority_text(item: Superiority) -> str:
    return f"{item.probability:.2f} ({LEVEL:.0%} CI {item.low:.2f} to {item.high:.2f})"


def verdict(item: Comparison) -> str:
    """Which run is better and by how much, with the adjusted p and the number of tests; only
    for a significant adjusted test (a ValueError otherwise: no sentence without the evidence)."""
    if not item.significant:
        raise ValueError("a verdict needs a significant adjusted test")
    higher_better = BY_KEY[item.criterion].better == "higher"
    run_better = (item.difference > 0) == higher_better
    win, lose = (item.run, item.baseline) if run_better else (item.baseline, item.run)
    est = {item.run: item.run_estimate, item.baseline: item.baseline_estimate}
    # The means with the digits of the difference's interval: paired seeds pin the difference down
    # more tightly than either mean, and the sentence must show the means differ.
    fmt = row_format(UNITS[item.criterion][0], [item.run_estimate.value, item.baseline_estimate.value],
                     [(item.ci[1] - item.ci[0]) / 2])
    over = (f"the same {len(item.paired_seeds)} seeds ({seed_list(list(item.paired_seeds))})"
            if item.paired_seeds else f"{est[win].n} and {est[lose].n} seeds")
    beats = item.superiority.probability if run_better else 1 - item.superiority.probability
    low, high = ((item.superiority.low, item.superiority.high) if run_better
                 else (1 - item.superiority.high, 1 - item.superiority.low))
    return (f"{win} is better than {lose} on {item.model}'s {_name(item.criterion)}: mean "
            f"{fmt.value(est[win].value)} vs {fmt.value(est[lose].value)} over {over}; {item.run} − "
            f"{item.baseline} = {difference_text(item)}; {item.test}, Holm-adjusted "
            f"p = {p_value(item.p_adjusted)} over {item.tests} tests. A seed of {win} beats one of {lose} "
            f"with probability {beats:.2f} ({LEVEL:.0%} CI {low:.2f} to {high:.2f}).")


def family_note(results: Sequence[Comparison]) -> str:
    """How many tests were adjusted together and how many stay significant, in one line."""
    tested = [c for c in results if c.p_value is not None]
    if not tested:
        return "No test: no pair of runs has enough seeds (3 or more each) on a criterion that varies."
    significant = sum(c.significant for c in tested)
    paired = sum(c.test == PAIRED for c in tested)
    return (f"p-values adjusted with Holm's method over the {len(tested)} tests shown ({paired} paired "
            f"by seed, {len(tested) - paired} Welch's); {significant} significant at {SIGNIFICANCE}.")
