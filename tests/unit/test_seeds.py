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


KINDS = [f"{model}-{way}" for model in ("model_a", "model_b") for way in ("sequential", "stacked")]


@pytest.mark.parametrize("kind", KINDS)
def test_each_seed_starts_from_set_random_seed_and_build_model(compared: dict, kind: str) -> None:
    assert compared[kind]["seeds"] == [5, 3, 9]
    assert compared[kind]["initial"] == 0.0
    assert compared[kind]["between_seeds"] > 0.01, "different seeds start from different weights"


@pytest.mark.parametrize("kind", KINDS)
def test_seed_s_of_several_trains_as_a_single_seed_run_with_seed_s(compared: dict, kind: str) -> None:
    # Stacked seeds sum their batched products in another order than the single-seed epoch:
    # equal within float32 rounding after two epochs, not bit for bit.
    assert compared[kind]["log"] < 1e-6
    assert compared[kind]["weights"] < 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_restored_state_replays_the_epoch_exactly(compared: dict, kind: str) -> None:
    assert compared[kind]["restore"] == 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_the_model_to_save_holds_that_seeds_weights(compared: dict, kind: str) -> None:
    assert compared[kind]["saved_model_is_seed"] == 0.0


def test_one_seed_trains_alone_even_with_stack_seeds(compared: dict) -> None:
    """Nothing to stack with: one seed takes the single-seed epoch, the faster one (make bench)."""
    runners = compared["one_seed_with_stack_seeds"]
    assert runners == {"model_a": "SequentialSeeds", "model_b": "SequentialSeeds"}
