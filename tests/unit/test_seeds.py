"""Seeds trained together (mnist_dvc/training/seeds.py) are the single-seed runs, on both backends."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.helpers import ROOT, run

BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(importlib.util.find_spec(b) is None,
                                                       reason=f"{b} is not installed"))
            for b in ("tensorflow", "jax")]


@pytest.fixture(scope="module", params=BACKENDS)
def compared(request) -> dict:
    script = ROOT / "tests" / "unit" / "seeds_vs_single.py"
    proc = run([sys.executable, str(script), request.param], ROOT, PYTHONPATH=str(ROOT))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_each_seed_starts_from_set_random_seed_and_build_model(compared: dict) -> None:
    assert compared["seeds"] == [5, 3, 9]
    assert compared["initial"] == 0.0
    assert compared["between_seeds"] > 0.01, "different seeds start from different weights"


def test_seed_s_of_several_trains_as_a_single_seed_run_with_seed_s(compared: dict) -> None:
    assert compared["log"] < 1e-6
    assert compared["weights"] < 1e-6


def test_restored_state_replays_the_epoch_exactly(compared: dict) -> None:
    assert compared["restore"] < 1e-6


def test_the_model_to_save_holds_that_seeds_weights(compared: dict) -> None:
    assert compared["saved_model_is_seed"] == 0.0
