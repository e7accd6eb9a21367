"""The assignment's comparison and McNemar's test on hand-made inputs with known answers."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from mnist_dvc.analysis.comparison import (
    compare,
    headline,
    mcnemar,
    mcnemar_sentence,
    mcnemar_winner,
    run_summary,
    verdicts,
)
from mnist_dvc.analysis.comparison_table import TableRow, table_rows
from mnist_dvc.analysis.confusion import confusion_counts as confusion_matrix
from mnist_dvc.analysis.confusion import per_class
from mnist_dvc.analysis.history import History
from mnist_dvc.core.contracts import MEASURED, MODEL_TOTAL, STACK_SHARE
from mnist_dvc.core.records.comparison import Decision, Headline, McNemar, RunSummary, Spread, Verdict
from mnist_dvc.core.records.evaluation import ClassScores


def history(test_accuracy: list[float], train_accuracy: list[float] | None = None) -> History:
    n = len(test_accuracy)
    return History(
        epoch=list(range(1, n + 1)),
        train_loss=[1.0 / (e + 1) for e in range(n)],
        train_accuracy=train_accuracy or [0.9 + 0.01 * e for e in range(n)],
        test_loss=[0.5 + 0.01 * (e - 2) ** 2 for e in range(n)],
        test_accuracy=test_accuracy,
        epoch_s=[1.0] * n,
        train_time_s=[float(e + 1) for e in range(n)],
    )


def labels_for(b01: int, b10: int, both_right: int = 50, both_wrong: int = 5):
    """Predictions of two models with the given disagreement counts (b01: only B right)."""
    y = np.zeros(b01 + b10 + both_right + both_wrong, dtype=np.uint8)
    a = np.concatenate([np.ones(b01), np.zeros(b10), np.zeros(both_right), np.ones(both_wrong)])
    b = np.concatenate([np.zeros(b01), np.ones(b10), np.zeros(both_right), np.full(both_wrong, 2)])
    return y, a.astype(np.uint8), b.astype(np.uint8)


@pytest.mark.parametrize(("b01", "b10", "p_value"), [
    (0, 0, 1.0),              # no disagreement: nothing to tell apart
    (6, 0, 2 / 2**6),         # all 6 disagreements one way: 2 * (1/2)^6
    (5, 5, 1.0),              # a perfect split
    (24, 11, 0.04095959151163697),  # binomial(35, 1/2): 2 * P(X <= 11)
    (10, 2, 0.0385742),       # 2 * (1 + 12 + 66) / 4096
])
def test_mcnemar_exact_p_values(b01, b10, p_value):
    y, a, b = labels_for(b01, b10)
    result = mcnemar(y, a, b)
    assert (result["b01"], result["b10"]) == (b01, b10)
    assert result["p_value"] == pytest.approx(p_value, rel=1e-6)


def test_mcnemar_is_symmetric_in_the_two_models():
    y, a, b = labels_for(9, 3)
    forward, backward = mcnemar(y, a, b), mcnemar(y, b, a)
    assert (forward["b01"], forward["b10"]) == (backward["b10"], backward["b01"])
    assert forward["p_value"] == backward["p_value"]


def test_mcnemar_sentence_names_the_better_model_only_when_significant():
    significant = mcnemar_sentence("model_a", "model_b", {"b01": 24, "b10": 11, "p_value": 0.041})
    assert significant.startswith("model_b's edge is significant")
    noise = mcnemar_sentence("model_a", "model_b", {"b01": 5, "b10": 5, "p_value": 1.0})
    assert noise.startswith("The difference is not significant")


def test_run_summary_follows_the_assignment_definitions():
    h = history([0.95, 0.97, 0.96], train_accuracy=[0.96, 0.99, 1.0])
    s = run_summary(h, params=123)
    assert s.best_train_accuracy == 1.0
    assert s.best_test_accuracy == 0.97
    assert s.best_test_epoch == 2
    assert s.final_test_accuracy == 0.96
    assert s.generalization_gap == pytest.approx(1.0 - 0.97)
    assert s.min_train_loss == pytest.approx(1 / 3)
    assert s.min_test_loss == pytest.approx(0.5)
    assert s.train_time_s == 3.0
    assert s.params == 123
    assert "1.00 points" in s.note  # best 97% vs final 96%: late over-fitting


def test_run_summary_has_no_note_when_the_last_epoch_is_close_to_the_best():
    assert run_summary(history([0.95, 0.971, 0.970]), params=1).note is None


def test_run_summary_refuses_an_empty_log():
    with pytest.raises(ValueError, match="no complete epoch"):
        run_summary(history([]), params=1)


def test_verdicts_pick_the_winner_of_each_criterion():
    a = msgspec.structs.asdict(run_summary(history([0.97, 0.98], train_accuracy=[0.99, 1.0]), params=10))
    b = msgspec.structs.asdict(run_summary(history([0.975, 0.985], train_accuracy=[0.99, 0.995]), params=20))
    b["train_time_s"] = 10.0
    result = verdicts({"model_a": a, "model_b": b})
    assert result["accuracy"].winner == "model_b"
    assert "98.50% vs 98.00% for model_a" in result["accuracy"].sentence
    assert result["gap"].winner == "model_b"  # 0.995 - 0.985 < 1.0 - 0.98
    assert result["time"].winner == "model_a"
    assert result["loss"] == Verdict(winner=None,  # both logs have the same test losses: a tie
                                     sentence="model_a and model_b tie on min test loss (0.5100).")


def test_verdicts_of_a_single_model_name_no_runner_up():
    result = verdicts({"solo": msgspec.structs.asdict(run_summary(history([0.9, 0.91]), params=1))})
    assert all(v.winner == "solo" and " vs " not in v.sentence for v in result.values())


def test_confusion_matrix_and_per_class_scores():
    y_true = np.array([0, 0, 1, 1, 1, 2], dtype=np.uint8)
    y_pred = np.array([0, 1, 1, 1, 0, 2], dtype=np.uint8)
    matrix = confusion_matrix(y_true, y_pred)
    assert matrix[:3, :3].tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert matrix.sum() == 6
    scores = per_class(matrix)
    assert scores[1].precision == pytest.approx(2 / 3)
    assert scores[1].recall == pytest.approx(2 / 3)
    assert scores[0].f1 == pytest.approx(0.5)
    assert scores[2] == ClassScores(precision=1.0, recall=1.0, f1=1.0, support=1)
    assert scores[7] == ClassScores(precision=0.0, recall=0.0, f1=0.0, support=0)


# --- every verdict sentence follows from the numbers it states ------------------------------------


def pair(best_a: float, best_b: float, time_a: float = 40.0, time_b: float = 120.0) -> dict[str, dict]:
    """Two models' summaries with only what the accuracy and time verdicts read."""
    return {
        name: {"best_test_accuracy": best, "train_time_s": time, "min_test_loss": 0.07,
               "generalization_gap": 0.02}
        for name, best, time in (("model_a", best_a, time_a), ("model_b", best_b, time_b))
    }


def mcnemar_of(b01: int, b10: int) -> list[McNemar]:
    """The real McNemar result of a test set where b01 images only model_b gets right, b10 only model_a."""
    test = mcnemar(*labels_for(b01, b10))
    return [McNemar(models=("model_a", "model_b"), seed=1, **test, sentence="",
                    winner=mcnemar_winner("model_a", "model_b", test))]


def test_far_apart_and_significant_the_issue_case():
    """3 epochs: 95.32% vs 97.85%, the final models 300 to 47 on the disputed images."""
    result = verdicts(pair(0.9532, 0.9785), mcnemar_of(300, 47))
    assert result["accuracy"] == Verdict(winner="model_b", sentence=(
        "model_b performs better: higher best testing accuracy (97.85% vs 95.32% for model_a), and "
        "model_b's final model is significantly better (McNemar p = 3.03e-46; "
        "300 images only model_b gets right, 47 only model_a)."))
    assert result["time"] == Verdict(winner="model_a", sentence=(
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), but its best testing "
        "accuracy is 2.53 pts lower (95.32% vs 97.85%), and model_b's final model is significantly "
        "better (McNemar p = 3.03e-46; 300 images only model_b gets right, 47 only model_a)."))
    assert all("similar" not in v.sentence for v in result.values())


def test_far_apart_without_a_test_states_only_the_accuracies():
    result = verdicts(pair(0.9532, 0.9785))
    assert result["accuracy"].sentence == (
        "model_b has the higher best testing accuracy (97.85% vs 95.32% for model_a).")
    assert result["time"].sentence == (
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), "
        "but its best testing accuracy is 2.53 pts lower (95.32% vs 97.85%).")


def test_close_and_not_significant():
    result = verdicts(pair(0.9800, 0.9802), mcnemar_of(20, 18))
    assert result["accuracy"] == Verdict(winner="model_b", sentence=(
        "model_b has the higher best testing accuracy (98.02% vs 98.00% for model_a), but on the final "
        "models' test predictions the difference is not significant (McNemar p = 0.871; "
        "20 images only model_b gets right, 18 only model_a)."))
    assert result["time"] == Verdict(winner="model_a", sentence=(
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b); its best testing "
        "accuracy is 0.02 pts lower (98.00% vs 98.02%), but on the final models' test predictions the "
        "difference is not significant (McNemar p = 0.871; 18 images only model_a gets right, "
        "20 only model_b)."))


def test_best_epoch_and_final_models_disagree():
    """model_b peaked higher, but model_a's final model is significantly better: both are said."""
    result = verdicts(pair(0.9532, 0.9785), mcnemar_of(10, 60))
    assert result["accuracy"] == Verdict(winner="model_b", sentence=(
        "model_b has the higher best testing accuracy (97.85% vs 95.32% for model_a), but model_a's "
        "final model is significantly better (McNemar p = 8e-10; 60 images only model_a gets right, "
        "10 only model_b)."))
    assert result["time"] == Verdict(winner="model_a", sentence=(
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b); its best testing "
        "accuracy is 2.53 pts lower (95.32% vs 97.85%), yet model_a's final model is significantly "
        "better (McNemar p = 8e-10; 60 images only model_a gets right, 10 only model_b)."))


@pytest.mark.parametrize("test", [None, mcnemar_of(20, 80)], ids=["no test", "significant"])
def test_the_cheaper_model_is_also_more_accurate(test):
    result = verdicts(pair(0.9900, 0.9800), test)
    assert result["time"] == Verdict(winner="model_a", sentence=(
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), "
        "and its best testing accuracy is higher too (99.00% vs 98.00%)."))
    assert result["accuracy"].winner == "model_a"
    assert result["accuracy"].sentence.startswith(
        "model_a performs better" if test else "model_a has the higher best testing accuracy")


@pytest.mark.parametrize("test", [None, mcnemar_of(40, 40), mcnemar_of(20, 80)],
                         ids=["no test", "not significant", "significant"])
@pytest.mark.parametrize(("best_a", "best_b"), [(0.98, 0.98), (0.980001, 0.980004)],
                         ids=["equal", "equal as written"])
def test_tied_accuracies_name_no_winner(test, best_a, best_b):
    """A tie is a tie whatever McNemar says about the final models; the time verdict says 'the same'."""
    result = verdicts(pair(best_a, best_b), test)
    assert result["accuracy"] == Verdict(winner=None,
                                         sentence="model_a and model_b tie on best test accuracy (98.00%).")
    assert result["time"] == Verdict(winner="model_a", sentence=(
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), "
        "at the same best testing accuracy (98.00%)."))


@pytest.mark.parametrize(("time_a", "time_b"), [(10.0, 10.0), (10.01, 10.04)],
                         ids=["equal", "equal as written"])
def test_tied_times_name_no_winner(time_a, time_b):
    result = verdicts(pair(0.97, 0.98, time_a, time_b), mcnemar_of(300, 47))
    assert result["time"] == Verdict(winner=None,
                                     sentence="model_a and model_b tie on training time (10.0 s).")
    assert result["accuracy"].winner == "model_b"


@pytest.mark.parametrize(("b01", "b10"), [(300, 47), (20, 18), (10, 60), (47, 300), (40, 40)])
@pytest.mark.parametrize(("best_a", "best_b"), [(0.9532, 0.9785), (0.9800, 0.9802), (0.99, 0.98)])
def test_significance_is_claimed_exactly_when_p_is_below_the_level(b01, b10, best_a, best_b):
    test = mcnemar_of(b01, b10)
    significant = test[0].p_value < 0.05
    for verdict in verdicts(pair(best_a, best_b), test).values():
        sentence = verdict.sentence
        if "McNemar" in sentence:
            assert ("not significant" in sentence) == (not significant), sentence
            assert ("significantly better" in sentence) == significant, sentence


# --- several seeds: means, the test across seeds, and verdicts that follow them --------------------

DEFAULTS = {"best_train_accuracy": 1.0, "best_test_accuracy": 0.97, "best_test_epoch": 10,
            "final_test_accuracy": 0.965, "min_train_loss": 0.01, "min_test_loss": 0.07,
            "generalization_gap": 0.03, "train_time_s": 40.0, "params": 100, "epochs": 12,
            "best_test_accuracy_selected_on": "test set", "final_train_accuracy": 1.0,
            "final_test_loss": 0.08, "mean_epoch_s": 3.3}


def seed_runs(values: dict[str, dict[str, list[float]]], seeds: dict[str, list[int]] | None = None,
              ) -> dict[str, dict[int, RunSummary]]:
    """model -> seed -> a run summary: the defaults, with `values[model][key]` listed by seed."""
    runs = {}
    for model, columns in values.items():
        model_seeds = (seeds or {}).get(model) or list(range(1, 1 + len(next(iter(columns.values())))))
        runs[model] = {seed: RunSummary(**{**DEFAULTS, **{key: column[i] for key, column in columns.items()}})
                       for i, seed in enumerate(model_seeds)}
    return runs


def seed_comparison(values: dict[str, dict[str, list[float]]], seeds: dict[str, list[int]] | None = None,
                    timings: dict[str, str] | None = None):
    """`compare` on these runs, with predictions that tie (McNemar plays no part across seeds); every
    seed timed on its own unless `timings` says otherwise."""
    runs = seed_runs(values, seeds)
    y = np.zeros(20, dtype=np.uint8)
    predictions = {model: {seed: y.copy() for seed in by_seed} for model, by_seed in runs.items()}
    return compare(runs, y, predictions, {**dict.fromkeys(runs, MEASURED), **(timings or {})})


def paired_p(differences: list[float]) -> tuple[float, float, float]:
    """By hand, for 3 seeds (2 degrees of freedom): mean, the 95% half-width with t(2) = 4.303
    from the table, and the two-sided p = 1 - t / sqrt(t² + 2) (Student's t with 2 df in closed form)."""
    n = len(differences)
    assert n == 3
    mean = sum(differences) / n
    sd = (sum((d - mean) ** 2 for d in differences) / (n - 1)) ** 0.5
    t = mean / (sd / n ** 0.5)
    return mean, 4.303 * sd / n ** 0.5, 1 - abs(t) / (t * t + 2) ** 0.5


SIGNIFICANT = {"model_a": {"best_test_accuracy": [0.9532, 0.9540, 0.9524]},
               "model_b": {"best_test_accuracy": [0.9785, 0.9790, 0.9780]}}
NOT_SIGNIFICANT = {"model_a": {"best_test_accuracy": [0.9800, 0.9810, 0.9790]},
                   "model_b": {"best_test_accuracy": [0.9810, 0.9805, 0.9815]}}


def test_a_significant_difference_across_seeds_names_the_better_model():
    mean, half, p = paired_p([0.0253, 0.0250, 0.0256])
    assert p < 0.05
    result = seed_comparison(SIGNIFICANT).verdicts["accuracy"]
    # The paired difference's interval (±0.075 pts) is the narrowest: every number of the sentence
    # gets its three decimals, so the means and the difference read alike.
    assert result == Verdict(winner="model_b", sentence=(
        "model_b performs better: higher best testing accuracy (mean 97.850% vs 95.320% for model_a over "
        f"the same 3 seeds; difference +{100 * mean:.3f} pts, 95% CI +{100 * (mean - half):.3f} to "
        f"+{100 * (mean + half):.3f} pts; paired t-test p = {p:.3g})."))
    assert "+2.530 pts, 95% CI +2.455 to +2.605 pts" in result.sentence


def test_a_difference_within_seed_noise_names_no_winner_and_says_so():
    mean, half, p = paired_p([0.0010, -0.0005, 0.0025])
    assert p == pytest.approx(0.3675, abs=1e-4)
    assert (f"{100 * (mean - half):+.2f}", f"{100 * (mean + half):+.2f}") == ("-0.27", "+0.47")
    result = seed_comparison(NOT_SIGNIFICANT).verdicts["accuracy"]
    assert result == Verdict(winner=None, sentence=(
        "Neither model is better on best testing accuracy: model_b's mean is higher (mean 98.10% vs 98.00% "
        "for model_a over the same 3 seeds), but the difference is not significant (difference +0.10 pts, "
        "95% CI -0.27 to +0.47 pts; paired t-test p = 0.368)."))


def test_the_cheaper_model_and_what_its_accuracy_costs_across_seeds():
    """80 s cheaper on every seed give or take 1 s: significant; its accuracy 0.10 pts lower: noise."""
    values = {model: {**NOT_SIGNIFICANT[model], "train_time_s": times}
              for model, times in (("model_a", [40.0, 41.0, 39.0]), ("model_b", [120.0, 122.0, 118.0]))}
    mean, half, p = paired_p([-80.0, -81.0, -79.0])
    assert (round(mean + half), round(mean - half)) == (-78, -82)
    assert p < 0.001
    result = seed_comparison(values).verdicts["time"]
    assert result == Verdict(winner="model_a", sentence=(
        "model_a is cheaper: less training time (mean 40.0 s vs 120.0 s for model_b over the same 3 "
        f"seeds; difference -80.0 s, 95% CI -82.5 to -77.5 s; paired t-test p = {p:.3g}), "
        "and its best testing accuracy is not significantly different (mean 98.00% vs 98.10%; difference "
        "-0.10 pts, 95% CI -0.47 to +0.27 pts; paired t-test p = 0.368)."))


def test_the_cheaper_model_that_is_significantly_less_accurate():
    values = {model: {**SIGNIFICANT[model], "train_time_s": times}
              for model, times in (("model_a", [40.0, 41.0, 39.0]), ("model_b", [120.0, 122.0, 118.0]))}
    sentence = seed_comparison(values).verdicts["time"].sentence
    assert sentence.endswith("; but its best testing accuracy is significantly lower (mean 95.320% vs "
                             "97.850%; difference -2.530 pts, 95% CI -2.605 to -2.455 pts; "
                             f"paired t-test p = {paired_p([0.0253, 0.0250, 0.0256])[2]:.3g}).")


def test_a_time_difference_within_seed_noise_names_no_cheaper_model():
    values = {"model_a": {"train_time_s": [40.0, 50.0, 30.0]},
              "model_b": {"train_time_s": [45.0, 35.0, 43.0]}}
    result = seed_comparison(values).verdicts["time"]
    assert result.winner is None
    assert result.sentence.startswith("Neither model is cheaper: model_a's mean training time is lower "
                                      "(mean 40 s vs 41 s for model_b over the same 3 seeds), but the "
                                      "difference is not significant (difference -1 s, 95% CI ")


def test_means_that_print_the_same_are_a_tie_across_seeds():
    values = {"model_a": {"best_test_accuracy": [0.98, 0.98, 0.98]},
              "model_b": {"best_test_accuracy": [0.98001, 0.98, 0.97999]}}
    result = seed_comparison(values).verdicts["accuracy"]
    assert result == Verdict(winner=None, sentence=(
        "model_a and model_b tie on best test accuracy (mean 98.0000% over the same 3 seeds)."))


def test_different_seeds_are_compared_with_welch():
    values = {"model_a": {"min_test_loss": [0.070, 0.072, 0.071]},
              "model_b": {"min_test_loss": [0.080, 0.082, 0.079, 0.081]}}
    comparison = seed_comparison(values, seeds={"model_a": [1, 2, 3], "model_b": [3, 4, 5, 6]})
    (pair,) = comparison.differences
    assert pair.test == "Welch's t-test"
    assert pair.criteria["min_test_loss"].n == (3, 4)
    sentence = comparison.verdicts["loss"].sentence
    assert sentence.startswith("model_a is better on loss: lower minimum testing loss (mean 0.0710 vs 0.0805 "
                               "for model_b over 3 and 4 seeds; difference -0.0095, 95% CI ")
    assert "; Welch's t-test p = " in sentence
    assert [test.seed for test in comparison.mcnemar] == [3], "McNemar only on a seed both ran"
    assert comparison.seeds_note.startswith("The models ran different seeds (model_a seeds 1-3, "
                                               "model_b seeds 3-6): ")


@pytest.mark.parametrize("offset", [0.0, 0.0004, 0.0008, 0.0015, 0.003, 0.01])
@pytest.mark.parametrize("noise", [[0.0, 0.0005, -0.0005], [0.001, -0.002, 0.001], [0.0002, 0.0001, -0.0003]])
def test_better_is_said_exactly_when_the_test_across_seeds_is_significant(offset, noise):
    a = [0.97 + n for n in noise]
    values = {"model_a": {"best_test_accuracy": a, "generalization_gap": [0.03 - n for n in noise]},
              "model_b": {"best_test_accuracy": [0.97 + offset + 0.0003 * i for i in range(3)],
                          "generalization_gap": [0.03 - offset + 0.0002 * i for i in range(3)]}}
    comparison = seed_comparison(values)
    criteria = comparison.differences[0].criteria
    for verdict, key in (("accuracy", "best_test_accuracy"), ("gap", "generalization_gap")):
        result, p = comparison.verdicts[verdict], criteria[key].p_value
        assert comparison.winners[key].winner == result.winner, "the table and the verdict decide alike"
        if "tie on" in result.sentence:
            assert result.winner is None
            continue
        significant = p < 0.05
        assert (result.winner is not None) == significant, result.sentence
        assert ("not significantly" in comparison.winners[key].why) == (not significant)
        assert ("not significant" in result.sentence) == (not significant), result.sentence
        assert result.sentence.startswith("Neither") == (not significant)


def test_one_seed_each_is_compared_as_before_and_says_there_is_no_spread():
    """One seed: the same sentences as a single run (McNemar on the final models), no test across seeds."""
    y, a, b = labels_for(300, 47)
    runs = seed_runs({"model_a": {"best_test_accuracy": [0.9532], "train_time_s": [40.0]},
                      "model_b": {"best_test_accuracy": [0.9785], "train_time_s": [120.0]}},
                     seeds={"model_a": [42], "model_b": [42]})
    comparison = compare(runs, y, {"model_a": {42: a}, "model_b": {42: b}}, dict.fromkeys(runs, MEASURED))
    assert comparison.differences == [] and comparison.mcnemar_summary == []
    assert comparison.verdicts == verdicts({m: msgspec.structs.asdict(runs[m][42]) for m in runs},
                                           mcnemar_of(300, 47))
    assert comparison.verdicts["accuracy"].sentence.endswith(
        "(McNemar p = 3.03e-46; 300 images only model_b gets right, 47 only model_a).")
    assert comparison.mcnemar[0].winner == "model_b"
    assert comparison.seeds_note == (
        "One seed per model: there is no spread across seeds to measure, so no confidence intervals and no "
        "test across seeds; the accuracy and time verdicts rest on McNemar's test of the final models' test "
        "predictions.")
    stats = comparison.models["model_a"].stats["best_test_accuracy"]
    assert stats == Spread(n=1, mean=0.9532, sd=None, ci=None)
    assert comparison.winners["best_test_accuracy"] == Decision(
        winner="model_b", why="higher value (97.85% vs 95.32% for model_a); no test across seeds: that needs "
                              "two seeds or more per model")


def test_a_model_with_one_seed_allows_no_test_across_seeds():
    comparison = seed_comparison({"model_a": {"best_test_accuracy": [0.97]},
                                  "model_b": {"best_test_accuracy": [0.98, 0.981, 0.979]}},
                                 seeds={"model_a": [1], "model_b": [1, 2, 3]})
    assert comparison.differences == []
    assert comparison.seeds_note.startswith("Seeds per model: model_a 1, model_b 3. A test across seeds "
                                            "needs two seeds or more per model")
    assert comparison.verdicts["accuracy"].sentence.startswith(
        "model_b has the higher best testing accuracy (98.00% vs 97.00% for model_a)")


def test_the_comparison_holds_every_seed_and_the_headline_holds_the_means():
    y, a, b = labels_for(30, 5)
    runs = seed_runs(SIGNIFICANT)
    predictions = {"model_a": dict.fromkeys(runs["model_a"], a), "model_b": dict.fromkeys(runs["model_b"], b)}
    comparison = compare(runs, y, predictions, dict.fromkeys(runs, MEASURED))
    entry = comparison.models["model_b"]
    assert (entry.seeds, entry.params, entry.epochs) == ([1, 2, 3], 100, 12)
    assert entry.runs[2].best_test_accuracy == 0.9790
    assert entry.stats["best_test_accuracy"].mean == pytest.approx(0.9785)
    assert [(t.seed, t.b01, t.b10, t.winner) for t in comparison.mcnemar] == [
        (s, 30, 5, "model_b") for s in (1, 2, 3)]
    assert comparison.mcnemar_summary == [
        "McNemar's test of the final models, seed by seed (model_a vs model_b): model_b significantly better "
        "on 3 of 3 seeds, model_a on 0, no significant difference on 0."]
    params = comparison.differences[0].criteria["params"]
    assert (params.p_value, params.difference) == (None, 0)
    assert comparison.winners["params"] == Decision(
        winner=None, why="model_a and model_b tie (100)"), "the same count: neither has fewer parameters"
    headlines = headline(comparison)
    for model, v in SIGNIFICANT.items():
        assert headlines[model] == Headline(acc=pytest.approx(0.965), best_acc=pytest.approx(
            sum(v["best_test_accuracy"]) / 3), loss=pytest.approx(0.07), gap=pytest.approx(0.03),
            time_s=pytest.approx(40.0), params=100)


# --- training time measured once per model; one format per sentence ----------------------------------

# The committed 500-epoch run's logs predate per-seed timing: every seed carries the model's wall time.
WALL_TIMES = {"model_a": {"train_time_s": [438.9772] * 3, "best_test_accuracy": [0.9812, 0.9818, 0.9825]},
              "model_b": {"train_time_s": [1708.4085] * 3, "best_test_accuracy": [0.9857, 0.9861, 0.9866]}}


def test_time_of_a_whole_model_has_no_spread_no_test_and_no_winner():
    comparison = seed_comparison(WALL_TIMES, timings=dict.fromkeys(WALL_TIMES, MODEL_TOTAL))
    for model, times in WALL_TIMES.items():
        entry = comparison.models[model]
        assert entry.timing == MODEL_TOTAL
        assert entry.stats["train_time_s"] == Spread(n=1, mean=times["train_time_s"][0], sd=None, ci=None)
    assert "train_time_s" not in comparison.differences[0].criteria
    assert comparison.winners["train_time_s"] == Decision(winner=None, why=(
        "no test: training time is one measurement per model; model_a trains its 3 seeds in 7 min 19 s all "
        "together, its log giving no time per seed; model_b trains its 3 seeds in 28 min 28 s all together, "
        "its log giving no time per seed"))
    assert comparison.verdicts["time"] == Verdict(winner=None, sentence=(
        "Training time is one measurement per model, so there is no test and no cheaper model is named: "
        "model_a trains its 3 seeds in 7 min 19 s all together, its log giving no time per seed; model_b "
        "trains its 3 seeds in 28 min 28 s all together, its log giving no time per seed."))
    assert "mean" not in comparison.verdicts["time"].sentence
    assert comparison.seeds_note.endswith("there it is one measurement, with no interval and no test.")
    assert comparison.winners["best_test_accuracy"].winner == "model_b", "the other criteria are tested"


def test_stacked_seeds_against_seeds_timed_one_by_one():
    values = {"model_a": {"train_time_s": [146.3257] * 3}, "model_b": {"train_time_s": [569.1, 571.3, 568.0]}}
    comparison = seed_comparison(values, timings={"model_a": STACK_SHARE})
    assert comparison.models["model_b"].stats["train_time_s"].ci is not None, "measured: a spread"
    assert comparison.models["model_a"].stats["train_time_s"].ci is None
    assert comparison.verdicts["time"] == Verdict(winner=None, sentence=(
        "Training time is one measurement for model_a, so there is no test and no cheaper model is named: "
        "model_a trains its 3 seeds stacked in 439.0 s, 146.3 s per seed as the stack's time shared; model_b "
        "trains a seed in 569.5 s on average over 3 seeds timed one by one (95% CI 565.3 to 573.6 s)."))
    assert comparison.winners["train_time_s"].winner is None


def test_a_row_writes_its_numbers_in_one_format():
    """The committed run's min train loss: model_b's is 0 on every seed, model_a's mean 2.04e-05 ± 8.8e-05
    (old sentences: "0.0000 vs 2.04e-05", "95% CI -1.08e-04 to +6.73e-05")."""
    values = {"model_a": {"min_train_loss": [6.111920811235905e-05, 0.0, 0.0]},
              "model_b": {"min_train_loss": [0.0, 0.0, 0.0]}}
    why = seed_comparison(values).winners["min_train_loss"].why
    assert why == ("model_b's mean is lower (0.0e-05 vs 2.0e-05 for model_a), but not significantly "
                   "(difference -2.0e-05, 95% CI -10.8e-05 to +6.7e-05; paired t-test p = 0.423)")


# --- the table the dashboard shows: one format per row, time as it was measured ---------------------


def rows_by_key(comparison) -> dict:
    return {row.key: row for row in table_rows(comparison)}


def test_a_table_row_writes_every_number_with_the_digits_of_its_interval():
    values = {"model_a": {"min_train_loss": [6.111920811235905e-05, 0.0, 0.0], "best_test_epoch": [2, 1, 4]},
              "model_b": {"min_train_loss": [0.0, 0.0, 0.0], "best_test_epoch": [9, 1, 2]}}
    rows = rows_by_key(seed_comparison(values))
    loss = rows["min_train_loss"]
    assert loss.cells == {"model_a": "2.0e-05 ± 8.8e-05", "model_b": "0.0e-05 ± 0.0e-05"}
    assert (loss.winner, loss.difference) == (None, "+2.0e-05 (-6.7e-05 to +10.8e-05; p 0.423)")
    epoch = rows["best_test_epoch"]
    assert epoch.cells == {"model_a": "2.3 ± 3.8", "model_b": "4.0 ± 10.8"}, "never 2 ± 4 for a mean of 2.33"
    assert (epoch.winner, epoch.difference) == (None, None)
    assert rows["params"].cells == {"model_a": "100", "model_b": "100"}


def test_the_time_row_of_stacked_seeds_says_stack_share_with_no_spread_or_star():
    values = {"model_a": {"train_time_s": [146.3257] * 3}, "model_b": {"train_time_s": [569.1, 571.3, 568.0]}}
    time = rows_by_key(seed_comparison(values, timings={"model_a": STACK_SHARE}))["train_time_s"]
    label = "Training time (model_a: per seed, stack share; model_b: per seed)"
    cells = {"model_a": "146.3 s", "model_b": "569.5 ± 4.2 s"}
    assert time == TableRow("train_time_s", label, cells, None, None)


def test_the_time_row_of_a_whole_model_is_one_measurement_even_in_an_older_file():
    """An older comparison.json has no `timing`, and a zero-width interval, a difference and a winner
    for a time that every seed shares (the model's wall time): the row shows none of them."""
    once = seed_comparison(WALL_TIMES, timings=dict.fromkeys(WALL_TIMES, MODEL_TOTAL))
    as_measured = seed_comparison(WALL_TIMES)
    older = msgspec.structs.replace(as_measured, models={
        model: msgspec.structs.replace(entry, timing=None) for model, entry in as_measured.models.items()})
    assert older.winners["train_time_s"].winner == "model_a", "what the older file said"
    for comparison in (once, older):
        time = rows_by_key(comparison)["train_time_s"]
        assert time == TableRow("train_time_s", "Training time (all seeds together)",
                                {"model_a": "7 min 19 s", "model_b": "28 min 28 s"}, None, None)
    accuracy = rows_by_key(once)["best_test_accuracy"]
    assert accuracy.winner == "model_b" and accuracy.cells["model_a"] == "98.183 ± 0.162%"
