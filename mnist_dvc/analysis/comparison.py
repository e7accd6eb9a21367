"""The assignment's model comparison, computed from per-epoch logs and test predictions.

Pure functions (no Keras, no files) so every number and every sentence in
`reports/comparison.json` (a `records.Comparison`) can be checked on hand-made inputs.
A sentence states the numbers it rests on and claims nothing they do not show. Which
model is better on each criterion is decided here once (`decide`) and written down with
the reason (`winners`), so the verdicts, the dashboard and the figures show the same
answer and none decides again. With several seeds per model, a model is better only when
the test across seeds (mnist_dvc.analysis.across_seeds) finds the difference significant,
and the verdict says plainly when it does not; with one seed there is no spread, and an
accuracy edge is called significant only when McNemar's test on the test predictions says so.

Training time has a spread across seeds only where each seed was timed on its own
(contracts.MEASURED). Seeds trained stacked share one compiled epoch (STACK_SHARE), and older
logs give every seed the model's wall time (MODEL_TOTAL): there the model's time is one
measurement, so it gets no interval, no test and no winner, and its sentences say so. A
sentence writes every number of a criterion in one format whose digits fit the narrowest
interval it quotes (mnist_dvc.analysis.precision).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from itertools import combinations

import numpy as np
from scipy.stats import binomtest

from mnist_dvc.analysis.across_seeds import PAIRED, WELCH, difference, flipped, spread
from mnist_dvc.analysis.criteria import (
    BY_KEY,
    CRITERIA,
    SIGNIFICANCE,
    VERDICT_KEYS,
    Criterion,
    signed_difference,
)

# The dashboard (tui/report.py) imports this from here until it takes it from criteria, like CRITERIA.
from mnist_dvc.analysis.criteria import difference_fmt as difference_fmt
from mnist_dvc.analysis.formats import duration, p_value, pct, points, seed_list
from mnist_dvc.analysis.history import History
from mnist_dvc.analysis.precision import SECONDS, UNITS, row_format
from mnist_dvc.core.contracts import MEASURED, MODEL_TOTAL, STACK_SHARE, TIMINGS
from mnist_dvc.core.records.comparison import (
    Comparison,
    Decision,
    Difference,
    Headline,
    McNemar,
    ModelEntry,
    PairDifferences,
    RunSummary,
    Spread,
    Verdict,
)

# Best-epoch test accuracy above the final one by more than this means late over-fitting.
LATE_OVERFIT_POINTS = 0.2


def run_summary(history: History, params: int) -> RunSummary:
    """The assignment's per-model figures. The best test accuracy is a max over epochs, i.e.
    selected on the test set, as the assignment reports it: `final_test_accuracy` is the honest one."""
    if not len(history):
        raise ValueError("the training log has no complete epoch")
    test_acc = history.test_accuracy
    best_epoch_index = int(np.argmax(test_acc))
    best_train, best_test = max(history.train_accuracy), test_acc[best_epoch_index]
    best_epoch = history.epoch[best_epoch_index]
    drop = (best_test - test_acc[-1]) * 100
    note = (f"best test accuracy (epoch {best_epoch}) is {drop:.2f} points above the final one: "
            "over-fitting late in training") if drop > LATE_OVERFIT_POINTS else None
    return RunSummary(
        epochs=len(history),
        best_train_accuracy=best_train,
        best_test_accuracy=best_test,
        best_test_accuracy_selected_on="test set (max over epochs, as in the assignment)",
        best_test_epoch=best_epoch,
        final_train_accuracy=history.train_accuracy[-1],
        final_test_accuracy=test_acc[-1],
        min_train_loss=min(history.train_loss),
        min_test_loss=min(history.test_loss),
        final_test_loss=history.test_loss[-1],
        generalization_gap=best_train - best_test,
        train_time_s=history.train_time_s[-1],
        mean_epoch_s=float(np.mean(history.epoch_s)),
        params=params,
        note=note,
    )


def mcnemar(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict:
    """McNemar's exact test: do two classifiers' error rates on the same test set differ?

    b01 counts images model A gets wrong and model B right, b10 the reverse; under the null
    hypothesis each disagreement goes either way with probability 1/2, so the p-value is the
    two-sided binomial test of b01 successes in b01 + b10 trials.
    """
    correct_a, correct_b = pred_a == y_true, pred_b == y_true
    b01 = int(np.sum(~correct_a & correct_b))
    b10 = int(np.sum(correct_a & ~correct_b))
    p = 1.0 if b01 + b10 == 0 else float(binomtest(b01, b01 + b10, 0.5).pvalue)
    return {"b01": b01, "b10": b10, "p_value": min(p, 1.0)}


def mcnemar_winner(first: str, second: str, test: Mapping) -> str | None:
    """The model whose final predictions McNemar's test finds significantly better, or None."""
    if test["p_value"] >= SIGNIFICANCE:
        return None
    return second if test["b01"] > test["b10"] else first


def mcnemar_sentence(first: str, second: str, test: Mapping) -> str:
    """Whether the accuracy difference of two models is more than test-set noise."""
    counts = f"{test['b01']} images only {second} gets right, {test['b10']} only {first}"
    better = mcnemar_winner(first, second, test)
    if better is not None:
        return f"{better}'s edge is significant (McNemar exact p = {p_value(test['p_value'])}; {counts})."
    return (f"The difference is not significant at {SIGNIFICANCE} "
            f"(McNemar exact p = {p_value(test['p_value'])}; {counts}).")


def ranked(values: Mapping[str, float], criterion: Criterion) -> list[str]:
    """Model names, best first on the criterion's values (stable for ties: params order)."""
    return sorted(values, key=values.__getitem__, reverse=criterion.better == "higher")


@dataclass(frozen=True)
class Spelling:
    """How a sentence writes one criterion's numbers: a value, a signed difference of two values,
    and a signed interval of such a difference ("-0.79 to -0.07 pts")."""

    value: Callable[[float], str]
    difference: Callable[[float], str]
    interval: Callable[[float, float], str]


def plain_spelling(criterion: Criterion) -> Spelling:
    """The criterion's usual spelling (criteria.py), for numbers that have no interval."""
    signed = partial(signed_difference, criterion)
    return Spelling(criterion.fmt, signed, lambda low, high: f"{signed(low)} to {signed(high)}")


def row_spelling(criterion: Criterion, spreads: Sequence[Spread], diff: Difference | None) -> Spelling:
    """One format for every number a sentence quotes on `criterion`: the models' means (`spreads`)
    and the difference with its interval, with digits that fit the narrowest of their intervals
    (precision.row_format): 0.0e-05 vs 2.0e-05, never 0.0000 vs 2.04e-05."""
    if criterion.key not in UNITS:
        return plain_spelling(criterion)
    unit, difference_unit = UNITS[criterion.key]
    values = [spread.mean for spread in spreads] + ([diff.difference, *diff.ci] if diff else [])
    halves = [(s.ci[1] - s.ci[0]) / 2 if s.ci else None for s in spreads]
    if diff is not None:
        halves.append((diff.ci[1] - diff.ci[0]) / 2)
    fmt = row_format(unit, values, halves)
    differences = replace(fmt, unit=difference_unit)
    return Spelling(fmt.value, partial(differences.value, signed=True),
                    partial(differences.interval, signed=True))


def _tied(criterion: Criterion, values: Mapping[str, float], spell: Spelling | None = None) -> list[str]:
    """The models that share the best value as it is written (10.0 s and 10.0 s), or [] when the
    best one is ahead: a sentence cannot show a difference it does not print."""
    written = (spell or plain_spelling(criterion)).value
    order = ranked(values, criterion)
    shown = written(values[order[0]])
    if len(order) < 2 or written(values[order[1]]) != shown:
        return []
    return [model for model in values if written(values[model]) == shown]


def _pair_test(tests: list[McNemar], one: str, other: str) -> McNemar | None:
    return next((t for t in tests if set(t.models) == {one, other}), None)


def _only_right(test: McNemar, model: str) -> int:
    """How many test images only `model` of the McNemar pair gets right."""
    return test.b01 if model == test.models[1] else test.b10


def _counts(test: McNemar, one: str, two: str) -> str:
    return f"{_only_right(test, one)} images only {one} gets right, {_only_right(test, two)} only {two}"


def _final_models(test: McNemar, first: str, second: str) -> str:
    """McNemar's verdict on the final models, its counts told from the better one's side."""
    p = p_value(test.p_value)
    if test.winner is None:
        return (f"on the final models' test predictions the difference is not significant "
                f"(McNemar p = {p}; {_counts(test, first, second)})")
    better, worse = (first, second) if test.winner == first else (second, first)
    return f"{better}'s final model is significantly better (McNemar p = {p}; {_counts(test, better, worse)})"


def _accuracy_sentence(win: str, other: str, summaries: Mapping[str, Mapping], test: McNemar | None) -> str:
    """The best test accuracies, and McNemar's test of the final models, which may disagree."""
    a, b = summaries[win]["best_test_accuracy"], summaries[other]["best_test_accuracy"]
    higher = f"higher best testing accuracy ({pct(a)} vs {pct(b)} for {other})"
    if test is None:
        return f"{win} has the {higher}."
    if test.winner == win:
        return f"{win} performs better: {higher}, and {_final_models(test, win, other)}."
    return f"{win} has the {higher}, but {_final_models(test, win, other)}."


def _time_sentence(win: str, other: str, summaries: Mapping[str, Mapping], test: McNemar | None) -> str:
    """The cheaper model's time, and what it costs in accuracy (nothing, or how much and how sure)."""
    t = BY_KEY["train_time_s"].fmt
    head = (f"{win} is cheaper: less training time ({t(summaries[win]['train_time_s'])} vs "
            f"{t(summaries[other]['train_time_s'])} for {other})")
    a, b = summaries[win]["best_test_accuracy"], summaries[other]["best_test_accuracy"]
    if pct(a) == pct(b):
        return f"{head}, at the same best testing accuracy ({pct(a)})."
    if a > b:
        return f"{head}, and its best testing accuracy is higher too ({pct(a)} vs {pct(b)})."
    lower = f"its best testing accuracy is {points(b - a)} lower ({pct(a)} vs {pct(b)})"
    if test is None:
        return f"{head}, but {lower}."
    final = _final_models(test, win, other)
    if test.winner == win:
        return f"{head}; {lower}, yet {final}."
    if test.winner is not None:
        return f"{head}, but {lower}, and {final}."
    return f"{head}; {lower}, but {final}."


def _generic_sentence(verdict: str, win: str, other: str, summaries: Mapping[str, Mapping]) -> str:
    criterion = BY_KEY[VERDICT_KEYS[verdict]]
    numbers = f"{criterion.fmt(summaries[win][criterion.key])} vs " \
              f"{criterion.fmt(summaries[other][criterion.key])} for {other}"
    if verdict == "loss":
        return f"{win} is better on loss: lower minimum testing loss ({numbers})."
    return (f"{win} generalizes better: smaller gap between best training and best testing accuracy "
            f"({numbers}).")


def _name(criterion: Criterion) -> str:
    """The criterion in a sentence: "best test accuracy" (the table's label, no parenthesis)."""
    return criterion.label.split(" (")[0].lower()


def _column(summaries: Mapping[str, Mapping[str, float]], key: str) -> dict[str, float]:
    return {model: summaries[model][key] for model in summaries}


def decide(criterion: Criterion, values: Mapping[str, float],
           differences: list[PairDifferences] | None, spell: Spelling | None = None) -> Decision:
    """Which model is better on `criterion`, and why: the one decision the verdicts, comparison.json
    and the dashboard all show.

    `values`: each model's value (its mean over seeds); `differences`: the test across seeds of
    every pair, or None when a model has one seed; `spell`: how the numbers are written (the
    criterion's row format across seeds, `row_spelling`; else its usual spelling). The best value
    wins, unless it reads the same as the runner-up's (a tie) or, with seeds to test, its
    difference to the runner-up is not significant (p ≥ 0.05; a difference that is the same on
    every seed needs no test).
    """
    if criterion.better is None:
        return Decision(winner=None, why="no better side: this row informs")
    spell = spell or plain_spelling(criterion)
    order = ranked(values, criterion)
    win = order[0]
    if len(order) == 1:
        return Decision(winner=win, why="the only model")
    if tied := _tied(criterion, values, spell):
        return Decision(winner=None, why=f"{' and '.join(tied)} tie ({spell.value(values[win])})")
    other = order[1]
    side = criterion.better
    numbers = f"{spell.value(values[win])} vs {spell.value(values[other])} for {other}"
    if differences is None:
        return Decision(winner=win, why=f"{side} value ({numbers}); no test across seeds: "
                                        "that needs two seeds or more per model")
    diff = _pair_difference(differences, win, other, criterion.key)
    if not _significant(diff):
        return Decision(winner=None, why=f"{win}'s mean is {side} ({numbers}), but not significantly "
                                         f"({_evidence(spell, diff)})")
    return Decision(winner=win, why=f"{side} mean ({numbers}; {_evidence(spell, diff)})")


def verdicts(summaries: Mapping[str, Mapping[str, float]], tests: list[McNemar] | None = None,
             ) -> dict[str, Verdict]:
    """One winner and sentence per question of the assignment, the runner-up's value quoted.

    `summaries`: model -> criterion -> value. `tests`: McNemar results between pairs (`models`
    names the pair); where one is given, the accuracy and time sentences say what it finds
    about the final models, which can differ from the best-epoch accuracies. The winner is
    `decide`'s: values that read the same as the sentence writes them are a tie.
    """
    result = {}
    tests = tests or []
    for verdict, key in VERDICT_KEYS.items():
        criterion = BY_KEY[key]
        values = _column(summaries, key)
        win = decide(criterion, values, None).winner
        if len(values) == 1:
            result[verdict] = Verdict(winner=win, sentence=f"{win} is the only model: "
                                      f"{_name(criterion)} {criterion.fmt(values[win])}.")
            continue
        if win is None:
            tied = _tied(criterion, values)
            result[verdict] = Verdict(winner=None, sentence=f"{' and '.join(tied)} tie on {_name(criterion)} "
                                                            f"({criterion.fmt(values[tied[0]])}).")
            continue
        other = ranked(values, criterion)[1]
        test = _pair_test(tests, win, other)
        if verdict == "accuracy":
            sentence = _accuracy_sentence(win, other, summaries, test)
        elif verdict == "time":
            sentence = _time_sentence(win, other, summaries, test)
        else:
            sentence = _generic_sentence(verdict, win, other, summaries)
        result[verdict] = Verdict(winner=win, sentence=sentence)
    return result


# --- several seeds ------------------------------------------------------------------------------

TIME = "train_time_s"


def model_entry(runs: Mapping[int, RunSummary], timing: str) -> ModelEntry:
    """One model in comparison.json: its seeds, each seed's run summary, how its training time was
    measured (`timing`, one of contracts.TIMINGS), and each criterion's spread over the seeds
    (mean, sd, 95% CI). A time that is not measured seed by seed is one measurement: its spread
    has n = 1 and no sd or interval."""
    if timing not in TIMINGS:
        raise ValueError(f"timing {timing!r} is not one of {', '.join(TIMINGS)}")
    seeds = sorted(runs)
    first = runs[seeds[0]]
    stats = {c.key: spread([getattr(runs[seed], c.key) for seed in seeds]) for c in CRITERIA}
    if timing != MEASURED:
        times = {getattr(runs[seed], TIME) for seed in seeds}  # one value, the same on every seed
        value = times.pop() if len(times) == 1 else stats[TIME].mean
        stats[TIME] = Spread(n=1, mean=value, sd=None, ci=None)
    return ModelEntry(seeds=seeds, params=first.params, epochs=first.epochs,
                      runs={seed: runs[seed] for seed in seeds}, stats=stats, timing=timing)


def pair_differences(models: tuple[str, str], first: Mapping[int, RunSummary],
                     second: Mapping[int, RunSummary], timed: bool = True) -> PairDifferences | None:
    """first − second on every criterion that has a better side (training time only when `timed`:
    both models' seeds measured one by one), or None when a model has one seed."""
    criteria = {}
    for c in CRITERIA:
        if c.better is None or (c.key == TIME and not timed):
            continue
        diff = difference({seed: getattr(run, c.key) for seed, run in first.items()},
                          {seed: getattr(run, c.key) for seed, run in second.items()})
        if diff is None:
            return None
        criteria[c.key] = diff
    paired = sorted(first) == sorted(second)
    return PairDifferences(models=models, test=PAIRED if paired else WELCH, criteria=criteria)


def _pair_difference(differences: list[PairDifferences], one: str, other: str, key: str) -> Difference | None:
    """The difference one − other on `key`, whichever way round the pair was stored."""
    for entry in differences:
        if entry.models == (one, other):
            return entry.criteria[key]
        if entry.models == (other, one):
            return flipped(entry.criteria[key])
    return None


def _significant(diff: Difference) -> bool:
    """Whether a difference is more than seed-to-seed noise (one that never varies is exact)."""
    if diff.p_value is None:
        return diff.difference != 0
    return diff.p_value < SIGNIFICANCE


def _over(diff: Difference) -> str:
    n_one, n_other = diff.n
    return f"over the same {n_one} seeds" if diff.test == PAIRED else f"over {n_one} and {n_other} seeds"


Stats = Mapping[str, Mapping[str, Spread]]  # model -> criterion -> spread over its seeds


def _spelling(criterion: Criterion, stats: Stats, differences: list[PairDifferences]) -> Spelling:
    """The row format of a criterion across seeds: every model's mean and interval, and the
    difference between the two best models with its interval."""
    means = {model: stats[model][criterion.key].mean for model in stats}
    win, other = ranked(means, criterion)[:2]
    tested = criterion.better is not None and all(criterion.key in pair.criteria for pair in differences)
    diff = _pair_difference(differences, win, other, criterion.key) if tested else None
    return row_spelling(criterion, [stats[model][criterion.key] for model in stats], diff)


def _means(spell: Spelling, key: str, one: str, other: str, stats: Stats, diff: Difference) -> str:
    a, b = stats[one][key].mean, stats[other][key].mean
    return f"mean {spell.value(a)} vs {spell.value(b)} for {other} {_over(diff)}"


def _evidence(spell: Spelling, diff: Difference) -> str:
    """The difference, its 95% interval and the test's p, as a sentence quotes them."""
    d = spell.difference(diff.difference)
    if diff.p_value is None:
        return f"the same difference, {d}, on every seed"
    return f"difference {d}, 95% CI {spell.interval(*diff.ci)}; {diff.test} p = {p_value(diff.p_value)}"


# verdict -> (sentence when significant, sentence when not); {win} has the better mean.
_SEED_SENTENCES = {
    "accuracy": ("{win} performs better: higher best testing accuracy ({means}; {evidence}).",
                 "Neither model is better on best testing accuracy: {win}'s mean is higher ({means}), "
                 "but the difference is not significant ({evidence})."),
    "loss": ("{win} is better on loss: lower minimum testing loss ({means}; {evidence}).",
             "Neither model is better on loss: {win}'s mean minimum testing loss is lower ({means}), "
             "but the difference is not significant ({evidence})."),
    "gap": ("{win} generalizes better: smaller gap between best training and best testing accuracy "
            "({means}; {evidence}).",
            "Neither model generalizes better: {win}'s mean gap between best training and best testing "
            "accuracy is smaller ({means}), but the difference is not significant ({evidence})."),
    "time": ("{win} is cheaper: less training time ({means}; {evidence}){accuracy}.",
             "Neither model is cheaper: {win}'s mean training time is lower ({means}), "
             "but the difference is not significant ({evidence})."),
}


def _accuracy_cost(win: str, other: str, stats: Stats, differences: list[PairDifferences]) -> str:
    """What the cheaper model's best testing accuracy is, against the other's, across seeds."""
    criterion = BY_KEY["best_test_accuracy"]
    spell = _spelling(criterion, stats, differences)
    diff = _pair_difference(differences, win, other, criterion.key)
    a, b = stats[win][criterion.key].mean, stats[other][criterion.key].mean
    if spell.value(a) == spell.value(b):
        return f", at the same mean best testing accuracy ({spell.value(a)})"
    numbers = f"mean {spell.value(a)} vs {spell.value(b)}; {_evidence(spell, diff)}"
    if not _significant(diff):
        return f", and its best testing accuracy is not significantly different ({numbers})"
    if diff.difference < 0:
        return f"; but its best testing accuracy is significantly lower ({numbers})"
    return f", and its best testing accuracy is significantly higher too ({numbers})"


def seed_verdicts(stats: Stats, differences: list[PairDifferences]) -> dict[str, Verdict]:
    """One verdict per question from the means over seeds and the test across seeds.

    `stats`: model -> criterion -> spread; `differences`: the pairs' entries of comparison.json.
    The winner is `decide`'s: a model wins only when its edge is significant; a not significant
    edge names no winner and says so, and means that print the same are a tie. Training time is
    left out unless every pair has its test (its seeds timed one by one: `time_verdict` otherwise).
    """
    result = {}
    for verdict, key in VERDICT_KEYS.items():
        if not all(key in pair.criteria for pair in differences):
            continue
        criterion = BY_KEY[key]
        spell = _spelling(criterion, stats, differences)
        means = {model: stats[model][key].mean for model in stats}
        win, other = ranked(means, criterion)[:2]
        diff = _pair_difference(differences, win, other, key)
        if tied := _tied(criterion, means, spell):
            shown = f"mean {spell.value(means[win])} {_over(diff)}"
            result[verdict] = Verdict(winner=None,
                                      sentence=f"{' and '.join(tied)} tie on {_name(criterion)} ({shown}).")
            continue
        winner = decide(criterion, means, differences, spell).winner
        template = _SEED_SENTENCES[verdict][1 if winner is None else 0]
        accuracy = _accuracy_cost(win, other, stats, differences) if verdict == "time" and winner else ""
        sentence = template.format(win=win, means=_means(spell, key, win, other, stats, diff),
                                   evidence=_evidence(spell, diff), accuracy=accuracy)
        result[verdict] = Verdict(winner=winner, sentence=sentence)
    return result


# --- training time that is one measurement per model ----------------------------------------------


def _time_of(model: str, entry: ModelEntry, spell: Spelling) -> str:
    """What a model's training time is, in words that say how it was measured."""
    n, value, seconds = len(entry.seeds), entry.stats[TIME].mean, spell.value
    if entry.timing == STACK_SHARE:
        return (f"{model} trains its {n} seeds stacked in {seconds(n * value)}, {seconds(value)} per seed as "
                "the stack's time shared")
    if entry.timing in (MODEL_TOTAL, None):
        return (f"{model} trains its {n} seeds in {seconds(value)} all together, its log giving no time "
                "per seed")
    return (f"{model} trains a seed in {seconds(value)} on average over {n} seeds timed one by one "
            f"(95% CI {spell.interval(*entry.stats[TIME].ci)})")


def time_once(models: Mapping[str, ModelEntry]) -> bool:
    """Whether training time is one measurement for a model of the comparison: no test on time then."""
    return any(entry.timing != MEASURED for entry in models.values())


def _time_words(models: Mapping[str, ModelEntry]) -> tuple[str, str]:
    """(each model's time, why there is no test), every number in one format: durations when no
    model has an interval, else seconds with the digits of the narrowest one."""
    time = [entry.stats[TIME] for entry in models.values()]
    if all(spread.ci is None for spread in time):
        spell = Spelling(duration, duration, lambda low, high: f"{duration(low)} to {duration(high)}")
    else:
        values = [v for entry, spread in zip(models.values(), time, strict=True)
                  for v in (spread.mean, len(entry.seeds) * spread.mean, *(spread.ci or ()))]
        fmt = row_format(SECONDS, values, [(s.ci[1] - s.ci[0]) / 2 if s.ci else None for s in time])
        spell = Spelling(fmt.value, fmt.value, fmt.interval)
    once = [model for model, entry in models.items() if entry.timing != MEASURED]
    reason = "per model" if len(once) == len(models) else f"for {' and '.join(once)}"
    return "; ".join(_time_of(model, entry, spell) for model, entry in models.items()), reason


def time_decision(models: Mapping[str, ModelEntry]) -> Decision:
    """The training-time row when a model's time is one measurement: no test, so no winner."""
    times, reason = _time_words(models)
    return Decision(winner=None, why=f"no test: training time is one measurement {reason}; {times}")


def time_verdict(models: Mapping[str, ModelEntry]) -> Verdict:
    """The time question when a model's time is one measurement: the times as measured, and no winner."""
    times, reason = _time_words(models)
    return Verdict(winner=None, sentence=f"Training time is one measurement {reason}, so there is no test "
                                         f"and no cheaper model is named: {times}.")


def seeds_note(models: Mapping[str, ModelEntry], differences: list[PairDifferences]) -> str:
    """What the seeds allow the comparison to say, in one sentence."""
    seeds = {name: entry.seeds for name, entry in models.items()}
    if all(len(s) == 1 for s in seeds.values()):
        return ("One seed per model: there is no spread across seeds to measure, so no confidence intervals "
                "and no test across seeds; the accuracy and time verdicts rest on McNemar's test of the "
                "final models' test predictions.")
    if not differences:
        counts = ", ".join(f"{name} {len(s)}" for name, s in seeds.items())
        return (f"Seeds per model: {counts}. A test across seeds needs two seeds or more per model, so the "
                "verdicts compare the means, and the accuracy and time verdicts rest on McNemar's test.")
    time = ""
    if time_once(models):
        time = (" Training time is the exception where a model's seeds were not timed one by one (trained "
                "stacked, or an older log): there it is one measurement, with no interval and no test.")
    first = next(iter(seeds.values()))
    if all(s == first for s in seeds.values()):
        return (f"{len(first)} seeds per model, the same for every model ({seed_list(first)}): each "
                "criterion is the mean over the seeds with its 95% confidence interval (Student's t), and a "
                "paired t-test compares the models seed by seed; p < 0.05 means a difference this large "
                "would rarely come from seed-to-seed noise alone, and only then does a verdict call a model "
                f"better.{time}")
    counts = ", ".join(f"{name} {seed_list(s)}" for name, s in seeds.items())
    return (f"The models ran different seeds ({counts}): each criterion is the mean over the seeds with "
            "its 95% confidence interval (Student's t), and Welch's t-test compares the means without "
            "pairing seeds; p < 0.05 means a difference this large would rarely come from seed-to-seed "
            f"noise alone, and only then does a verdict call a model better.{time}")


def mcnemar_summary(first: str, second: str, tests: list[McNemar]) -> str:
    """McNemar's results over the seeds of one pair, counted."""
    wins = {first: 0, second: 0}
    for test in tests:
        if test.winner is not None:
            wins[test.winner] += 1
    neither = len(tests) - sum(wins.values())
    return (f"McNemar's test of the final models, seed by seed ({first} vs {second}): {second} significantly "
            f"better on {wins[second]} of {len(tests)} seeds, {first} on {wins[first]}, no significant "
            f"difference on {neither}.")


def compare(runs: Mapping[str, Mapping[int, RunSummary]], y_test: np.ndarray,
            predictions: Mapping[str, Mapping[int, np.ndarray]], timings: Mapping[str, str]) -> Comparison:
    """`reports/comparison.json` from each model's run summaries and test predictions by seed, and
    how each model's training time was measured (`timings`: model -> one of contracts.TIMINGS,
    `contracts.time_kind` of its seeds' labels; no default, so that no time is taken for measured
    seed by seed by mistake).

    Per model: the seeds, the run summaries, the timing and the spread of each criterion; per
    pair of models: the difference on each criterion with its interval and test across seeds
    (`differences`, empty while a model has one seed; training time only when both were timed
    seed by seed) and McNemar's test on every seed both ran (`mcnemar`, with the model it finds
    better); per criterion the better model (`winners`); the verdicts; and `seeds_note`, what the
    seeds allow to say.
    """
    models = {name: model_entry(by_seed, timings[name]) for name, by_seed in runs.items()}
    timed = not time_once(models)
    differences, tests, summaries = [], [], []
    for first, second in combinations(runs, 2):
        pair = pair_differences((first, second), runs[first], runs[second], timed)
        if pair is not None:
            differences.append(pair)
        pair_tests = []
        for seed in sorted(set(runs[first]) & set(runs[second])):
            test = mcnemar(y_test, predictions[first][seed], predictions[second][seed])
            pair_tests.append(McNemar(models=(first, second), seed=seed, **test,
                                      sentence=mcnemar_sentence(first, second, test),
                                      winner=mcnemar_winner(first, second, test)))
        tests += pair_tests
        if len(pair_tests) > 1:
            summaries.append(mcnemar_summary(first, second, pair_tests))
    stats = {name: entry.stats for name, entry in models.items()}
    tested = len(models) > 1 and len(differences) == len(list(combinations(runs, 2)))
    means = {name: {key: spread.mean for key, spread in by_key.items()} for name, by_key in stats.items()}
    if tested:
        winners = {c.key: decide(c, _column(means, c.key), differences, _spelling(c, stats, differences))
                   for c in CRITERIA if c.key != TIME or timed}
        found = seed_verdicts(stats, differences)
    else:
        winners = {c.key: decide(c, _column(means, c.key), None) for c in CRITERIA}
        found = verdicts(means, tests)
    if tested and not timed:
        winners[TIME] = time_decision(models)
        found["time"] = time_verdict(models)
    return Comparison(
        models=models,
        differences=differences,
        mcnemar=tests,
        mcnemar_summary=summaries,
        winners={c.key: winners[c.key] for c in CRITERIA},
        verdicts=found,
        seeds_note=seeds_note(models, differences),
    )


def headline(comparison: Comparison) -> dict[str, Headline]:
    """`metrics/summary.json` (`records.Summary`): per model, the few numbers a user compares across
    runs, each the mean over seeds of a criterion of the comparison."""
    return {name: _headline(entry) for name, entry in comparison.models.items()}


def _headline(entry: ModelEntry) -> Headline:
    stats = entry.stats
    return Headline(acc=stats["final_test_accuracy"].mean, best_acc=stats["best_test_accuracy"].mean,
                    loss=stats["min_test_loss"].mean, gap=stats["generalization_gap"].mean,
                    time_s=stats["train_time_s"].mean, params=entry.params)
