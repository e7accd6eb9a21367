"""The assignment's model comparison, computed from per-epoch logs and test predictions.

Pure functions (no Keras, no files) so every number and every sentence in
`metrics/comparison.json` can be checked on hand-made inputs. A sentence states
the numbers it rests on and claims nothing they do not show: an accuracy edge
is called significant only when McNemar's test on the test predictions says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import binomtest

from mnist_dvc.analysis.formats import count, duration, loss, p_value, pct, points
from mnist_dvc.analysis.history import History

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


def compare(summaries: Mapping[str, dict], y_test: np.ndarray, predictions: Mapping[str, np.ndarray]) -> dict:
    """`metrics/comparison.json`: the summaries, McNemar for every pair, and the verdicts."""
    pairs = []
    for first, second in combinations(summaries, 2):
        test = mcnemar(y_test, predictions[first], predictions[second])
        pairs.append({"models": [first, second], **test, "sentence": mcnemar_sentence(first, second, test)})
    comparison: dict = {"models": dict(summaries), "verdicts": verdicts(summaries, pairs)}
    if pairs:
        comparison["mcnemar"] = pairs[0]
        comparison["mcnemar_pairs"] = pairs
    return comparison
