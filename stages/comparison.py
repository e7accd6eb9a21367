"""The assignment's model comparison, computed from per-epoch logs and test predictions.

Pure functions (no Keras, no files) so every number in `metrics/comparison.json`
can be checked on hand-made inputs.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np

from stages.history import History

# Best-epoch test accuracy above the final one by more than this means late over-fitting.
LATE_OVERFIT_POINTS = 0.2
SIGNIFICANCE = 0.05


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
    hypothesis each disagreement goes either way with probability 1/2, so the two-sided
    p-value is twice the binomial tail of the smaller count (capped at 1).
    """
    correct_a, correct_b = pred_a == y_true, pred_b == y_true
    b01 = int(np.sum(~correct_a & correct_b))
    b10 = int(np.sum(correct_a & ~correct_b))
    n = b01 + b10
    if n == 0:
        p_value = 1.0
    else:
        tail = Fraction(sum(comb(n, k) for k in range(min(b01, b10) + 1)), 2**n)
        p_value = float(min(Fraction(1), 2 * tail))
    return {"b01": b01, "b10": b10, "p_value": p_value}


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


# criterion -> (summary key, better is higher?, sentence template, value format)
CRITERIA = {
    "accuracy": ("best_test_accuracy", True,
                 "{win} performs better: higher best testing accuracy ({value}{vs}).", _pct),
    "loss": ("min_test_loss", False,
             "{win} is better on loss: lower minimum testing loss ({value}{vs}).", "{:.4f}".format),
    "gap": ("generalization_gap", False,
            "{win} generalizes better: smaller gap between best training and best testing accuracy "
            "({value}{vs}).", lambda v: f"{v * 100:.2f} points"),
    "time": ("train_time_s", False,
             "{win} is cheaper: less training time ({value}{vs}) for similar testing accuracy.",
             "{:.0f} s".format),
}


def verdicts(summaries: dict[str, dict]) -> dict[str, dict]:
    """One winner and sentence per criterion, phrased like the assignment's conclusion;
    the runner-up's value is quoted so the size of the win is visible."""
    result = {}
    for criterion, (key, higher, template, fmt) in CRITERIA.items():
        ranked = sorted(summaries, key=lambda m: summaries[m][key], reverse=higher)
        win = ranked[0]
        vs = f" vs {fmt(summaries[ranked[1]][key])} for {ranked[1]}" if len(ranked) > 1 else ""
        result[criterion] = {"winner": win,
                             "sentence": template.format(win=win, value=fmt(summaries[win][key]), vs=vs)}
    return result


def mcnemar_sentence(first: str, second: str, test: dict) -> str:
    """Whether the accuracy difference of two models is more than test-set noise."""
    if test["p_value"] < SIGNIFICANCE:
        better = second if test["b01"] > test["b10"] else first
        return (f"{better}'s edge is significant (McNemar exact p = {test['p_value']:.3g}; "
                f"{test['b01']} images only {second} gets right, {test['b10']} only {first}).")
    return (f"The difference is not significant at {SIGNIFICANCE} (McNemar exact p = {test['p_value']:.3g}; "
            f"{test['b01']} images only {second} gets right, {test['b10']} only {first}).")
