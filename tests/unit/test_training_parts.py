"""The pieces of the training stage on their own: models, progress file, checkpoints, shuffles."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from mnist_dvc.core.contracts import MEASURED, STACK_SHARE
from mnist_dvc.core.errors import ProjectError
from mnist_dvc.core.params import load_params
from mnist_dvc.training import seeds
from mnist_dvc.training.checkpoint import Checkpoints, checkpoint_key, resume_promise
from mnist_dvc.training.fused_epoch import KerasChanged, adam_slots
from mnist_dvc.training.model import build_model, parameter_count
from mnist_dvc.training.progress import EpochTime, Progress
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
    assert "timing" not in doc and doc["last"] == doc["best"] == {}  # said once an epoch is timed
    # Three stacked seeds: each seed's time is a third of the model's epoch.
    progress.record_epoch(1, {"train_loss": 0.5, "train_accuracy": 0.8, "test_loss": 0.4,
                              "test_accuracy": 0.85}, EpochTime(5.0 / 3, 5.0, STACK_SHARE))
    progress.record_epoch(2, {"train_loss": 0.3, "train_accuracy": 0.9, "test_loss": 0.45,
                              "test_accuracy": 0.84}, EpochTime(1.0 / 3, 1.0, STACK_SHARE))
    progress.write("running")
    doc = json.loads((tmp_path / "progress.json").read_text())
    assert (doc["epoch"], doc["elapsed_s"], doc["epoch_s"]) == (2, 2.0, 0.3333)
    assert (doc["timing"], doc["model_elapsed_s"]) == ("stack_share", 6.0)
    assert doc["eta_s"] == pytest.approx(3.0 * 8)  # the model's wall time: median of (5, 1) s, 8 epochs left
    assert doc["best"] == {"test_accuracy": 0.85, "test_accuracy_epoch": 1, "train_accuracy": 0.9,
                           "train_loss": 0.3, "test_loss": 0.4}
    assert doc["last"]["test_accuracy"] == 0.84
    resumed = Progress(tmp_path / "resumed.json", "model_a", seed=43, epochs=10, backend="tensorflow")
    resumed.restore(2, json.loads(json.dumps(progress.snapshot())))  # as a checkpoint keeps it
    resumed.write("running")
    assert json.loads(resumed.path.read_text()) | {"updated_at": None} == doc | {"updated_at": None}
    progress.write("failed", "boom")
    doc = json.loads((tmp_path / "progress.json").read_text())
    assert (doc["state"], doc["error"], doc["eta_s"]) == ("failed", "boom", None)
    with pytest.raises(ValueError):
        progress.write("exploded")
    with pytest.raises(ValueError, match="unknown timing 'guessed'"):
        progress.record_epoch(3, doc["last"], EpochTime(1.0, 1.0, "guessed"))


class _Clock:
    """A perf_counter that moves only when a fake runner says how long its work took."""

    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now

    def work(self, seconds: float, result):
        self.now += seconds
        return result


def test_each_seed_is_timed_alone_one_after_another_and_shares_a_stacked_epoch(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(seeds, "time", clock)

    class Runner:  # one seed's compiled epoch: training then validation, each taking its seconds
        def __init__(self, train_s: float, test_s: float) -> None:
            self.train = lambda order: clock.work(train_s, (0.5, 0.8))
            self.evaluate = lambda: clock.work(test_s, (0.4, 0.9))

    sequential = object.__new__(seeds.SequentialSeeds)
    sequential.runners = [Runner(2.0, 1.0), Runner(4.0, 0.5), Runner(0.25, 0.25)]
    epochs = sequential.epoch([np.arange(3)] * 3)
    assert sequential.timing == MEASURED
    assert [e.seconds for e in epochs] == [3.0, 4.5, 0.5]
    assert epochs[0] == seeds.SeedEpoch((0.5, 0.8), (0.4, 0.9), 3.0)

    class Stack:  # all seeds in one compiled epoch: per-seed (loss, accuracy) arrays
        def train(self, orders):
            return clock.work(6.0, (np.array([0.5, 0.6, 0.7]), np.array([0.8, 0.7, 0.6])))

        def evaluate(self):
            return clock.work(1.5, (np.array([0.4, 0.5, 0.6]), np.array([0.9, 0.8, 0.7])))

    stacked = object.__new__(seeds.StackedSeeds)
    stacked.seeds, stacked.stacked = (1, 2, 3), Stack()
    epochs = stacked.epoch([np.arange(3)] * 3)
    assert stacked.timing == STACK_SHARE
    assert [e.seconds for e in epochs] == [2.5, 2.5, 2.5]  # (6 + 1.5) s / 3 seeds
    assert [e.train for e in epochs] == [(0.5, 0.8), (0.6, 0.7), (0.7, 0.6)]


def test_adam_slots_are_read_in_one_place_that_names_a_renamed_keras_attribute():
    import keras

    params = load_params(ROOT / "params.yaml")
    net = build_model(params.models["model_a"], params.train)
    optimizer = keras.optimizers.Adam()
    optimizer.build(net.trainable_variables)
    slots = adam_slots(optimizer, net.trainable_variables)
    assert [(tuple(m.shape), tuple(v.shape)) for m, v in slots] == [(tuple(w.shape),) * 2
                                                                     for w in net.trainable_variables]
    assert len({id(s) for pair in slots for s in pair}) == 2 * len(net.trainable_variables)

    class Renamed:  # a Keras release that renamed the velocities
        _get_variable_index = optimizer._get_variable_index
        _momentums = optimizer._momentums

    with pytest.raises(KerasChanged) as failed:
        adam_slots(Renamed(), net.trainable_variables)
    message = str(failed.value)
    assert "\n" not in message and isinstance(failed.value, ProjectError)
    assert message.startswith(f"Keras {keras.__version__}: its Adam has no _velocities;")
    assert "adam_slots" in message and "keras==3.15" in message

    class Reordered(Renamed):  # the names kept, but the lists hold something else
        _velocities = optimizer._momentums[::-1]

    with pytest.raises(KerasChanged, match=r"slots of \S+ have shapes"):
        adam_slots(Reordered(), net.trainable_variables)


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


def test_a_stopped_run_promises_a_resume_only_where_its_checkpoint_survives(tmp_path):
    """A queue worker's copy under .dvc/tmp/exps/ is deleted by DVC with its checkpoint (issue 22.5)."""
    assert resume_promise(3, tmp_path) == "checkpoint saved, `dvc repro` resumes from epoch 4"
    queued = resume_promise(3, tmp_path / ".dvc" / "tmp" / "exps" / "tmpab12cd")
    assert "deletes with its checkpoint" in queued and "starts from epoch 1" in queued
    assert "resumes" not in queued
