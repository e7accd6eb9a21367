"""Every seed of one model, one epoch at a time: the runner the trainer drives.

The trainer never steps a single seed: it asks for one epoch of all of a model's seeds
(`train(orders)`, then `evaluate()`), and moves weights in and out per seed for its
checkpoints and saved models. How the seeds are computed is this module's choice alone,
so a runner that vectorises over seeds (the seeds' weights stacked, one compiled call for
all of them) can replace `SequentialSeeds` behind the same `SeedsRunner` interface.

`SequentialSeeds` composes one single-seed compiled epoch (epoch.py) per seed and runs
them one after another: S seeds cost S runs. It is the reference the vectorised runner
must agree with: seed s starts from exactly the network a single-seed run with
`train.seed = s` starts from (`initial_model`), and trains on the batches that seed's
permutation gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mnist_dvc.core.params import ModelParams, TrainParams
from mnist_dvc.training.epoch import epoch_runner
from mnist_dvc.training.model import build_model, compile_model

if TYPE_CHECKING:
    import keras


@dataclass
class SeedState:
    """One seed's training state between epochs: what a checkpoint keeps.

    `weights` in the order of Keras' `net.get_weights()`, `optimizer` in the order of
    `net.optimizer.variables` (its step counter first, then its slots), both as numpy arrays.
    """

    weights: list[np.ndarray]
    optimizer: list[np.ndarray]


class SeedsRunner(Protocol):
    """One model's seeds, trained together; list positions follow `seeds`."""

    seeds: tuple[int, ...]

    def train(self, orders: Sequence[np.ndarray]) -> list[tuple[float, float]]:
        """One epoch of every seed, seed i on the batches `orders[i]` defines;
        (loss, accuracy) per seed, averaged over the epoch's samples."""
        ...

    def evaluate(self) -> list[tuple[float, float]]:
        """(loss, accuracy) of each seed's current weights on the test set."""
        ...

    def state(self) -> list[SeedState]:
        """Each seed's current weights and optimizer variables (copies)."""
        ...

    def restore(self, states: Sequence[SeedState]) -> None:
        """Continue from a checkpoint: set each seed's weights and optimizer variables."""
        ...

    def model(self, index: int) -> keras.Model:
        """A compiled Keras model holding seed `seeds[index]`'s current weights and
        optimizer state: what is saved as that seed's `.keras` file."""
        ...


def initial_model(model: ModelParams, train: TrainParams, seed: int) -> keras.Model:
    """The compiled network a run with `train.seed = seed` starts from."""
    import keras

    keras.utils.set_random_seed(seed)
    net = build_model(model, train)
    compile_model(net, train)
    return net


def seeds_runner(model: ModelParams, train: TrainParams, x: np.ndarray, y: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray) -> SeedsRunner:
    """The runner for every seed of `train.seed_list`; `y`, `y_test` one-hot."""
    return SequentialSeeds(model, train, x, y, x_test, y_test)


class SequentialSeeds:
    """One Keras model and one compiled epoch per seed, run one seed after another."""

    def __init__(self, model: ModelParams, train: TrainParams, x: np.ndarray, y: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray) -> None:
        self.seeds = train.seed_list
        self.nets = [initial_model(model, train, seed) for seed in self.seeds]
        self.runners = [epoch_runner(net, train.loss, train.batch_size, x, y, x_test, y_test)
                        for net in self.nets]

    def train(self, orders: Sequence[np.ndarray]) -> list[tuple[float, float]]:
        return [runner.train(order) for runner, order in zip(self.runners, orders, strict=True)]

    def evaluate(self) -> list[tuple[float, float]]:
        return [runner.evaluate() for runner in self.runners]

    def state(self) -> list[SeedState]:
        return [SeedState(net.get_weights(), [np.array(v) for v in net.optimizer.variables])
                for net in self.nets]

    def restore(self, states: Sequence[SeedState]) -> None:
        for net, state in zip(self.nets, states, strict=True):
            net.set_weights(state.weights)
            for variable, value in zip(net.optimizer.variables, state.optimizer, strict=True):
                variable.assign(value)

    def model(self, index: int) -> keras.Model:
        return self.nets[index]
