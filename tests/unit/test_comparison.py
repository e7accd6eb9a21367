"""The assignment's comparison and McNemar's test on hand-made inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_dvc.analysis.comparison import mcnemar, mcnemar_sentence, run_summary, verdicts
from mnist_dvc.analysis.confusion import confusion_counts as confusion_matrix
from mnist_dvc.analysis.confusion import per_class
from mnist_dvc.analysis.history import History


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
    assert s["best_train_accuracy"] == 1.0
    assert s["best_test_accuracy"] == 0.97
    assert s["best_test_epoch"] == 2
    assert s["final_test_accuracy"] == 0.96
    assert s["generalization_gap"] == pytest.approx(1.0 - 0.97)
    assert s["min_train_loss"] == pytest.approx(1 / 3)
    assert s["min_test_loss"] == pytest.approx(0.5)
    assert s["train_time_s"] == 3.0
    assert s["params"] == 123
    assert "note" in s and "1.00 points" in s["note"]  # best 97% vs final 96%: late over-fitting


def test_run_summary_has_no_note_when_the_last_epoch_is_close_to_the_best():
    assert "note" not in run_summary(history([0.95, 0.971, 0.970]), params=1)


def test_run_summary_refuses_an_empty_log():
    with pytest.raises(ValueError, match="no complete epoch"):
        run_summary(history([]), params=1)


def test_verdicts_pick_the_winner_of_each_criterion():
    a = run_summary(history([0.97, 0.98], train_accuracy=[0.99, 1.0]), params=10)
    b = run_summary(history([0.975, 0.985], train_accuracy=[0.99, 0.995]), params=20)
    b["train_time_s"] = 10.0
    result = verdicts({"model_a": a, "model_b": b})
    assert result["accuracy"]["winner"] == "model_b"
    assert "98.50% vs 98.00% for model_a" in result["accuracy"]["sentence"]
    assert result["gap"]["winner"] == "model_b"  # 0.995 - 0.985 < 1.0 - 0.98
    assert result["time"]["winner"] == "model_a"
    assert result["loss"]["winner"] is None  # both logs have the same test losses: a tie
    assert result["loss"]["sentence"] == "model_a and model_b tie on min test loss (0.5100)."


def test_verdicts_of_a_single_model_name_no_runner_up():
    result = verdicts({"solo": run_summary(history([0.9, 0.91]), params=1)})
    assert all(v["winner"] == "solo" and " vs " not in v["sentence"] for v in result.values())


def test_confusion_matrix_and_per_class_scores():
    y_true = np.array([0, 0, 1, 1, 1, 2], dtype=np.uint8)
    y_pred = np.array([0, 1, 1, 1, 0, 2], dtype=np.uint8)
    matrix = confusion_matrix(y_true, y_pred)
    assert matrix[:3, :3].tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert matrix.sum() == 6
    scores = per_class(matrix)
    assert scores["1"]["precision"] == pytest.approx(2 / 3)
    assert scores["1"]["recall"] == pytest.approx(2 / 3)
    assert scores["0"]["f1"] == pytest.approx(0.5)
    assert scores["2"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert scores["7"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


# --- every verdict sentence follows from the numbers it states ------------------------------------


def pair(best_a: float, best_b: float, time_a: float = 40.0, time_b: float = 120.0) -> dict[str, dict]:
    """Two models' summaries with only what the accuracy and time verdicts read."""
    return {
        name: {"best_test_accuracy": best, "train_time_s": time, "min_test_loss": 0.07,
               "generalization_gap": 0.02}
        for name, best, time in (("model_a", best_a, time_a), ("model_b", best_b, time_b))
    }


def mcnemar_of(b01: int, b10: int) -> list[dict]:
    """The real McNemar result of a test set where b01 images only model_b gets right, b10 only model_a."""
    return [{"models": ["model_a", "model_b"], **mcnemar(*labels_for(b01, b10))}]


def test_far_apart_and_significant_the_issue_case():
    """3 epochs: 95.32% vs 97.85%, the final models 300 to 47 on the disputed images."""
    result = verdicts(pair(0.9532, 0.9785), mcnemar_of(300, 47))
    assert result["accuracy"] == {"winner": "model_b", "sentence": (
        "model_b performs better: higher best testing accuracy (97.85% vs 95.32% for model_a), and "
        "model_b's final model is significantly better (McNemar p = 3.03e-46; "
        "300 images only model_b gets right, 47 only model_a).")}
    assert result["time"] == {"winner": "model_a", "sentence": (
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), but its best testing "
        "accuracy is 2.53 pts lower (95.32% vs 97.85%), and model_b's final model is significantly "
        "better (McNemar p = 3.03e-46; 300 images only model_b gets right, 47 only model_a).")}
    assert all("similar" not in v["sentence"] for v in result.values())


def test_far_apart_without_a_test_states_only_the_accuracies():
    result = verdicts(pair(0.9532, 0.9785))
    assert result["accuracy"]["sentence"] == (
        "model_b has the higher best testing accuracy (97.85% vs 95.32% for model_a).")
    assert result["time"]["sentence"] == (
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), "
        "but its best testing accuracy is 2.53 pts lower (95.32% vs 97.85%).")


def test_close_and_not_significant():
    result = verdicts(pair(0.9800, 0.9802), mcnemar_of(20, 18))
    assert result["accuracy"] == {"winner": "model_b", "sentence": (
        "model_b has the higher best testing accuracy (98.02% vs 98.00% for model_a), but on the final "
        "models' test predictions the difference is not significant (McNemar p = 0.871; "
        "20 images only model_b gets right, 18 only model_a).")}
    assert result["time"] == {"winner": "model_a", "sentence": (
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b); its best testing "
        "accuracy is 0.02 pts lower (98.00% vs 98.02%), but on the final models' test predictions the "
        "difference is not significant (McNemar p = 0.871; 18 images only model_a gets right, "
        "20 only model_b).")}


def test_best_epoch_and_final_models_disagree():
    """model_b peaked higher, but model_a's final model is significantly better: both are said."""
    result = verdicts(pair(0.9532, 0.9785), mcnemar_of(10, 60))
    assert result["accuracy"] == {"winner": "model_b", "sentence": (
        "model_b has the higher best testing accuracy (97.85% vs 95.32% for model_a), but model_a's "
        "final model is significantly better (McNemar p = 8e-10; 60 images only model_a gets right, "
        "10 only model_b).")}
    assert result["time"] == {"winner": "model_a", "sentence": (
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b); its best testing "
        "accuracy is 2.53 pts lower (95.32% vs 97.85%), yet model_a's final model is significantly "
        "better (McNemar p = 8e-10; 60 images only model_a gets right, 10 only model_b).")}


@pytest.mark.parametrize("test", [None, mcnemar_of(20, 80)], ids=["no test", "significant"])
def test_the_cheaper_model_is_also_more_accurate(test):
    result = verdicts(pair(0.9900, 0.9800), test)
    assert result["time"] == {"winner": "model_a", "sentence": (
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), "
        "and its best testing accuracy is higher too (99.00% vs 98.00%).")}
    assert result["accuracy"]["winner"] == "model_a"
    assert result["accuracy"]["sentence"].startswith(
        "model_a performs better" if test else "model_a has the higher best testing accuracy")


@pytest.mark.parametrize("test", [None, mcnemar_of(40, 40), mcnemar_of(20, 80)],
                         ids=["no test", "not significant", "significant"])
@pytest.mark.parametrize(("best_a", "best_b"), [(0.98, 0.98), (0.980001, 0.980004)],
                         ids=["equal", "equal as written"])
def test_tied_accuracies_name_no_winner(test, best_a, best_b):
    """A tie is a tie whatever McNemar says about the final models; the time verdict says 'the same'."""
    result = verdicts(pair(best_a, best_b), test)
    assert result["accuracy"] == {"winner": None,
                                  "sentence": "model_a and model_b tie on best test accuracy (98.00%)."}
    assert result["time"] == {"winner": "model_a", "sentence": (
        "model_a is cheaper: less training time (40.0 s vs 2 min 00 s for model_b), "
        "at the same best testing accuracy (98.00%).")}


@pytest.mark.parametrize(("time_a", "time_b"), [(10.0, 10.0), (10.01, 10.04)],
                         ids=["equal", "equal as written"])
def test_tied_times_name_no_winner(time_a, time_b):
    result = verdicts(pair(0.97, 0.98, time_a, time_b), mcnemar_of(300, 47))
    assert result["time"] == {"winner": None,
                              "sentence": "model_a and model_b tie on training time (10.0 s)."}
    assert result["accuracy"]["winner"] == "model_b"


@pytest.mark.parametrize(("b01", "b10"), [(300, 47), (20, 18), (10, 60), (47, 300), (40, 40)])
@pytest.mark.parametrize(("best_a", "best_b"), [(0.9532, 0.9785), (0.9800, 0.9802), (0.99, 0.98)])
def test_significance_is_claimed_exactly_when_p_is_below_the_level(b01, b10, best_a, best_b):
    test = mcnemar_of(b01, b10)
    significant = test[0]["p_value"] < 0.05
    for verdict in verdicts(pair(best_a, best_b), test).values():
        sentence = verdict["sentence"]
        if "McNemar" in sentence:
            assert ("not significant" in sentence) == (not significant), sentence
            assert ("significantly better" in sentence) == significant, sentence
