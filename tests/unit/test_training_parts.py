"""The pieces of the training stage on their own: models, progress file, checkpoints, shuffles."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from mnist_dvc.core.params import load_params
from mnist_dvc.training.checkpoint import Checkpoints, checkpoint_key
from mnist_dvc.training.model import build_model, parameter_count
from mnist_dvc.training.progress import Progress
from mnist_dvc.training.seeds import SeedState
from mnist_dvc.training.trainer import epoch_permutation
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def params():
    return load_params(ROOT / "params.yaml")


def test_parameter_counts_match_the_assignment_architectures(params):
    assert parameter_count(params.models["model_a"]) == 67_466
    assert parameter_count(params.models["model_b"]) == 399_498


@pytest.mark.parametrize("name", ["model_a", "model_b"])
def test_keras_models_have_the_declared_shapes(params, name):
    net = build_model(params.models[name], params.train)
    dense = net.layers
    assert [layer.units for layer in dense] == [*params.models[name].hidden, 10]
    assert [layer.activation.__name__ for layer in dense] == ["relu"] * 3 + ["softmax"]
    assert net.input_shape == (None, 784)
    assert net.output_shape == (None, 10)
    assert net.count_params() == parameter_count(params.models[name])


def test_epoch_permutation_depends_on_seed_and_epoch_only():
    first = epoch_permutation(42, 3, 1000)
    assert sorted(first.tolist()) == list(range(1000))
    assert np.array_equal(first, epoch_permutation(42, 3, 1000))
    assert not np.array_equal(first, epoch_permutation(42, 4, 1000))
    assert not np.array_equal(first, epoch_permutation(43, 3, 1000))


def test_progress_tracks_best_and_estimates_time_left(tmp_path):
    progress = Progress(tmp_path / "progress.json", "model_a", seed=43, epochs=10, backend="tensorflow")
    progress.write("running")
    doc = json.loads((tmp_path / "progress.json").read_text())
    assert (doc["state"], doc["epoch"], doc["eta_s"], doc["seed"]) == ("running", 0, None, 43)
    assert doc["last"] == doc["best"] == {}
    progress.record_epoch(1, 5.0, 5.0, {"train_loss": 0.5, "train_accuracy": 0.8,
                                        "test_loss": 0.4, "test_accuracy": 0.85})
    progress.record_epoch(2, 1.0, 6.0, {"train_loss": 0.3, "train_accuracy": 0.9,
                                        "test_loss": 0.45, "test_accuracy": 0.84})
    progress.write("running")
    doc = json.loads((tmp_path / "progress.json").read_text())
    assert doc["epoch"] == 2 and doc["elapsed_s"] == 6.0 and doc["epoch_s"] == 1.0
    assert doc["eta_s"] == pytest.approx(3.0 * 8)  # median of (5, 1) s for the 8 epochs left
    assert doc["best"] == {"test_accuracy": 0.85, "test_accuracy_epoch": 1, "train_accuracy": 0.9,
                           "train_loss": 0.3, "test_loss": 0.4}
    assert doc["last"]["test_accuracy"] == 0.84
    progress.write("failed", "boom")
    doc = json.loads((tmp_path / "progress.json").read_text())
    assert (doc["state"], doc["error"], doc["eta_s"]) == ("failed", "boom", None)
    with pytest.raises(ValueError):
        progress.write("exploded")


def test_checkpoint_key_changes_with_params_data_and_code(params, tmp_path):
    data, code = tmp_path / "x.npy", tmp_path / "train.py"
    data.write_bytes(b"data")
    code.write_text("code")
    model = params.models["model_a"]

    def key(**changes):
        train = replace(params.train, **changes)
        return checkpoint_key(params.data, train, model, [data], [code])

    base = key()
    assert key() == base
    assert key(learning_rate=0.002) != base
    assert key(checkpoint_every=3) == base  # how often it is saved changes no number
    assert checkpoint_key(params.data, params.train, params.models["model_b"], [data], [code]) != base
    data.write_bytes(b"other data")
    assert key() != base
    data.write_bytes(b"data")
    code.write_text("changed code")
    assert key() != base


def test_checkpoints_hold_every_seed_and_only_the_latest(tmp_path):
    log = tmp_path / "log"
    (log / "seed_1" / "plots").mkdir(parents=True)
    (log / "seed_1" / "metrics.json").write_text("{}")
    ckpts = Checkpoints("model_a", "k1", root=tmp_path / "ckpt")
    assert ckpts.latest() is None

    def states(scale: float) -> dict[int, SeedState]:
        return {seed: SeedState([np.full((2, 2), seed * scale, np.float32), np.ones(3, np.float32)],
                                [np.array(7 + seed), np.zeros(3)]) for seed in (1, 0)}

    ckpts.save(2, states(1.0), {"train_time_s": 1.5}, log)
    final = ckpts.save(4, states(2.0), {"train_time_s": 3.0}, log)
    assert ckpts.latest() == final and final.name == "epoch-00004"
    assert [p.name for p in ckpts.dir.iterdir()] == ["epoch-00004"]  # older ones dropped
    (ckpts.dir / ".tmp-half-written").mkdir()  # a save killed midway is never picked
    state, seeds, saved_log = Checkpoints.load(ckpts.latest())
    assert state["epoch"] == 4 and state["train_time_s"] == 3.0
    assert sorted(seeds) == [0, 1]
    for seed, expected in states(2.0).items():
        assert len(seeds[seed].weights) == 2 and len(seeds[seed].optimizer) == 2
        for got, want in zip(seeds[seed].weights + seeds[seed].optimizer,
                             expected.weights + expected.optimizer, strict=True):
            assert np.array_equal(got, want)
    assert (saved_log / "seed_1" / "metrics.json").read_text() == "{}"

    other = Checkpoints("model_a", "k2", root=tmp_path / "ckpt")
    other.discard_stale()
    assert not ckpts.dir.exists()
