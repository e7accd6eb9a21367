"""Is run A better than run B? The Experiments tab's statistics between runs, as data to draw.

Each run's figures are the per-seed ones of its `reports/comparison.json`, read at its revision
through tui.ground.runs (never DVC's metric columns, which hold only means); the statistics are
mnist_dvc.analysis.between_runs, mcnemar_seeds and vs_param (docs/experiments.md, "Is run A
better than run B?"). scipy.stats and statsmodels load with them, so the tab imports this module
only when runs are compared, never at the dashboard's start. Everything here blocks (DVC reads a
revision's files): the tab calls it in a thread worker. No Textual here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from mnist_dvc.analysis import between_runs as br
from mnist_dvc.analysis.criteria import BY_KEY
from mnist_dvc.analysis.formats import p_value, seed_list
from mnist_dvc.analysis.mcnemar_seeds import SeedsMcNemar, mcnemar_by_seed
from mnist_dvc.analysis.vs_param import VsTable, varying_param, vs_table
from tui.ground.runs import DONE, WORKSPACE, Run, RunFiles, RunFilesError

# The criteria a chart or `--vs` draws against a param (issue 23.5), and those compared per run and
# between runs (23.1, 23.2): training time too, as its run measured it (comparison.json's `timing`):
# per seed, with an interval and a test, or one measurement, with neither.
CRITERIA = ("best_test_accuracy", "final_test_accuracy", "min_test_loss", "generalization_gap")
COMPARED = (*CRITERIA, br.TIME)
SHORT = {"best_test_accuracy": "best acc", "final_test_accuracy": "final acc", "min_test_loss": "min loss",
         "generalization_gap": "gap", br.TIME: "time s"}
SCOPE = br.INTERVAL_SCOPE


def run_values(files: RunFiles, run: Run) -> br.RunValues:
    """A run's per-seed figures from its comparison.json, each model's time kind as the file records
    it; RunFilesError names the run."""
    return br.from_comparison(run.name, files.comparison(run), None, COMPARED)


def comparable(run: Run) -> bool:
    """A run whose comparison.json is final: a finished commit or experiment (the workspace's is
    read from disk and may be one a training is about to replace)."""
    return run.state == DONE


# --- per run: the table's intervals ---------------------------------------------------------------


@dataclass(frozen=True)
class RunIntervals:
    """One row's intervals: model -> criterion -> Estimate, its seed group, or why there is none."""

    estimates: Mapping[str, Mapping[str, br.Estimate]]
    group: str = ""  # "S1 42-44 (pairable with 2 more)" or "S2 45-47"
    problem: str | None = None


def intervals(files: RunFiles, runs: Sequence[Run]) -> dict[str, RunIntervals]:
    """run key -> its intervals, for every run listed; runs made with the same seeds share a group."""
    found: dict[str, RunIntervals] = {}
    seeds: dict[str, tuple[int, ...]] = {}
    for run in runs:
        if not comparable(run):
            found[run.key] = RunIntervals({}, problem=f"{run.state}: no results yet")
            continue
        try:
            values = run_values(files, run)
        except (RunFilesError, ValueError) as exc:
            found[run.key] = RunIntervals({}, problem=str(exc))
            continue
        found[run.key] = RunIntervals(br.estimates(values, COMPARED))
        seeds[run.key] = tuple(sorted({s for model in values.values for s in values.seeds(model)}))
    # The workspace's files are its commit's or about to become a run's: counted in the groups, it
    # would be one more run to pair with, a duplicate. It shows the group of its seeds, uncounted.
    workspace = {run.key for run in runs if run.kind == WORKSPACE and run.key in seeds}
    labels = {}
    for group in br.seed_groups({key: s for key, s in seeds.items() if key not in workspace}):
        others = len(group.runs) - 1
        mark = f" (pairable with {others} more)" if others else ""
        labels[group.seeds] = f"{group.label} {seed_list(list(group.seeds))}"
        for key in group.runs:
            found[key] = RunIntervals(found[key].estimates, labels[group.seeds] + mark)
    for key in workspace:
        found[key] = RunIntervals(found[key].estimates, labels.get(seeds[key], seed_list(list(seeds[key]))))
    return found


def interval_columns(models: Sequence[str]) -> list[tuple[str, str, str]]:
    """(key, label, model:criterion) of the interval columns, model by model."""
    return [(f"ci:{model}:{c}", f"{model} {SHORT[c]} (95% CI)", f"{model}:{c}")
            for model in models for c in COMPARED]


def interval_cells(found: Mapping[str, RunIntervals], model: str, criterion: str) -> dict[str, str]:
    """run key -> the cell of one interval column; one number format for the whole column."""
    shown = {key: item.estimates[model][criterion] for key, item in found.items()
             if model in item.estimates}
    if not shown:
        return {}
    fmt = br.value_format(*shown.values())
    cells = {}
    for key, e in shown.items():
        if not e.mean:  # a time the seeds shared: one measurement, no n, no interval
            cells[key] = f"{fmt.value(e.value)} one measurement"
        elif e.low is None:
            cells[key] = f"{fmt.value(e.value)} n={e.n} no interval (<{br.MIN_SEEDS} seeds)"
        else:
            cells[key] = f"{fmt.pm(e.value, e.half)} n={e.n}"
    return cells


# --- between runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the between-runs table: a run against the baseline on one model and criterion."""

    model: str
    criterion: str
    run: str
    run_value: str
    baseline_value: str
    difference: str
    test: str
    p: str
    p_adjusted: str
    beats: str


@dataclass(frozen=True)
class SeedPair:
    """One seed of a McNemar pair: the two disagreement sets, as test-image indices."""

    first: Run  # the run compared (A)
    second: Run  # the baseline (B)
    model: str
    seed: int
    only_first: tuple[int, ...]
    only_second: tuple[int, ...]
    p_adjusted: float


@dataclass(frozen=True)
class Between:
    baseline: str
    rows: tuple[Row, ...]
    family: str  # Holm: how many tests, how many significant
    verdicts: tuple[str, ...]  # one per significant adjusted test, none otherwise
    mcnemar: tuple[str, ...]  # each pair's summary, every seed named
    seed_pairs: tuple[SeedPair, ...]
    vs: VsTable | None
    vs_note: str
    problems: tuple[str, ...]
    scope: str = SCOPE


def _rows(results: Sequence[br.Comparison]) -> list[Row]:
    rows = []
    for model in dict.fromkeys(c.model for c in results):
        for criterion in COMPARED:
            line = [c for c in results if c.model == model and c.criterion == criterion]
            if not line:
                continue
            values = br.value_format(*(e for c in line for e in (c.run_estimate, c.baseline_estimate)))
            diffs = br.difference_format(*line)
            for c in line:
                rows.append(Row(
                    model, BY_KEY[criterion].label.split(" (")[0], c.run,
                    br.estimate_text(c.run_estimate, values), br.estimate_text(c.baseline_estimate, values),
                    br.difference_text(c, diffs), c.test or "none",
                    p_value(c.p_value) if c.p_value is not None else "–",
                    (p_value(c.p_adjusted) + (" ★" if c.significant else "")) if c.p_adjusted is not None
                    else "–",
                    br.superiority_text(c.superiority) if c.superiority is not None else "–"))
    return rows


def _mcnemar(files: RunFiles, run: Run, baseline: Run, model: str,
             values: Mapping[str, br.RunValues]) -> SeedsMcNemar:
    seeds_a, seeds_b = values[run.key].seeds(model), values[baseline.key].seeds(model)
    common = sorted(set(seeds_a) & set(seeds_b))
    a = {seed: _labels(files, run, model, seed) for seed in common}
    b = {seed: _labels(files, baseline, model, seed) for seed in common}
    found = mcnemar_by_seed(run.name, baseline.name, model, a, b)
    # the seeds only one run has are named by the summary, not read
    only_a, only_b = sorted(set(seeds_a) - set(seeds_b)), sorted(set(seeds_b) - set(seeds_a))
    return SeedsMcNemar(found.first, found.second, model, found.tests, tuple(only_a), tuple(only_b))


def _labels(files: RunFiles, run: Run, model: str, seed: int) -> tuple:
    predictions = files.seed_predictions(run, model, seed)
    return predictions.actual, predictions.predicted


def build_between(files: RunFiles, chosen: Sequence[Run], baseline: Run, vs_criterion: str) -> Between:
    """Every chosen run against the baseline, per model and criterion; McNemar per common seed;
    the chosen criterion against the one numeric param the runs differ in, if there is one."""
    problems, values = [], {}
    for run in chosen:
        try:
            if not comparable(run):
                raise RunFilesError(f"{run.name}: {run.state}, no results to compare yet")
            values[run.key] = run_values(files, run)
        except (RunFilesError, ValueError) as exc:
            problems.append(str(exc))
    if baseline.key not in values:
        return Between(baseline.name, (), "No comparison: the baseline's results cannot be read.", (), (), (),
                       None, "", tuple(problems))
    runs = [run for run in chosen if run.key in values]
    results = br.compare_runs([values[run.key] for run in runs], baseline.name, criteria=COMPARED)
    mcnemar, pairs = [], []
    for run in runs:
        if run.key == baseline.key:
            continue
        for model in values[baseline.key].values:
            if model not in values[run.key].values:
                continue
            try:
                found = _mcnemar(files, run, baseline, model, values)
            except (RunFilesError, ValueError) as exc:
                mcnemar.append(f"McNemar ({model}) {run.name} vs {baseline.name}: {exc}")
                continue
            mcnemar.append(found.summary())
            pairs.extend(SeedPair(run, baseline, model, t.seed, t.only_first_right, t.only_second_right,
                                  t.p_adjusted) for t in found.tests)
    table, note = vs_of(runs, values, vs_criterion)
    return Between(baseline.name, tuple(_rows(results)), br.family_note(results),
                   tuple(c.verdict for c in results if c.verdict), tuple(mcnemar), tuple(pairs), table, note,
                   tuple(problems))


def vs_of(runs: Sequence[Run], values: Mapping[str, br.RunValues], criterion: str,
          param: str | None = None) -> tuple[VsTable | None, str]:
    """The criterion against `param` (or the one numeric param the runs differ in), or why not."""
    params = {run.name: dict(run.params) for run in runs}
    if param is None:
        found = varying_param(params)
        if found.param is None:
            return None, found.message
        param = found.param
    try:
        return vs_table([values[run.key] for run in runs], params, param, criterion), ""
    except ValueError as exc:
        return None, str(exc)


def vs_runs(files: RunFiles, runs: Sequence[Run]) -> tuple[list[Run], dict[str, br.RunValues], list[str]]:
    """For `--once --experiments --vs`: every finished commit and experiment with a comparison.json
    (the workspace is left out: its files are a commit's or not yet committed), and what was skipped."""
    kept, values, skipped = [], {}, []
    for run in runs:
        if run.kind == WORKSPACE or not comparable(run):
            continue
        try:
            values[run.key] = run_values(files, run)
        except (RunFilesError, ValueError) as exc:
            skipped.append(str(exc))
            continue
        kept.append(run)
    names = [run.name for run in kept]
    if len(set(names)) != len(names):  # a commit and an experiment of the same name: tell them apart
        kept = [replace(run, name=f"{run.name}@{run.short_rev}") for run in kept]
        values = {run.key: replace(values[run.key], name=run.name) for run in kept}
    return kept, values, skipped
