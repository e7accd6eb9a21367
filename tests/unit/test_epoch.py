"""The compiled epoch (mnist_dvc/training/epoch.py, fused_epoch.py) computes what plain `fit`
computes, on both backends, and its fused Adam is Keras' Adam."""

from __future__ import annotations

import importlib.util
import json
import math
import sys

import pytest

from tests.helpers import ROOT, run

BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(importlib.util.find_spec(b) is None,
                                                       reason=f"{b} is not installed"))
            for b in ("tensorflow", "jax")]
CASES = [pytest.param(1000, "fused", id="fused-short-last-batch"),
         pytest.param(40, "fused", id="fused-less-than-one-batch"),
         pytest.param(1000, "keras", id="keras-path-short-last-batch")]
EPOCHS = 3


@pytest.fixture(scope="module", params=BACKENDS)
def compared(request) -> tuple[str, dict]:
    """Every case on one backend, in one fresh process (the backend's import is paid once)."""
    script = ROOT / "tests" / "unit" / "epoch_vs_fit.py"
    cases = [f"{case.values[0]}:{case.values[1]}" for case in CASES]
    proc = run([sys.executable, str(script), request.param, "64", str(EPOCHS), *cases], ROOT,
               PYTHONPATH=str(ROOT))
    return request.param, json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("samples", "path"), CASES)
def test_compiled_epoch_matches_plain_fit(compared, samples, path):
    _, found = compared
    result = found["cases"][f"{samples}:{path}"]
    steps = EPOCHS * math.ceil(samples / 64)
    assert result["iterations"] == [steps, steps]
    assert result["weights_moved"] > 1e-3
    assert result["weight_diff"] < 1e-5
    assert result["optimizer_diff"] < 1e-6  # Adam's moments, its counter and learning rate
    assert result["metric_diff"] < 1e-5


def test_fused_adam_is_keras_adam_and_other_optimizers_fall_back(compared):
    _, found = compared
    # The fused Adam update is Keras' own, from the first step and from step 1001 on.
    assert found["adam_gap"] <= 1e-8
    # The project's models take the fused path; other optimizers fall back to Keras' own.
    assert found["fused_unsupported"] == {"adam": None, "sgd": "optimizer SGD"}
