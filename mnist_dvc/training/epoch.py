"""One training epoch as one compiled call.

Keras' `fit` drives the batches from a host loop: even with
`steps_per_execution`, every step goes back through the framework's executor,
and for networks this small that dispatch costs more than the arithmetic.
Here the whole epoch is one XLA computation: a `while` loop that gathers each
batch from the resident training set by the epoch's permutation, runs the
forward pass, the loss's gradient and the optimizer's update. Python runs once
per epoch.

Two step bodies exist. The project's models (Dense stacks trained by plain
Adam) take the fused one (fused_epoch.py: the dense stack and Keras' Adam
written out, the epoch's metrics computed once after the loop); any other
model or optimizer takes Keras' own model call and optimizer (the runners
below). Both compute what
`fit(x[order], y[order], batch_size=b, shuffle=False)` computes: the same
model, loss and optimizer with its state, the same batches in the same order
with a short last batch, so the same updates. The epoch's loss and accuracy
are averaged over samples as Keras' metrics are, each batch measured before its
own update; validation is one forward pass over the test set. Only the order of
floating-point sums may differ from `fit`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from mnist_dvc.training import fused_epoch
from mnist_dvc.training.fused_epoch import batch_sums

if TYPE_CHECKING:
    import keras


class EpochRunner(Protocol):
    """The two calls the training loop needs; the model's variables are current after each."""

    def train(self, order: np.ndarray) -> tuple[float, float]:
        """Train one epoch on the batches `order` defines; returns (loss, accuracy)."""
        ...

    def evaluate(self) -> tuple[float, float]:
        """(loss, accuracy) of the current weights on the test set."""
        ...


def epoch_runner(net: keras.Model, loss: str, batch_size: int, x: np.ndarray, y: np.ndarray,
                 x_test: np.ndarray, y_test: np.ndarray, fused: bool | None = None) -> EpochRunner:
    """A runner for the Keras backend in use; `net` must be compiled (its optimizer is used)
    and `y`, `y_test` one-hot.

    `fused=None` takes the fused epoch (fused_epoch.py) where the model allows it (a Dense stack
    trained by plain Adam, as every model of this project) and Keras' own model call and
    optimizer otherwise; `True` insists on the fused epoch, `False` (the benchmark's previous
    path) on Keras' own. Both give the same updates, bit for bit."""
    import keras

    backend = keras.backend.backend()
    if backend not in _EVALUATORS:
        raise ValueError(f"no compiled epoch for the Keras backend {backend!r}; use tensorflow or jax")
    net.optimizer.build(net.trainable_variables)
    loss_fn = keras.losses.get(loss)
    why_not = fused_epoch.fused_unsupported(net, loss)
    if fused and why_not:
        raise ValueError(f"no fused epoch for this model: {why_not}")
    if fused is False or why_not:
        train = _KERAS_TRAINERS[backend](net, loss_fn, batch_size, x, y)
    else:
        train = fused_epoch.FUSED_TRAINERS[backend](net, loss, batch_size, x, y)
    return _Runner(train, _EVALUATORS[backend](net, loss_fn, x_test, y_test))


class _Runner:
    """A training epoch and the validation pass, as the training loop calls them."""

    def __init__(self, trainer, evaluator) -> None:
        self.train = trainer.train
        self.evaluate = evaluator.evaluate


class _TensorFlowKerasTrainer:
    """Keras variables are TensorFlow resource variables: the loop updates them in place."""

    def __init__(self, net, loss_fn, batch: int, x, y) -> None:
        import tensorflow as tf

        self.data = tuple(tf.constant(a) for a in (x, y))
        n = len(x)
        full, rest = divmod(n, batch)
        weights = net.trainable_variables
        optimizer = net.optimizer

        def step(x, y, rows):
            xb, yb = tf.gather(x, rows), tf.gather(y, rows)
            with tf.GradientTape() as tape:
                out = net(xb, training=True)
                loss = tf.reduce_mean(loss_fn(yb, out))
            optimizer.apply(tape.gradient(loss, weights), weights)
            return batch_sums(loss_fn, yb, out)

        def train(x, y, order):
            def body(i, loss_sum, correct):
                batch_loss, batch_correct = step(x, y, tf.slice(order, [i * batch], [batch]))
                return i + 1, loss_sum + batch_loss, correct + batch_correct

            loss_sum = correct = tf.constant(0.0)
            if full:  # a loop body is traced even for zero iterations, and its slice must fit
                _, loss_sum, correct = tf.while_loop(lambda i, *_: i < full, body,
                                                     (tf.constant(0), loss_sum, correct),
                                                     maximum_iterations=full)
            if rest:
                batch_loss, batch_correct = step(x, y, order[full * batch:])
                loss_sum, correct = loss_sum + batch_loss, correct + batch_correct
            return loss_sum / n, correct / n

        self._train = tf.function(train, jit_compile=True)

    def train(self, order: np.ndarray) -> tuple[float, float]:
        loss, accuracy = self._train(*self.data, order.astype(np.int32))
        return float(loss), float(accuracy)


class _TensorFlowEvaluator:
    """The validation pass: one compiled forward pass of the Keras model over the test set."""

    def __init__(self, net, loss_fn, x_test, y_test) -> None:
        import tensorflow as tf

        self.data = (tf.constant(x_test), tf.constant(y_test))

        def evaluate(x, y):
            loss_sum, correct = batch_sums(loss_fn, y, net(x, training=False))
            return loss_sum / len(x_test), correct / len(x_test)

        self._evaluate = tf.function(evaluate, jit_compile=True)

    def evaluate(self) -> tuple[float, float]:
        loss, accuracy = self._evaluate(*self.data)
        return float(loss), float(accuracy)


class _JaxKerasTrainer:
    """JAX arrays are immutable: the loop carries the variables' values through Keras'
    stateless calls and writes them back into the Keras variables after the epoch."""

    def __init__(self, net, loss_fn, batch: int, x, y) -> None:
        import jax
        import jax.numpy as jnp

        self.net = net
        self.data = tuple(jnp.asarray(a) for a in (x, y))
        n = len(x)
        full, rest = divmod(n, batch)
        optimizer = net.optimizer

        def step(state, x, y, rows):
            weights, others, opt_vars = state
            xb, yb = x[rows], y[rows]

            def loss_of(weights, others):
                out, others = net.stateless_call(weights, others, xb, training=True)
                return jnp.mean(loss_fn(yb, out)), (out, others)

            (_, (out, others)), grads = jax.value_and_grad(loss_of, has_aux=True)(weights, others)
            weights, opt_vars = optimizer.stateless_apply(opt_vars, grads, weights)
            return (weights, others, opt_vars), batch_sums(loss_fn, yb, out)

        def train(state, x, y, order):
            def body(state, rows):
                return step(state, x, y, rows)

            state, (losses, corrects) = jax.lax.scan(body, state, order[:full * batch].reshape(full, batch))
            loss_sum, correct = jnp.sum(losses), jnp.sum(corrects)
            if rest:
                state, (batch_loss, batch_correct) = step(state, x, y, order[full * batch:])
                loss_sum, correct = loss_sum + batch_loss, correct + batch_correct
            return state, loss_sum / n, correct / n

        self._train = jax.jit(train)

    def _groups(self):
        net = self.net
        return net.trainable_variables, net.non_trainable_variables, net.optimizer.variables

    def train(self, order: np.ndarray) -> tuple[float, float]:
        state = tuple([v.value for v in group] for group in self._groups())
        state, loss, accuracy = self._train(state, *self.data, order.astype(np.int32))
        for group, values in zip(self._groups(), state, strict=True):
            for variable, value in zip(group, values, strict=True):
                variable.assign(value)
        return float(loss), float(accuracy)


class _JaxEvaluator:
    """The validation pass: one jitted stateless forward pass of the Keras model over the test set."""

    def __init__(self, net, loss_fn, x_test, y_test) -> None:
        import jax
        import jax.numpy as jnp

        self.net = net
        self.data = (jnp.asarray(x_test), jnp.asarray(y_test))

        def evaluate(weights, others, x, y):
            out, _ = net.stateless_call(weights, others, x, training=False)
            loss_sum, correct = batch_sums(loss_fn, y, out)
            return loss_sum / len(x_test), correct / len(x_test)

        self._evaluate = jax.jit(evaluate)

    def evaluate(self) -> tuple[float, float]:
        loss, accuracy = self._evaluate([v.value for v in self.net.trainable_variables],
                                        [v.value for v in self.net.non_trainable_variables],
                                        *self.data)
        return float(loss), float(accuracy)


_KERAS_TRAINERS = {"tensorflow": _TensorFlowKerasTrainer, "jax": _JaxKerasTrainer}
_EVALUATORS = {"tensorflow": _TensorFlowEvaluator, "jax": _JaxEvaluator}
