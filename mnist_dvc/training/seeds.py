"""Every seed of one model, one epoch at a time: the runner the trainer drives.

The trainer never steps a single seed: it asks for one epoch of all of a model's seeds
(`train(orders)`, then `evaluate()`), and moves weights in and out per seed for its
checkpoints and saved models. How the seeds are computed is this module's choice alone,
behind the one `SeedsRunner` interface:

- `SequentialSeeds` composes one single-seed compiled epoch (epoch.py) per seed and runs
  them one after another: S seeds cost S runs. It is the reference: seed s starts from
  exactly the network a single-seed run with `train.seed = s` starts from (`initial_model`),
  and trains on the batches that seed's permutation gives, as `fit` would.
- `StackedSeeds` trains all seeds in one compiled epoch (stacked_epoch.py), their weights
  and Adam moments stacked along a leading axis. It computes what `SequentialSeeds` computes,
  up to the summation order inside the batched matrix products (tests/unit/test_seeds.py).

Each also says how long each seed's epoch took (`epoch`): one after another every seed is timed
on its own (`measured`); stacked, the seeds share one compiled epoch, so each is given its share,
the epoch's time divided by the number of seeds (`stack_share`), and there is no per-seed spread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mnist_dvc.core.contracts import MEASURED, STACK_SHARE
from mnist_dvc.core.params import ModelParams, ParamsError, TrainParams
from mnist_dvc.training.epoch import epoch_runner
from mnist_dvc.training.fused_epoch import Plan, assign_values, fused_unsupported
from mnist_dvc.training.model import build_model, compile_model
from mnist_dvc.training.stacked_epoch import STACKED_EPOCHS, Stack

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


@dataclass(frozen=True)
class SeedEpoch:
    """One seed's epoch: (loss, accuracy) of its training and on the test set, and its seconds
    (training and validation), found as its runner's `timing` says."""

    train: tuple[float, float]
    test: tuple[float, float]
    seconds: float


class SeedsRunner(Protocol):
    """One model's seeds, trained together; list positions follow `seeds`."""

    seeds: tuple[int, ...]
    timing: str  # how `epoch` finds each seed's seconds: contracts.MEASURED or STACK_SHARE

    def epoch(self, orders: Sequence[np.ndarray]) -> list[SeedEpoch]:
        """One epoch of every seed, training then validation, seed i on the batches `orders[i]`
        defines, with each seed's time."""
        ...

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
    """The runner for every seed of `train.seed_list`; `y`, `y_test` one-hot.

    `models.<name>.stack_seeds` chooses: stacked (`StackedSeeds`, one compiled epoch for all
    seeds) or one seed after another (`SequentialSeeds`). Stacking removes per-step overhead,
    not arithmetic, so it pays for a small network and can lose for a large one (batched
    products of one seed's size are no faster than single ones on a CPU); `make bench` measures
    both for each model. One seed has nothing to stack with: it trains as one seed alone, the
    faster way."""
    nets = [initial_model(model, train, seed) for seed in train.seed_list]
    if not model.stack_seeds:
        return SequentialSeeds(nets, train, x, y, x_test, y_test)
    why_not = fused_unsupported(nets[0], train.loss)
    if why_not:
        raise ParamsError(f"models.{model.name}.stack_seeds: seeds stack only for a Dense stack trained "
                         f"by plain Adam ({why_not}); set it to false")
    if len(nets) == 1:
        return SequentialSeeds(nets, train, x, y, x_test, y_test)
    return StackedSeeds(nets, train, x, y, x_test, y_test)


def _keras_state(net: keras.Model) -> SeedState:
    return SeedState(net.get_weights(), [np.array(v) for v in net.optimizer.variables])


def _set_keras_state(net: keras.Model, state: SeedState) -> None:
    net.set_weights(state.weights)
    for variable, value in zip(net.optimizer.variables, state.optimizer, strict=True):
        variable.assign(value)


class SequentialSeeds:
    """One Keras model and one compiled epoch per seed, run one seed after another."""

    timing = MEASURED

    def __init__(self, nets: list[keras.Model], train: TrainParams, x: np.ndarray, y: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray) -> None:
        self.seeds = train.seed_list
        self.nets = nets
        self.runners = [epoch_runner(net, train.loss, train.batch_size, x, y, x_test, y_test)
                        for net in self.nets]

    def epoch(self, orders: Sequence[np.ndarray]) -> list[SeedEpoch]:
        """Each seed's epoch on its own clock: its training and its validation, then the next seed."""
        epochs = []
        for runner, order in zip(self.runners, orders, strict=True):
            began = time.perf_counter()
            trained = runner.train(order)
            tested = runner.evaluate()
            epochs.append(SeedEpoch(trained, tested, time.perf_counter() - began))
        return epochs

    def train(self, orders: Sequence[np.ndarray]) -> list[tuple[float, float]]:
        return [runner.train(order) for runner, order in zip(self.runners, orders, strict=True)]

    def evaluate(self) -> list[tuple[float, float]]:
        return [runner.evaluate() for runner in self.runners]

    def state(self) -> list[SeedState]:
        return [_keras_state(net) for net in self.nets]

    def restore(self, states: Sequence[SeedState]) -> None:
        for net, state in zip(self.nets, states, strict=True):
            _set_keras_state(net, state)

    def model(self, index: int) -> keras.Model:
        return self.nets[index]


class StackedSeeds:
    """Every seed in one compiled epoch (stacked_epoch.py): the seeds' weights and Adam moments
    stacked along a leading axis, the training data held once.

    Between epochs the state lives in the stack, not in Keras models; `state`, `restore` and
    `model` translate between the stack and Keras' layouts (`net.get_weights()`,
    `net.optimizer.variables`) through one template model, the first seed's, so checkpoints and
    saved models are exactly those of `SequentialSeeds`. The seeds share Adam's iteration counter
    and learning rate, as they take the same steps with the same params: both stay in the
    template's Keras optimizer, where the stacked epoch reads and advances them as the
    single-seed epoch does in its own model's.
    """

    timing = STACK_SHARE

    def __init__(self, nets: list[keras.Model], train: TrainParams, x: np.ndarray, y: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray) -> None:
        import keras

        self.seeds = train.seed_list
        self.net = nets[0]
        for net in nets:
            net.optimizer.build(net.trainable_variables)
        self.plan = Plan(self.net, train.loss)
        if [id(w) for w, _, _ in self.plan.keras_state()] != [id(v) for v in self.net.weights]:
            raise ValueError(f"{self.net.name}: its weights are not the Dense stack's kernels and biases")
        stack = self._stack([_keras_state(net) for net in nets])
        self.stacked = STACKED_EPOCHS[keras.backend.backend()](self.plan, train.batch_size, x, y, x_test,
                                                               y_test, stack)

    def _stack(self, states: Sequence[SeedState]) -> Stack:
        """The seeds' states as the stack: each put into the template in Keras' own layout and read
        back as the fused step's (value, m, v) arrays. The template keeps the shared counter."""
        per_seed, counters = [], set()
        for state in states:
            _set_keras_state(self.net, state)
            per_seed.append([tuple(np.array(v) for v in triple) for triple in self.plan.keras_state()])
            counters.add(int(np.array(self.net.optimizer.iterations)))
        if len(counters) != 1:
            raise ValueError(f"the seeds' optimizer iterations differ ({sorted(counters)}): stacked seeds "
                             f"share one; restore states of seeds trained together")
        return [tuple(np.stack(arrays) for arrays in zip(*triples, strict=True))
                for triples in zip(*per_seed, strict=True)]

    def _load(self, stack: Stack, index: int) -> keras.Model:
        """The template holding seed `seeds[index]` of `stack`, with the shared counter and rate."""
        assign_values(self.plan.keras_state(), [tuple(a[index] for a in arrays) for arrays in stack])
        return self.net

    def epoch(self, orders: Sequence[np.ndarray]) -> list[SeedEpoch]:
        """All seeds' epoch on one clock; each seed is given an equal share of it."""
        began = time.perf_counter()
        trained = self.train(orders)
        tested = self.evaluate()
        share = (time.perf_counter() - began) / len(self.seeds)
        return [SeedEpoch(t, e, share) for t, e in zip(trained, tested, strict=True)]

    def train(self, orders: Sequence[np.ndarray]) -> list[tuple[float, float]]:
        loss, accuracy = self.stacked.train(np.stack(orders))
        return [(float(a), float(b)) for a, b in zip(loss, accuracy, strict=True)]

    def evaluate(self) -> list[tuple[float, float]]:
        loss, accuracy = self.stacked.evaluate()
        return [(float(a), float(b)) for a, b in zip(loss, accuracy, strict=True)]

    def state(self) -> list[SeedState]:
        stack = self.stacked.read()
        return [_keras_state(self._load(stack, i)) for i in range(len(self.seeds))]

    def restore(self, states: Sequence[SeedState]) -> None:
        if len(states) != len(self.seeds):
            raise ValueError(f"{len(states)} states for {len(self.seeds)} seeds")
        self.stacked.write(self._stack(states))

    def model(self, index: int) -> keras.Model:
        return self._load(self.stacked.read(), index)
