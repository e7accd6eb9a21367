"""One training epoch of every seed of a model as one compiled call: the fused step
(fused_epoch.py) over weights stacked along a leading seed axis.

S seeds trained one after another cost S compiled epochs, and for networks this small a large
share of each is per-kernel dispatch, loop control and the tiny kernels of bias, activation and
Adam, not arithmetic. Stacked, each step runs the same kernels once for all seeds: every
parameter and Adam moment is one array `(S, ...)`, each seed's batch is gathered from the one
resident copy of the training set by its own permutation (`orders` of shape (S, n)), the matrix
products are batched products (one per layer and direction, each seed its own matrices), and
Adam, elementwise, updates the whole stack with the iteration counter the seeds share (they take
the same number of steps). The loss differentiated is the sum over seeds of each seed's mean
batch loss, so each seed's gradient is exactly its own. Nothing mixes seeds: a NaN in one seed
stays in that seed.

The per-seed arithmetic is the single-seed fused step's (the same functions, `forward`,
`adam_update`, Keras' loss): seed s computes what a one-seed run with `train.seed = s` computes, up
to the summation order of the batched products (tests/unit/test_seeds.py measures how far).
The epoch's metrics and the validation pass run per seed inside the same call, exactly as the
single-seed epoch computes them.

On TensorFlow the stack lives in variables of the compiled function; on JAX the single-seed
epoch function is mapped over the seed axis (`jax.vmap`). Both keep the state as arrays
`(S, *variable shape)` that seeds.py moves in and out of Keras models. What the seeds share,
Adam's iteration counter and learning rate, stays where the single-seed epoch finds it: in the
Keras optimizer of the plan's model, which seeds.py keeps as the stack's template.
"""

from __future__ import annotations

import numpy as np

from mnist_dvc.training.fused_epoch import Plan, assign_values, batch_sums, forward, jax_epoch, tf_epoch

# Stacked state: per Keras trainable variable (in `Plan.keras_state()` order) the arrays
# (value, Adam's m, Adam's v), each (S, *that variable's shape), numpy.
Stack = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


class TensorFlowStackedEpoch:
    """TensorFlow: the stacked state in TensorFlow variables; one XLA call runs the single-seed
    epoch's loop (fused_epoch.tf_epoch, with a seed axis) with the state as loop values and
    assigns it back at the end, with the plan's Adam counter and learning rate."""

    def __init__(self, plan: Plan, batch: int, x, y, x_test, y_test, stack: Stack) -> None:
        import tensorflow as tf

        self.shapes = [tuple(w.shape[1:]) for w, _, _ in stack]
        seeds = len(stack[0][0])
        self.data = tuple(tf.constant(a) for a in (x, y))
        self.test = tuple(tf.constant(a) for a in (x_test, y_test))
        # Biases stacked as (S, 1, units): they broadcast over each seed's batch rows as they are,
        # and Adam treats them like any other array.
        self.state = [tuple(tf.Variable(self._inner(a)) for a in triple) for triple in stack]
        n, classes = y.shape
        epoch = tf_epoch(plan, batch, n, classes, seeds)
        optimizer = plan.optimizer

        def train(x, y, orders):
            state = [tuple(v.read_value() for v in triple) for triple in self.state]
            state, iterations, loss, accuracy = epoch(state, optimizer.iterations, optimizer.learning_rate,
                                                      x, y, orders)
            assign_values(self.state, state)
            optimizer.iterations.assign(iterations)
            return loss, accuracy

        def evaluate(x, y):
            sums = []
            for s in range(seeds):
                params = [tf.reshape(w[s], shape) for (w, _, _), shape in zip(self.state, self.shapes,
                                                                                strict=True)]
                sums.append(batch_sums(plan.loss_fn, y, forward(plan.activations, params, x)[1]))
            return tf.stack([loss for loss, _ in sums]) / len(x), tf.stack([c for _, c in sums]) / len(x)

        self._train = tf.function(train, jit_compile=True)
        self._evaluate = tf.function(evaluate, jit_compile=True)

    @staticmethod
    def _inner(a: np.ndarray) -> np.ndarray:
        """(S, *shape) as the compiled step holds it: a vector per seed becomes a (1, units) row."""
        return a.reshape(len(a), 1, -1) if a.ndim == 2 else a

    def train(self, orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        loss, accuracy = self._train(*self.data, orders.astype(np.int32))
        return loss.numpy(), accuracy.numpy()

    def evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        loss, accuracy = self._evaluate(*self.test)
        return loss.numpy(), accuracy.numpy()

    def read(self) -> Stack:
        return [tuple(a.reshape(len(a), *shape) for a in (v.numpy() for v in triple))
                for triple, shape in zip(self.state, self.shapes, strict=True)]

    def write(self, stack: Stack) -> None:
        assign_values(self.state, [tuple(self._inner(a) for a in arrays) for arrays in stack])


class JaxStackedEpoch:
    """JAX: the single-seed epoch function (fused_epoch.jax_epoch) mapped over the seed axis of
    the state and of the orders with `jax.vmap`, jitted; the data and the plan's Adam counter and
    learning rate are shared by all seeds."""

    def __init__(self, plan: Plan, batch: int, x, y, x_test, y_test, stack: Stack) -> None:
        import jax
        import jax.numpy as jnp

        self.optimizer = plan.optimizer
        self.data = tuple(jnp.asarray(a) for a in (x, y))
        self.test = tuple(jnp.asarray(a) for a in (x_test, y_test))
        n, classes = y.shape
        self.write(stack)
        one_seed = jax_epoch(plan, batch, n, classes)
        # The counter goes in and comes out once for all seeds (out_axes None).
        self._train = jax.jit(jax.vmap(one_seed, in_axes=(0, None, None, None, None, 0),
                                       out_axes=(0, None, 0, 0)))

        def evaluate(state, x, y):
            sums = [batch_sums(plan.loss_fn, y, forward(plan.activations, [w[s] for w, _, _ in state], x)[1])
                    for s in range(len(stack[0][0]))]
            return jnp.stack([loss for loss, _ in sums]) / len(x), jnp.stack([c for _, c in sums]) / len(x)

        self._evaluate = jax.jit(evaluate)

    def train(self, orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        optimizer = self.optimizer
        self.state, iterations, loss, accuracy = self._train(
            self.state, optimizer.iterations.value, optimizer.learning_rate.value, *self.data,
            orders.astype(np.int32))
        optimizer.iterations.assign(iterations)
        return np.asarray(loss), np.asarray(accuracy)

    def evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        loss, accuracy = self._evaluate(self.state, *self.test)
        return np.asarray(loss), np.asarray(accuracy)

    def read(self) -> Stack:
        return [tuple(np.array(a) for a in triple) for triple in self.state]

    def write(self, stack: Stack) -> None:
        import jax.numpy as jnp

        self.state = [tuple(jnp.asarray(a) for a in triple) for triple in stack]


STACKED_EPOCHS = {"tensorflow": TensorFlowStackedEpoch, "jax": JaxStackedEpoch}
