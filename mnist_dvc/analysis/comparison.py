"""The assignment's model comparison, computed from per-epoch logs and test predictions.

Pure functions (no Keras, no files) so every number and every sentence in
`reports/comparison.json` can be checked on hand-made inputs. A sentence states
the numbers it rests on and claims nothing they do not show. With several seeds per
model, a verdict calls a model better only when the test across seeds
(mnist_dvc.analysis.across_seeds) finds the difference significant, and says plainly
when it does not; with one seed there is no spread, and an accuracy edge is called
significant only when McNemar's test on the test predictions says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import binomtest

from mnist_dvc.analysis.across_seeds import PAIRED, WELCH, difference, flipped, spread
from mnist_dvc.analysis.formats import count, duration, loss, p_value, pct, points, seed_list
from mnist_dvc.analysis.history import History
from mnist_dvc.core.contracts import HEADLINE

# Best-epoch test accuracy above the final one by more than this means late over-fitting.
LATE_OVERFIT_POINTS = 0.2
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Criterion:
    """One row of the comparison: a key of `run_summary`, how to read it, which way is better."""

    key: str
    label: str
    better: str | None  # "higher", "lower", or None for a row that only informs
    fmt: Callable[[float | None], str]


CRITERIA = (
    Criterion("best_test_accuracy", "Best test accuracy (epoch picked on test set)", "higher", pct),
    Criterion("best_test_epoch", "Epoch of best test accuracy", None, count),
    Criterion("final_test_accuracy", "Final test accuracy", "higher", pct),
    Criterion("best_train_accuracy", "Best train accuracy", "higher", pct),
    Criterion("min_train_loss", "Min train loss", "lower", loss),
    Criterion("min_test_loss", "Min test loss", "lower", loss),
    Criterion("generalization_gap", "Generalization gap (train − test)", "lower", points),
    Criterion("train_time_s", "Training time", "lower", duration),
    Criterion("params", "Parameters", "lower", count),
)
BY_KEY = {criterion.key: criterion for criterion in CRITERIA}
# The assignment's four questions: verdict name -> the criterion that answers it.
VERDICT_KEYS = {"accuracy": "best_test_accuracy", "loss": "min_test_loss",
                "gap": "generalization_gap", "time": "train_time_s"}


def run_summary(history: History, params: int) -> dict:
    """The assignment's per-model figures. The best test accuracy is a max over epochs, i.e.
    selected on the test set, as the assignment reports it: `final_test_accuracy` is the honest one."""
    if not len(history):
        raise ValueError("the training log has no complete epoch")
    test_acc = history.test_accuracy
    best_epoch_index = int(np.argmax(test_acc))
    best_train, best_test = max(history.train_accuracy), test_acc[best_epoch_index]
    summary = {
        "epochs": len(history),
        "best_train_accuracy": best_train,
        "best_test_accuracy": best_test,
        "best_test_accuracy_selected_on": "test set (max over epochs, as in the assignment)",
        "best_test_epoch": history.epoch[best_epoch_index],
        "final_train_accuracy": history.train_accuracy[-1],
        "final_test_accuracy": test_acc[-1],
        "min_train_loss": min(history.train_loss),
        "min_test_loss": min(history.test_loss),
        "final_test_loss": history.test_loss[-1],
        "generalization_gap": best_train - best_test,
        "train_time_s": history.train_time_s[-1],
        "mean_epoch_s": float(np.mean(history.epoch_s)),
        "params": params,
    }
    drop = (best_test - test_acc[-1]) * 100
    if drop > LATE_OVERFIT_POINTS:
        summary["note"] = (f"best test accuracy (epoch {summary['best_test_epoch']}) is {drop:.2f} points "
                           "above the final one: over-fitting late in training")
    return summary


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


def mcnemar_sentence(first: str, second: str, test: Mapping) -> str:
    """Whether the accuracy difference of two models is more than test-set noise."""
    counts = f"{test['b01']} images only {second} gets right, {test['b10']} only {first}"
    if test["p_value"] < SIGNIFICANCE:
        better = second if test["b01"] > test["b10"] else first
        return f"{better}'s edge is significant (McNemar exact p = {p_value(test['p_value'])}; {counts})."
    return (f"The difference is not significant at {SIGNIFICANCE} "
            f"(McNemar exact p = {p_value(test['p_value'])}; {counts}).")


def ranked(summaries: Mapping[str, Mapping], key: str) -> list[str]:
    """Model names, best first on `key` (stable for ties: params order)."""
    higher = BY_KEY[key].better == "higher"
    return sorted(summaries, key=lambda m: summaries[m][key], reverse=higher)


def _pair_test(tests: list[dict], one: str, other: str) -> dict | None:
    return next((t for t in tests if set(t["models"]) == {one, other}), None)


def _only_right(test: dict, model: str) -> int:
    """How many test images only `model` of the McNemar pair gets right."""
    return test["b01"] if model == test["models"][1] else test["b10"]


def _counts(test: dict, one: str, two: str) -> str:
    return f"{_only_right(test, one)} images only {one} gets right, {_only_right(test, two)} only {two}"


def _final_better(test: dict, model: str, other: str) -> bool:
    """Whether McNemar's test finds `model`'s final predictions significantly better than `other`'s."""
    return test["p_value"] < SIGNIFICANCE and _only_right(test, model) > _only_right(test, other)


def _final_models(test: dict, first: str, second: str) -> str:
    """McNemar's verdict on the final models, its counts told from the better one's side."""
    p = p_value(test["p_value"])
    if test["p_value"] >= SIGNIFICANCE:
        return (f"on the final models' test predictions the difference is not significant "
                f"(McNemar p = {p}; {_counts(test, first, second)})")
    better, worse = (first, second) if _final_better(test, first, second) else (second, first)
    return f"{better}'s final model is significantly better (McNemar p = {p}; {_counts(test, better, worse)})"


def _accuracy_sentence(win: str, other: str, summaries: Mapping[str, Mapping], test: dict | None) -> str:
    """The best test accuracies, and McNemar's test of the final models, which may disagree."""
    a, b = summaries[win]["best_test_accuracy"], summaries[other]["best_test_accuracy"]
    higher = f"higher best testing accuracy ({pct(a)} vs {pct(b)} for {other})"
    if test is None:
        return f"{win} has the {higher}."
    if _final_better(test, win, other):
        return f"{win} performs better: {higher}, and {_final_models(test, win, other)}."
    return f"{win} has the {higher}, but {_final_models(test, win, other)}."


def _time_sentence(win: str, other: str, summaries: Mapping[str, Mapping], test: dict | None) -> str:
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
    if _final_better(test, win, other):
        return f"{head}; {lower}, yet {final}."
    if test["p_value"] < SIGNIFICANCE:
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


def verdicts(summaries: Mapping[str, Mapping], tests: list[dict] | None = None) -> dict[str, dict]:
    """One winner and sentence per question of the assignment, the runner-up's value quoted.

    `tests`: McNemar results between pairs (`models` names the pair); where one is given,
    the accuracy and time sentences say what it finds about the final models, which can
    differ from the best-epoch accuracies. Values that read the same as the sentence
    writes them (10.0 s and 10.0 s) are a tie, since a sentence cannot show a
    difference it does not print: a tie names no winner.
    """
    result = {}
    tests = tests or []
    for verdict, key in VERDICT_KEYS.items():
        criterion = BY_KEY[key]
        order = ranked(summaries, key)
        win = order[0]
        if len(order) == 1:
            result[verdict] = {"winner": win, "sentence": f"{win} is the only model: "
                               f"{_name(criterion)} {criterion.fmt(summaries[win][key])}."}
            continue
        other = order[1]
        shown = criterion.fmt(summaries[win][key])
        if criterion.fmt(summaries[other][key]) == shown:
            tied = [m for m in summaries if criterion.fmt(summaries[m][key]) == shown]
            result[verdict] = {"winner": None,
                               "sentence": f"{' and '.join(tied)} tie on {_name(criterion)} ({shown})."}
            continue
        test = _pair_test(tests, win, other)
        if verdict == "accuracy":
            sentence = _accuracy_sentence(win, other, summaries, test)
        elif verdict == "time":
            sentence = _time_sentence(win, other, summaries, test)
        else:
            sentence = _generic_sentence(verdict, win, other, summaries)
        result[verdict] = {"winner": win, "sentence": sentence}
    return result


# --- several seeds ------------------------------------------------------------------------------


def model_entry(runs: Mapping[int, Mapping]) -> dict:
    """One model in comparison.json: its seeds, each seed's run summary, and each criterion's
    spread over the seeds (mean, sd, 95% CI)."""
    seeds = sorted(runs)
    first = runs[seeds[0]]
    return {
        "seeds": seeds,
        "params": first["params"],
        "epochs": first["epochs"],
        "runs": {str(seed): dict(runs[seed]) for seed in seeds},
        "stats": {c.key: spread([runs[seed][c.key] for seed in seeds]) for c in CRITERIA},
    }


def pair_differences(first: Mapping[int, Mapping], second: Mapping[int, Mapping]) -> dict | None:
    """first − second on every criterion that has a better side, or None when a model has one seed."""
    criteria = {}
    for c in CRITERIA:
        if c.better is None:
            continue
        diff = difference({seed: run[c.key] for seed, run in first.items()},
                          {seed: run[c.key] for seed, run in second.items()})
        if diff is None:
            return None
        criteria[c.key] = diff
    paired = sorted(first) == sorted(second)
    return {"test": PAIRED if paired else WELCH, "criteria": criteria}


def _pair_difference(differences: list[dict], one: str, other: str, key: str) -> dict | None:
    """The difference one − other on `key`, whichever way round the pair was stored."""
    for entry in differences:
        if entry["models"] == [one, other]:
            return entry["criteria"][key]
        if entry["models"] == [other, one]:
            return flipped(entry["criteria"][key])
    return None


def difference_fmt(criterion: Criterion) -> Callable[[float | None], str]:
    """How a difference of the criterion is written: percentage points for two accuracies."""
    return points if criterion.fmt is pct else criterion.fmt


def signed_difference(criterion: Criterion, value: float) -> str:
    """A difference of the criterion with its sign: +0.53 pts (of two accuracies), -1 min 20 s."""
    fmt = difference_fmt(criterion)
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return sign + fmt(abs(value))


def _significant(diff: dict) -> bool:
    """Whether a difference is more than seed-to-seed noise (one that never varies is exact)."""
    if diff["p_value"] is None:
        return diff["difference"] != 0
    return diff["p_value"] < SIGNIFICANCE


def _over(diff: dict) -> str:
    n_one, n_other = diff["n"]
    return f"over the same {n_one} seeds" if diff["test"] == PAIRED else f"over {n_one} and {n_other} seeds"


def _means(criterion: Criterion, one: str, other: str, stats: Mapping[str, Mapping], diff: dict) -> str:
    a, b = stats[one][criterion.key]["mean"], stats[other][criterion.key]["mean"]
    return f"mean {criterion.fmt(a)} vs {criterion.fmt(b)} for {other} {_over(diff)}"


def _evidence(criterion: Criterion, diff: dict) -> str:
    """The difference, its 95% interval and the test's p, as a sentence quotes them."""
    d = signed_difference(criterion, diff["difference"])
    if diff["p_value"] is None:
        return f"the same difference, {d}, on every seed"
    low, high = (signed_difference(criterion, v) for v in diff["ci"])
    return f"difference {d}, 95% CI {low} to {high}; {diff['test']} p = {p_value(diff['p_value'])}"


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


def _accuracy_cost(win: str, other: str, stats: Mapping[str, Mapping], differences: list[dict]) -> str:
    """What the cheaper model's best testing accuracy is, against the other's, across seeds."""
    criterion = BY_KEY["best_test_accuracy"]
    diff = _pair_difference(differences, win, other, criterion.key)
    a, b = stats[win][criterion.key]["mean"], stats[other][criterion.key]["mean"]
    if pct(a) == pct(b):
        return f", at the same mean best testing accuracy ({pct(a)})"
    numbers = f"mean {pct(a)} vs {pct(b)}; {_evidence(criterion, diff)}"
    if not _significant(diff):
        return f", and its best testing accuracy is not significantly different ({numbers})"
    if diff["difference"] < 0:
        return f"; but its best testing accuracy is significantly lower ({numbers})"
    return f", and its best testing accuracy is significantly higher too ({numbers})"


def seed_verdicts(stats: Mapping[str, Mapping], differences: list[dict]) -> dict[str, dict]:
    """One verdict per question from the means over seeds and the test across seeds.

    `stats`: model -> criterion -> spread; `differences`: the pairs' entries of comparison.json.
    A model is the `winner` only when its edge is significant; a not significant edge names
    no winner and says so, and means that print the same are a tie.
    """
    result = {}
    for verdict, key in VERDICT_KEYS.items():
        criterion = BY_KEY[key]
        order = sorted(stats, key=lambda m: stats[m][key]["mean"], reverse=criterion.better == "higher")
        win, other = order[0], order[1]
        diff = _pair_difference(differences, win, other, key)
        shown = criterion.fmt(stats[win][key]["mean"])
        if criterion.fmt(stats[other][key]["mean"]) == shown:
            tied = [m for m in stats if criterion.fmt(stats[m][key]["mean"]) == shown]
            result[verdict] = {"winner": None, "sentence": f"{' and '.join(tied)} tie on {_name(criterion)} "
                                                           f"(mean {shown} {_over(diff)})."}
            continue
        significant = _significant(diff)
        template = _SEED_SENTENCES[verdict][0 if significant else 1]
        accuracy = _accuracy_cost(win, other, stats, differences) if verdict == "time" and significant else ""
        sentence = template.format(win=win, means=_means(criterion, win, other, stats, diff),
                                   evidence=_evidence(criterion, diff), accuracy=accuracy)
        result[verdict] = {"winner": win if significant else None, "sentence": sentence}
    return result


def seeds_note(models: Mapping[str, Mapping], differences: list[dict]) -> str:
    """What the seeds allow the comparison to say, in one sentence."""
    seeds = {name: entry["seeds"] for name, entry in models.items()}
    if all(len(s) == 1 for s in seeds.values()):
        return ("One seed per model: there is no spread across seeds to measure, so no confidence intervals "
                "and no test across seeds; the accuracy and time verdicts rest on McNemar's test of the "
                "final models' test predictions.")
    if not differences:
        counts = ", ".join(f"{name} {len(s)}" for name, s in seeds.items())
        return (f"Seeds per model: {counts}. A test across seeds needs two seeds or more per model, so the "
                "verdicts compare the means, and the accuracy and time verdicts rest on McNemar's test.")
    first = next(iter(seeds.values()))
    if all(s == first for s in seeds.values()):
        return (f"{len(first)} seeds per model, the same for every model ({seed_list(first)}): each "
                "criterion is the mean over the seeds with its 95% confidence interval (Student's t), and a "
                "paired t-test compares the models seed by seed; p < 0.05 means a difference this large "
                "would rarely come from seed-to-seed noise alone, and only then does a verdict call a model "
                "better.")
    counts = ", ".join(f"{name} {seed_list(s)}" for name, s in seeds.items())
    return (f"The models ran different seeds ({counts}): each criterion is the mean over the seeds with "
            "its 95% confidence interval (Student's t), and Welch's t-test compares the means without "
            "pairing seeds; p < 0.05 means a difference this large would rarely come from seed-to-seed "
            "noise alone, and only then does a verdict call a model better.")


def mcnemar_summary(first: str, second: str, tests: list[dict]) -> str:
    """McNemar's results over the seeds of one pair, counted."""
    wins = {first: 0, second: 0}
    for test in tests:
        if test["p_value"] < SIGNIFICANCE:
            wins[second if test["b01"] > test["b10"] else first] += 1
    neither = len(tests) - sum(wins.values())
    return (f"McNemar's test of the final models, seed by seed ({first} vs {second}): {second} significantly "
            f"better on {wins[second]} of {len(tests)} seeds, {first} on {wins[first]}, no significant "
            f"difference on {neither}.")


def compare(runs: Mapping[str, Mapping[int, Mapping]], y_test: np.ndarray,
            predictions: Mapping[str, Mapping[int, np.ndarray]]) -> dict:
    """`reports/comparison.json` from each model's run summaries and test predictions by seed.

    Per model: the seeds, the run summaries and the spread of each criterion; per pair of
    models: the difference on each criterion with its interval and test across seeds
    (`differences`, absent when a model has one seed) and McNemar's test on every seed
    both ran (`mcnemar`); the verdicts; and `seeds_note`, what the seeds allow to say.
    """
    models = {name: model_entry(by_seed) for name, by_seed in runs.items()}
    differences, tests, summaries = [], [], []
    for first, second in combinations(runs, 2):
        pair = pair_differences(runs[first], runs[second])
        if pair is not None:
            differences.append({"models": [first, second], **pair})
        pair_tests = []
        for seed in sorted(set(runs[first]) & set(runs[second])):
            test = mcnemar(y_test, predictions[first][seed], predictions[second][seed])
            pair_tests.append({"models": [first, second], "seed": seed, **test,
                               "sentence": mcnemar_sentence(first, second, test)})
        tests += pair_tests
        if len(pair_tests) > 1:
            summaries.append(mcnemar_summary(first, second, pair_tests))
    stats = {name: entry["stats"] for name, entry in models.items()}
    if len(models) > 1 and len(differences) == len(list(combinations(runs, 2))):
        verdict = seed_verdicts(stats, differences)
    else:
        means = {name: {key: value["mean"] for key, value in s.items()} for name, s in stats.items()}
        verdict = verdicts(means, tests)
    return {"models": models, "differences": differences, "mcnemar": tests, "mcnemar_summary": summaries,
            "verdicts": verdict, "seeds_note": seeds_note(models, differences)}


def headline(comparison: Mapping) -> dict[str, dict[str, float]]:
    """`metrics/summary.json`: per model, the few numbers a user compares across runs (means over seeds)."""
    return {
        name: {key: entry["params"] if criterion == "params" else entry["stats"][criterion]["mean"]
               for key, criterion in HEADLINE.items()}
        for name, entry in comparison["models"].items()
    }
