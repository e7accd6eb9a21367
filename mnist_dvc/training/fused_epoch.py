"""The dense stack's training epoch with each step written out, and the epoch's metrics after the loop.

A Keras epoch (epoch.py's generic runners) calls the model's layers and the optimizer inside
the loop: the steps are compiled, but every step also computes the batch's loss value, its
accuracy (two argmaxes and a comparison) and adds them to running sums, in a handful of tiny
kernels whose fixed cost is a real share of a step for networks this small, and the Keras
variables are read and written through resource handles.

Here the step is the dense stack itself: per layer a matrix product and Keras' activation,
Keras' loss function on the softmax output (so TensorFlow differentiates through the logits and
JAX through the clipped probabilities, exactly as `fit` does on each backend), the backend's
automatic differentiation, and Keras' Adam formula (the same operations in the same order, its
hyper-parameters, learning-rate variable and iteration counter). The parameters and Adam's
moments travel through the loop as values. Each step only keeps its logits; the epoch's loss
and accuracy, which `fit` reports for every batch before its update, are computed once from
them after the loop. The Keras variables are read at the start of each epoch and written back
at its end, so checkpoints, `get_weights` and `model.save` see a normal Keras model with a
normal optimizer state. The updates are bit for bit those of Keras' own step on both backends.

Every array is indexed from the right (`[..., inputs, units]`, batches `[..., rows,
features]`), so a leading axis of independently trained seeds can be added to the state and
to the batch indices without changing the step's code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mnist_dvc.core.errors import ProjectError

if TYPE_CHECKING:
    import keras

SUPPORTED_LOSS = "categorical_crossentropy"
# What `adam_slots` reads from Keras' Adam: private, so a Keras release may rename it.
ADAM_PRIVATE = ("_get_variable_index", "_momentums", "_velocities")


class KerasChanged(ProjectError):
    """The installed Keras no longer has what the fused epoch reads from its Adam."""


def adam_slots(optimizer, variables) -> list[tuple]:
    """Adam's (m, v) variables of each of `variables`, from a built Adam.

    Keras 3 keeps the moments in private lists and has no public way to ask which slot belongs to
    which variable (`optimizer.variables` lists them without saying), so this is the one place the
    project reads Keras' private attributes. A release that renames them, or fills them with
    something else, stops training here in one line instead of failing deep inside a trace."""
    import keras

    def changed(what: str) -> KerasChanged:
        return KerasChanged(f"Keras {keras.__version__}: its Adam {what}; the fused epoch reads Adam's "
                            f"moments there (mnist_dvc/training/fused_epoch.py, adam_slots): install "
                            f"keras 3.15 (pip install 'keras==3.15.*') or update adam_slots")

    missing = [name for name in ADAM_PRIVATE if not hasattr(optimizer, name)]
    if missing:
        raise changed(f"has no {', '.join(missing)}")
    index, momentums, velocities = (getattr(optimizer, name) for name in ADAM_PRIVATE)
    slots = []
    for variable in variables:
        m, v = momentums[index(variable)], velocities[index(variable)]
        if tuple(m.shape) != tuple(variable.shape) or tuple(v.shape) != tuple(variable.shape):
            raise changed(f"slots of {variable.path} have shapes {tuple(m.shape)}, {tuple(v.shape)}, "
                          f"not the variable's {tuple(variable.shape)}")
        slots.append((m, v))
    return slots


def fused_unsupported(net: keras.Model, loss: str) -> str | None:
    """Why this model cannot take the fused path, or None when it can: a stack of biased Dense
    layers in float32 trained by plain Adam on categorical cross-entropy."""
    import keras

    if loss != SUPPORTED_LOSS:
        return f"loss {loss!r}"
    layers = [layer for layer in net.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not isinstance(net, keras.Sequential) or not layers:
        return "not a Sequential stack"
    for layer in layers:
        if type(layer) is not keras.layers.Dense:
            return f"layer {layer.name} is a {type(layer).__name__}"
        extras = (layer.kernel_regularizer, layer.bias_regularizer, layer.activity_regularizer,
                  layer.kernel_constraint, layer.bias_constraint)
        if not layer.use_bias or any(e is not None for e in extras) or layer.dtype_policy.name != "float32":
            return f"layer {layer.name} is not a plain float32 Dense layer with a bias"
    opt = net.optimizer
    if type(opt) is not keras.optimizers.Adam:
        return f"optimizer {type(opt).__name__}"
    config = opt.get_config()
    plain = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
             "use_ema": False, "loss_scale_factor": None, "gradient_accumulation_steps": None,
             "amsgrad": False}
    changed = [k for k, v in plain.items() if config.get(k) != v]
    if changed or not isinstance(opt.learning_rate, keras.Variable):
        return f"Adam with {', '.join(changed) or 'a learning-rate schedule'}"
    return None


class Plan:
    """What the fused step needs from the Keras model, read once."""

    def __init__(self, net: keras.Model, loss: str) -> None:
        import keras

        self.layers = [layer for layer in net.layers if not isinstance(layer, keras.layers.InputLayer)]
        self.activations = [layer.activation for layer in self.layers]
        self.loss_fn = keras.losses.get(loss)
        opt = net.optimizer
        self.optimizer = opt
        self.beta_1, self.beta_2, self.epsilon = opt.beta_1, opt.beta_2, opt.epsilon
        variables = [v for layer in self.layers for v in (layer.kernel, layer.bias)]
        self._state = [(w, m, v) for w, (m, v) in zip(variables, adam_slots(opt, variables), strict=True)]

    def keras_state(self):
        """Per trainable variable in Keras' order (kernel, bias per layer): (variable, m, v)."""
        return self._state


def read_values(state):
    """The current values of (variable, m, v) triples."""
    return [tuple(v.value for v in triple) for triple in state]


def assign_values(state, values) -> None:
    """Write new values into (variable, m, v) triples."""
    for triple, new in zip(state, values, strict=True):
        for variable, value in zip(triple, new, strict=True):
            variable.assign(value)


def forward(activations, params, x):
    """The dense stack on `x`, params = [kernel, bias, kernel, bias, ...]: (the last layer's
    pre-activation, its Keras activation, the output)."""
    from keras import ops

    a = x
    for activation, kernel, bias in zip(activations, params[::2], params[1::2], strict=True):
        z = ops.add(ops.matmul(a, kernel), bias)
        a = activation(z)
    return z, a


def epoch_sums(plan, y, logits):
    """(sum of per-sample losses, correct predictions) over the whole epoch, from every step's
    last pre-activation: the loss and accuracy `fit` reports for each batch before its update,
    computed once after the loop instead of a handful of tiny kernels in every step."""
    return batch_sums(plan.loss_fn, y, plan.activations[-1](logits))


def adam_update(plan: Plan, state, grad, lr, step):
    """Keras' Adam update of one variable's (value, m, v) (keras/optimizers/adam.py: the same
    operations in the same order, so the same bits)."""
    from keras import ops

    local_step = ops.cast(step, "float32")
    beta_1_power = ops.power(ops.cast(plan.beta_1, "float32"), local_step)
    beta_2_power = ops.power(ops.cast(plan.beta_2, "float32"), local_step)
    alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    w, m, v = state
    m = ops.add(m, ops.multiply(ops.subtract(grad, m), 1 - plan.beta_1))
    v = ops.add(v, ops.multiply(ops.subtract(ops.square(grad), v), 1 - plan.beta_2))
    w = ops.subtract(w, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), plan.epsilon)))
    return w, m, v


def batch_sums(loss_fn, y, out):
    """(sum of per-sample losses, count of correct predictions) of one batch, as float32."""
    from keras import ops

    correct = ops.cast(ops.argmax(out, axis=-1) == ops.argmax(y, axis=-1), "float32")
    return ops.sum(loss_fn(y, out)), ops.sum(correct)


def tf_epoch(plan: Plan, batch: int, n: int, classes: int, seeds: int | None = None):
    """One training epoch on TensorFlow as a function `(state, iterations, lr, x, y, order) ->
    (state, iterations, loss, accuracy)` to trace inside a compiled `tf.function`, `state` the
    (value, m, v) triples in `plan.keras_state()`'s order, `iterations` Adam's counter before the
    epoch and after it (one step per batch, the short last batch included). With
    `seeds`, every array of `state` and `order` has a leading seed axis (stacked_epoch.py), the
    loss differentiated is the sum of each seed's mean batch loss (so each seed's gradient is its
    own), and loss and accuracy are per seed."""
    import tensorflow as tf

    full, rest = divmod(n, batch)
    steps = full + (rest > 0)
    lead = [] if seeds is None else [seeds]

    def step(x, y, rows, state, number, lr):
        xb, yb = tf.gather(x, rows), tf.gather(y, rows)
        params = [w for w, _, _ in state]
        with tf.GradientTape() as tape:
            tape.watch(params)
            logits, out = forward(plan.activations, params, xb)
            losses = plan.loss_fn(yb, out)
            loss = tf.reduce_mean(losses) if seeds is None else tf.reduce_sum(tf.reduce_mean(losses, axis=-1))
        grads = tape.gradient(loss, params)
        return [adam_update(plan, t, g, lr, number) for t, g in zip(state, grads, strict=True)], logits

    def train(state, iterations, lr, x, y, order):
        first = iterations + 1
        logits = []
        if full:
            def body(i, state, by_step):
                rows = tf.slice(order, [0] * len(lead) + [i * batch], [*lead, batch])
                state, z = step(x, y, rows, state, first + tf.cast(i, first.dtype), lr)
                return i + 1, state, by_step.write(i, z)

            by_step = tf.TensorArray(tf.float32, size=full, element_shape=(*lead, batch, classes))
            _, state, by_step = tf.while_loop(lambda i, *_: i < full, body,
                                              (tf.constant(0), state, by_step), maximum_iterations=full)
            by_step = by_step.stack()  # (full, *lead, batch, classes)
            if lead:
                by_step = tf.transpose(by_step, (1, 0, 2, 3))
            logits.append(tf.reshape(by_step, (*lead, full * batch, classes)))
        if rest:
            state, z = step(x, y, order[..., full * batch:], state, first + full, lr)
            logits.append(z)
        logits = tf.concat(logits, -2)
        if seeds is None:
            loss_sum, correct = epoch_sums(plan, tf.gather(y, order), logits)
        else:
            sums = [epoch_sums(plan, tf.gather(y, order[s]), logits[s]) for s in range(seeds)]
            loss_sum, correct = (tf.stack(values) for values in zip(*sums, strict=True))
        return state, iterations + steps, loss_sum / n, correct / n

    return train


class TensorFlowFusedRunner:
    """TensorFlow: one XLA call reads the Keras variables, runs every step in a while loop with the
    parameters and moments as loop values, and writes the variables back."""

    def __init__(self, net, loss: str, batch: int, x, y) -> None:
        import tensorflow as tf

        plan = Plan(net, loss)
        self.data = tuple(tf.constant(a) for a in (x, y))
        n, classes = y.shape
        epoch = tf_epoch(plan, batch, n, classes)
        optimizer = plan.optimizer

        def train(x, y, order):
            variables = plan.keras_state()
            state, iterations, loss, accuracy = epoch(read_values(variables), optimizer.iterations,
                                                      optimizer.learning_rate, x, y, order)
            assign_values(variables, state)
            optimizer.iterations.assign(iterations)
            return loss, accuracy

        self._train = tf.function(train, jit_compile=True)

    def train(self, order: np.ndarray) -> tuple[float, float]:
        loss, accuracy = self._train(*self.data, order.astype(np.int32))
        return float(loss), float(accuracy)


def jax_epoch(plan: Plan, batch: int, n: int, classes: int):
    """One seed's training epoch on JAX as a pure function
    `(state, iterations, lr, x, y, order) -> (state, iterations, loss, accuracy)`, `state` the
    (value, m, v) triples in `plan.keras_state()`'s order, `iterations` Adam's counter before and
    after the epoch: jitted as it is for one seed, or mapped over a leading seed axis of `state`
    and `order` (stacked_epoch.py) for several."""
    import jax
    import jax.numpy as jnp

    full, rest = divmod(n, batch)
    steps = full + (rest > 0)

    def step(carry, rows, x, y, lr):
        state, number = carry
        xb, yb = x[rows], y[rows]

        def loss_of(params):
            logits, out = forward(plan.activations, params, xb)
            return jnp.mean(plan.loss_fn(yb, out)), logits

        (_, logits), grads = jax.value_and_grad(loss_of, has_aux=True)([w for w, _, _ in state])
        state = [adam_update(plan, t, g, lr, number) for t, g in zip(state, grads, strict=True)]
        return (state, number + 1), logits

    def train(state, iterations, lr, x, y, order):
        carry, logits = jax.lax.scan(lambda c, r: step(c, r, x, y, lr), (state, iterations + 1),
                                     order[:full * batch].reshape(full, batch))
        logits = [logits.reshape(full * batch, classes)]
        if rest:
            carry, z = step(carry, order[full * batch:], x, y, lr)
            logits.append(z)
        loss_sum, correct = epoch_sums(plan, y[order], jnp.concatenate(logits))
        return carry[0], iterations + steps, loss_sum / n, correct / n

    return train


class JaxFusedRunner:
    """JAX: one jitted call scans the steps over the Keras variables' values and returns the new
    values, which are written back into the Keras variables."""

    def __init__(self, net, loss: str, batch: int, x, y) -> None:
        import jax
        import jax.numpy as jnp

        self.plan = Plan(net, loss)
        self.data = tuple(jnp.asarray(a) for a in (x, y))
        n, classes = y.shape
        self._train = jax.jit(jax_epoch(self.plan, batch, n, classes))

    def train(self, order: np.ndarray) -> tuple[float, float]:
        variables, optimizer = self.plan.keras_state(), self.plan.optimizer
        state, iterations, loss, accuracy = self._train(read_values(variables), optimizer.iterations.value,
                                                        optimizer.learning_rate.value, *self.data,
                                                        order.astype(np.int32))
        assign_values(variables, state)
        optimizer.iterations.assign(iterations)
        return float(loss), float(accuracy)


FUSED_TRAINERS = {"tensorflow": TensorFlowFusedRunner, "jax": JaxFusedRunner}
