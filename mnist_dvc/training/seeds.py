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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mnist_dvc.core.params import ModelParams, ParamsError, TrainParams
from mnist_dvc.training.epoch import epoch_runner
from mnist_dvc.training.fused_epoch import Plan, fused_unsupported
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

    def __init__(self, nets: list[keras.Model], train: TrainParams, x: np.ndarray, y: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray) -> None:
        self.seeds = train.seed_list
        self.nets = nets
        self.runners = [epoch_runner(net, train.loss, train.batch_size, x, y, x_test, y_test)
                        for net in self.nets]

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
    `net.optimizer.variables`) through one template model, so checkpoints and saved models are
    exactly those of `SequentialSeeds`. The seeds share Adam's iteration counter and learning
    rate, as they take the same steps with the same params.
    """

    def __init__(self, nets: list[keras.Model], train: TrainParams, x: np.ndarray, y: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray) -> None:
        import keras

        self.seeds = train.seed_list
        self.net = nets[0]
        for net in nets:
            net.optimizer.build(net.trainable_variables)
        plan = Plan(self.net, train.loss)
        triples = plan.keras_state()
        if [id(w) for w, _, _ in triples] != [id(v) for v in self.net.weights]:
            raise ValueError(f"{self.net.name}: its weights are not the Dense stack's kernels and biases")
        slots = {id(variable): (j, part) for j, triple in enumerate(triples)
                 for part, variable in enumerate(triple) if part}
        optimizer = self.net.optimizer
        shared = {id(optimizer.iterations): "iterations", id(optimizer.learning_rate): "learning_rate"}
        # What each of Keras' optimizer variables is: the shared counter or learning rate, or the
        # Adam moment (m = part 1, v = part 2) of trainable variable j.
        self.roles = [shared.get(id(v)) or slots[id(v)] for v in optimizer.variables]
        self.dtypes = [np.array(v).dtype for v in optimizer.variables]
        stack, iterations, learning_rate = self._stack([_keras_state(net) for net in nets])
        self.epoch = STACKED_EPOCHS[keras.backend.backend()](plan, train.batch_size, x, y, x_test, y_test,
                                                              stack, iterations, learning_rate)

    def _shared(self, states: Sequence[SeedState], role: str) -> float | int:
        index = self.roles.index(role)
        values = {state.optimizer[index].item() for state in states}
        if len(values) != 1:
            raise ValueError(f"the seeds' optimizer {role} differ ({sorted(values)}): stacked seeds "
                             f"share one; restore states of seeds trained together")
        return values.pop()

    def _stack(self, states: Sequence[SeedState]) -> tuple[Stack, int, float]:
        parts = {role: i for i, role in enumerate(self.roles)}
        stack = [tuple(np.stack([state.weights[j] if part == 0 else state.optimizer[parts[j, part]]
                                 for state in states]) for part in range(3))
                 for j in range(len(states[0].weights))]
        return stack, int(self._shared(states, "iterations")), float(self._shared(states, "learning_rate"))

    def _unstack(self, stack: Stack, iterations: int, learning_rate: float) -> list[SeedState]:
        shared = {"iterations": iterations, "learning_rate": learning_rate}
        return [SeedState([w[i].copy() for w, _, _ in stack],
                          [np.asarray(shared[role] if role in shared else stack[role[0]][role[1]][i],
                                      dtype=dtype).copy()
                           for role, dtype in zip(self.roles, self.dtypes, strict=True)])
                for i in range(len(self.seeds))]

    def train(self, orders: Sequence[np.ndarray]) -> list[tuple[float, float]]:
        loss, accuracy = self.epoch.train(np.stack(orders))
        return [(float(a), float(b)) for a, b in zip(loss, accuracy, strict=True)]

    def evaluate(self) -> list[tuple[float, float]]:
        loss, accuracy = self.epoch.evaluate()
        return [(float(a), float(b)) for a, b in zip(loss, accuracy, strict=True)]

    def state(self) -> list[SeedState]:
        return self._unstack(*self.epoch.read())

    def restore(self, states: Sequence[SeedState]) -> None:
        if len(states) != len(self.seeds):
            raise ValueError(f"{len(states)} states for {len(self.seeds)} seeds")
        self.epoch.write(*self._stack(states))

    def model(self, index: int) -> keras.Model:
        _set_keras_state(self.net, self.state()[index])
        return self.net
