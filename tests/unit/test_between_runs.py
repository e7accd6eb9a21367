"""Runs against a baseline across seeds: estimates, paired and Welch tests, Holm, verdicts, time.

Oracles by hand: with 2 degrees of freedom the paired t-test's two-sided p is 1 − t / sqrt(t² + 2);
Welch's t and degrees of freedom from their formulas; Holm on a list adjusted by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from mnist_dvc.analysis.across_seeds import PAIRED, WELCH
from mnist_dvc.analysis.between_runs import (
    INTERVAL_SCOPE,
    MEASURED,
    MODEL_TOTAL,
    NO_INTERVAL,
    STACK_SHARE,
    RunValues,
    compare_runs,
    difference_text,
    estimate,
    estimate_text,
    family_note,
    from_comparison,
    holm,
    seed_groups,
    time_kind,
)
from mnist_dvc.core.contracts import COMPARISON_FILE
from mnist_dvc.core.records.comparison import Comparison
from tests.helpers import ROOT

LOSS, TIME = "min_test_loss", "train_time_s"
T_975_DF2 = 4.303  # Student's t, two-sided 95%, 2 degrees of freedom (printed table)


def run(name: str, losses: dict[int, float], times: dict[int, float] | None = None,
        time_kind: str = MEASURED) -> RunValues:
    values = {LOSS: losses, TIME: times or {seed: 10.0 + seed for seed in losses}}
    return RunValues(name, {"model_a": values}, {"model_a": time_kind})


def paired_p(t: float) -> float:
    return 1 - t / math.sqrt(t * t + 2)


BASE = run("base", {42: 1.0, 43: 2.0, 44: 3.0})
# Differences to BASE: 0.01, 0.012, 0.014 (sd 0.002, t = 6 sqrt 3) and 0.01, 0.015, 0.02 (t = 3 sqrt 3).
CLOSE = run("close", {42: 1.01, 43: 2.012, 44: 3.014})
LOOSE = run("loose", {42: 1.01, 43: 2.015, 44: 3.02})
# Other seeds: 4, 6, 8 against 1, 2, 3, Welch's t-test.
OTHER_SEEDS = run("other-seeds", {45: 4.0, 46: 6.0, 47: 8.0})


def test_holm_on_a_known_list():
    """Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04, then made
    non-decreasing: 0.02, 0.03, 0.06, 0.06; back in the order given."""
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([]) == []


def test_estimate_of_three_seeds():
    """Losses 1, 2, 3: mean 2, sd 1, 95% CI 2 ± 4.303 / sqrt 3."""
    result = estimate(BASE, "model_a", LOSS)
    half = T_975_DF2 / math.sqrt(3)
    assert (result.n, result.value, result.mean, result.note) == (3, 2.0, True, None)
    assert (result.low, result.high) == pytest.approx((2 - half, 2 + half), rel=1e-3)
    assert result.values == (1.0, 2.0, 3.0)


def test_two_seeds_have_no_interval():
    result = estimate(run("two", {42: 1.0, 43: 2.0}), "model_a", LOSS)
    assert (result.value, result.low, result.note) == (1.5, None, NO_INTERVAL)


def test_stacked_time_is_one_measurement():
    stacked = run("stacked", {42: 1.0, 43: 2.0, 44: 3.0}, {42: 20.0, 43: 20.0, 44: 20.0}, STACK_SHARE)
    result = estimate(stacked, "model_a", TIME)
    assert (result.value, result.mean, result.low) == (20.0, False, None)
    assert "one measurement" in result.note
    uneven = run("uneven", {42: 1.0}, {42: 20.0, 43: 21.0}, STACK_SHARE)
    with pytest.raises(ValueError, match="uneven: train_time_s differs between seeds"):
        estimate(uneven, "model_a", TIME)


def test_runs_grouped_by_seed_set():
    groups = seed_groups({"a": [44, 42, 43], "b": [42, 43, 44], "c": [42, 43]})
    assert [(g.label, g.seeds, g.runs) for g in groups] == [("S1", (42, 43, 44), ("a", "b")),
                                                              ("S2", (42, 43), ("c",))]


def by_run(results):
    return {(c.run, c.criterion): c for c in results}


def test_paired_welch_and_holm_over_every_test():
    results = by_run(compare_runs([BASE, CLOSE, LOOSE, OTHER_SEEDS], "base", criteria=[LOSS]))
    close, loose, other = (results[name, LOSS] for name in ("close", "loose", "other-seeds"))
    assert (close.test, close.paired_seeds, loose.test, other.test) == (PAIRED, (42, 43, 44), PAIRED, WELCH)
    # paired: closed form with 2 degrees of freedom, and the interval from the printed t
    assert close.p_value == pytest.approx(paired_p(6 * math.sqrt(3)), rel=1e-9)
    assert loose.p_value == pytest.approx(paired_p(3 * math.sqrt(3)), rel=1e-9)
    assert close.difference == pytest.approx(0.012)
    assert close.ci == pytest.approx((0.012 - T_975_DF2 * 0.002 / math.sqrt(3),
                                      0.012 + T_975_DF2 * 0.002 / math.sqrt(3)), rel=1e-3)
    # Welch: t = (6 − 2) / sqrt(4/3 + 1/3), df = (5/3)² / ((4/3)²/2 + (1/3)²/2) = 50/17
    t, df = 4 / math.sqrt(5 / 3), 50 / 17
    assert other.difference == pytest.approx(4.0)
    assert other.df == pytest.approx(df)
    assert other.p_value == pytest.approx(2 * stats.t.sf(t, df), rel=1e-9)
    # Holm over the three: 0.00913 · 3, 0.0351 · 2, then 0.0548 raised to 0.0702
    assert [c.tests for c in (close, loose, other)] == [3, 3, 3]
    assert close.p_adjusted == pytest.approx(3 * close.p_value)
    assert loose.p_adjusted == pytest.approx(2 * loose.p_value)
    assert other.p_adjusted == pytest.approx(2 * loose.p_value)
    assert loose.p_value < 0.05 < loose.p_adjusted, "significant alone, not after the adjustment"
    assert (loose.verdict, other.verdict) == (None, None)
    assert family_note(list(results.values())).startswith(
        "p-values adjusted with Holm's method over the 3 tests shown (2 paired by seed, 1 Welch's); "
        "1 significant")


def test_verdict_names_the_better_run_and_the_adjusted_p():
    """Lower loss is better: the baseline wins on every seed, so it is named first, and a seed of it
    beats one of `close` with probability 1 (3 wins of 3: 95% CI 0.29 to 1.00)."""
    results = by_run(compare_runs([BASE, CLOSE, OTHER_SEEDS], "base", criteria=[LOSS]))
    close = results["close", LOSS]
    assert close.superiority.probability == 0.0
    assert close.p_adjusted == pytest.approx(2 * close.p_value)
    assert close.verdict == (
        "base is better than close on model_a's min test loss: mean 2.0000 vs 2.0120 over the same 3 seeds "
        "(seeds 42-44); close − base = +0.0120 (95% CI +0.0070 to +0.0170); paired t-test, Holm-adjusted "
        f"p = {2 * close.p_value:.3g} over 2 tests. A seed of base beats one of close with probability 1.00 "
        "(95% CI 0.29 to 1.00).")


def test_time_without_per_seed_spread_is_not_tested():
    stacked = run("stacked", {42: 1.01, 43: 2.012, 44: 3.014}, {42: 5.0, 43: 5.0, 44: 5.0}, STACK_SHARE)
    results = by_run(compare_runs([BASE, stacked, CLOSE], "base", criteria=[LOSS, TIME]))
    assert results["stacked", TIME].test is None
    assert results["stacked", TIME].difference == pytest.approx(5.0 - 53.0)
    assert "one measurement per model in stacked" in results["stacked", TIME].note
    assert results["close", TIME].note == "none needed: the same difference on every seed"
    assert all(c.tests == 2 for c in results.values() if c.test), "the loss tests only"


def test_too_few_seeds_are_not_tested():
    two = run("two", {42: 1.5, 43: 2.5})
    (result,) = compare_runs([BASE, two], "base", criteria=[LOSS])
    assert (result.test, result.p_value, result.difference) == (None, None, 0.0)
    assert result.note == "no interval and no test: fewer than 3 seeds"


def test_baseline_must_be_among_the_runs():
    with pytest.raises(ValueError, match="the baseline 'HEAD' is not among the runs"):
        compare_runs([BASE, CLOSE], "HEAD")


def test_from_comparison_reads_every_seed():
    comparison = Comparison.read(ROOT / COMPARISON_FILE)  # the committed run: 3 seeds per model
    result = from_comparison("HEAD", comparison, {"model_a": STACK_SHARE, "model_b": MEASURED})
    for model, entry in comparison.models.items():
        assert result.seeds(model) == tuple(entry.seeds)
        assert result.values[model][LOSS] == {seed: run.min_test_loss for seed, run in entry.runs.items()}
        assert result.values[model][TIME] == {seed: run.train_time_s for seed, run in entry.runs.items()}


def test_what_the_interval_covers():
    assert all(words in INTERVAL_SCOPE for words in ("initial weights", "batches", "test set"))


def test_time_kind_from_the_seeds_labels():
    """Per seed only when every seed was timed on its own; a seed without a label (an older log)
    makes the model's time the wall time of all seeds."""
    assert time_kind(["measured"] * 3) == MEASURED
    assert time_kind(["stack_share"] * 3) == STACK_SHARE
    assert time_kind(["measured", None]) == MODEL_TOTAL
    with pytest.raises(ValueError, match="unknown timing label 'guessed'"):
        time_kind(["measured", "guessed"])
    with pytest.raises(ValueError, match="model_b's time kind None"):
        RunValues("exp", {"model_a": {}, "model_b": {}}, {"model_a": MEASURED})


def test_texts_of_an_estimate_and_a_difference():
    assert estimate_text(estimate(BASE, "model_a", LOSS)) == "2.0 ± 2.5 (n = 3)"
    assert estimate_text(estimate(run("two", {42: 1.0, 43: 2.0}), "model_a", LOSS)) == \
        "mean 1.50 (n = 2, no interval: fewer than 3 seeds)"
    (close,) = compare_runs([BASE, CLOSE], "base", criteria=[LOSS])
    assert difference_text(close) == "+0.0120 (95% CI +0.0070 to +0.0170)"
