"""The compiled epoch (stages/epoch.py) computes what plain `fit` computes, on both backends."""

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


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("samples", [1000, 40], ids=["short-last-batch", "less-than-one-batch"])
def test_compiled_epoch_matches_plain_fit(backend, samples):
    script = ROOT / "tests" / "unit" / "epoch_vs_fit.py"
    proc = run([sys.executable, str(script), backend, str(samples), "64", "3"], ROOT, PYTHONPATH=str(ROOT))
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    steps = 3 * math.ceil(samples / 64)
    assert result["iterations"] == [steps, steps]
    assert result["weights_moved"] > 1e-3
    assert result["weight_diff"] < 1e-5
    assert result["metric_diff"] < 1e-5
