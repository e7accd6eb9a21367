"""McNemar between two runs on every common seed: the disagreement image sets, exact p's by hand,
Holm over the seeds, and the seeds only one run has named.

With d disagreements all one way the exact two-sided p is 2 · (1/2)^d; with one against the rest
of d it is 2 · (1 + d) / 2^d."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_dvc.analysis.mcnemar_seeds import mcnemar_by_seed

ACTUAL = np.arange(20) % 10


def predictions(wrong: list[int]) -> np.ndarray:
    """The true labels, except a wrong digit on the images listed."""
    predicted = ACTUAL.copy()
    predicted[wrong] = (predicted[wrong] + 1) % 10
    return predicted


# seed 42: A alone right on 0-5 (6 images), B alone right on none, both wrong on 19: p = 2/64
# seed 43: A alone right on 0-7 (8), p = 2/256; seed 44: one image each way (3 and 4), p = 1
A = {42: (ACTUAL, predictions([19])), 43: (ACTUAL, predictions([])), 44: (ACTUAL, predictions([4])),
     45: (ACTUAL, predictions([]))}
B = {42: (ACTUAL, predictions([0, 1, 2, 3, 4, 5, 19])), 43: (ACTUAL, predictions(list(range(8)))),
     44: (ACTUAL, predictions([3])), 41: (ACTUAL, predictions([]))}


def test_every_common_seed_with_its_images():
    result = mcnemar_by_seed("exp-a", "exp-b", "model_a", A, B)
    assert [t.seed for t in result.tests] == [42, 43, 44]
    assert (result.only_in_first, result.only_in_second) == ((45,), (41,))
    by_seed = {t.seed: t for t in result.tests}
    assert by_seed[42].only_first_right == (0, 1, 2, 3, 4, 5) and by_seed[42].only_second_right == ()
    assert by_seed[43].only_first_right == tuple(range(8))
    assert (by_seed[44].only_first_right, by_seed[44].only_second_right) == ((3,), (4,))
    assert [by_seed[s].p_value for s in (42, 43, 44)] == pytest.approx([2 / 64, 2 / 256, 1.0])
    # Holm over 3 seeds: 2/256 · 3 = 0.0234, 2/64 · 2 = 0.0625, 1
    assert [by_seed[s].p_adjusted for s in (42, 43, 44)] == pytest.approx([0.0625, 6 / 256, 1.0])
    assert [by_seed[s].better for s in (42, 43, 44)] == [-1, 0, -1], "seed 42: significant alone only"


def test_summary_names_every_seed():
    summary = mcnemar_by_seed("exp-a", "exp-b", "model_a", A, B).summary()
    assert "seed by seed (seeds 42-44), p Holm-adjusted over the 3 seeds" in summary
    assert "exp-a better on seed 43 (adjusted p = 0.0234; only exp-a right: 8, only exp-b right: 0)" \
        in summary
    assert "exp-b better on no seed" in summary
    assert ("no significant difference on seeds 42 (adjusted p = 0.0625; only exp-a right: 6, only exp-b "
            "right: 0), 44 (adjusted p = 1; only exp-a right: 1, only exp-b right: 1)") in summary
    assert "differ on the test set (smallest adjusted p = 0.0234, seed 43)" in summary
    assert "Seeds only exp-a has, not compared: 45." in summary
    assert "Seeds only exp-b has, not compared: 41." in summary


def test_no_common_seed():
    result = mcnemar_by_seed("exp-a", "exp-b", "model_a", {45: A[45]}, {41: B[41]})
    assert result.tests == ()
    assert result.summary().startswith("McNemar (model_a): exp-a and exp-b have no seed in common.")


def test_different_test_images_are_refused():
    other = {42: (ACTUAL[::-1].copy(), ACTUAL[::-1].copy())}
    with pytest.raises(ValueError, match="model_a seed 42: exp-a and exp-b were tested on different test"):
        mcnemar_by_seed("exp-a", "exp-b", "model_a", A, other)
