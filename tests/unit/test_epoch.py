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


def compare(backend: str, samples: int, path: str, epochs: int = 3) -> dict:
    script = ROOT / "tests" / "unit" / "epoch_vs_fit.py"
    proc = run([sys.executable, str(script), backend, str(samples), "64", str(epochs), path], ROOT,
               PYTHONPATH=str(ROOT))
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("samples", "path"), CASES)
def test_compiled_epoch_matches_plain_fit(backend, samples, path):
    result = compare(backend, samples, path)
    steps = 3 * math.ceil(samples / 64)
    assert result["iterations"] == [steps, steps]
    assert result["weights_moved"] > 1e-3
    assert result["weight_diff"] < 1e-5
    assert result["optimizer_diff"] < 1e-6  # Adam's moments, its counter and learning rate
    assert result["metric_diff"] < 1e-5
    # The fused Adam update is Keras' own, from the first step and from step 1001 on.
    assert result["adam_gap"] <= 1e-8
    # The project's models take the fused path; other optimizers fall back to Keras' own.
    assert result["fused_unsupported"] == {"adam": None, "sgd": "optimizer SGD"}
