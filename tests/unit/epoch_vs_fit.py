"""Run by tests/unit/test_epoch.py in a fresh process per Keras backend (Keras binds its backend at
import): for each case, train two identical models, one with plain `fit` on a given order, one with
the compiled epoch (`fused` or Keras' own `keras` path), and print how far apart their metrics,
weights and optimizer states end up, as one JSON object keyed by case. The last epoch runs on a new
runner over the same model, as after a checkpoint is restored, so the runner must take up the Keras
variables where they are. One process runs every case: a backend's import is paid once.

    python epoch_vs_fit.py BACKEND BATCH EPOCHS SAMPLES:PATH [SAMPLES:PATH ...]
"""

from __future__ import annotations

import json
import os
import sys

os.environ["KERAS_BACKEND"] = sys.argv[1]
batch, epochs = int(sys.argv[2]), int(sys.argv[3])
cases = [(int(samples), path) for samples, path in (case.split(":") for case in sys.argv[4:])]

import keras  # noqa: E402
import numpy as np  # noqa: E402

from mnist_dvc.training import fused_epoch  # noqa: E402
from mnist_dvc.training.epoch import epoch_runner  # noqa: E402


def fresh(optimizer: str = "adam") -> keras.Model:
    keras.utils.set_random_seed(3)
    net = keras.Sequential([keras.Input((784,)), keras.layers.Dense(96, activation="relu"),
                            keras.layers.Dense(16, activation="tanh"),
                            keras.layers.Dense(10, activation="softmax")])
    net.compile(optimizer=keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": 1e-3}}),
                loss="categorical_crossentropy", metrics=["accuracy"])
    return net


def largest_gap(a: list, b: list) -> float:
    return max(float(np.abs(np.asarray(u) - np.asarray(v)).max()) for u, v in zip(a, b, strict=True))


def compare(samples: int, path: str) -> dict:
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, samples)]
    x_test = rng.random((300, 784), dtype=np.float32)
    y_test = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 300)]

    def runner_for(net: keras.Model):
        return epoch_runner(net, "categorical_crossentropy", batch, x, y, x_test, y_test,
                            fused=path == "fused")

    plain, compiled = fresh(), fresh()
    runner = runner_for(compiled)
    metric_diff = 0.0
    for epoch in range(epochs):
        if epoch == epochs - 1 and epochs > 1:
            runner = runner_for(compiled)  # a new runner, as after a checkpoint restore
        order = np.random.default_rng([1, epoch]).permutation(samples)
        history = plain.fit(x[order], y[order], batch_size=batch, shuffle=False, verbose=0,
                            validation_data=(x_test, y_test)).history
        ours = (*runner.train(order), *runner.evaluate())
        theirs = tuple(history[k][-1] for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
        metric_diff = max(metric_diff, *(abs(a - b) for a, b in zip(ours, theirs, strict=True)))
    return {
        "metric_diff": metric_diff,
        "weight_diff": largest_gap(plain.get_weights(), compiled.get_weights()),
        "optimizer_diff": largest_gap(plain.optimizer.variables, compiled.optimizer.variables),
        "weights_moved": largest_gap(fresh().get_weights(), compiled.get_weights()),
        "iterations": [int(keras.ops.convert_to_numpy(m.optimizer.iterations)) for m in (plain, compiled)],
    }


def adam_gap(start: int) -> float:
    """Largest difference between the fused Adam update and Keras' `Adam.apply` over 3 steps from
    iteration `start` (bias correction, epsilon placement, the counter), on random arrays."""
    net = fresh()
    optimizer = net.optimizer
    optimizer.build(net.trainable_variables)
    optimizer.iterations.assign(start)
    plan = fused_epoch.Plan(net, "categorical_crossentropy")
    state = fused_epoch.read_values(plan.keras_state())
    gen = np.random.default_rng(start)
    gap = 0.0
    for step in range(3):
        grads = [gen.standard_normal(v.shape).astype(np.float32) for v in net.trainable_variables]
        state = [fused_epoch.adam_update(plan, t, g, optimizer.learning_rate, start + step + 1)
                 for t, g in zip(state, grads, strict=True)]
        optimizer.apply(grads, net.trainable_variables)
        gap = max(gap, largest_gap([w for w, _, _ in state], [v.value for v in net.trainable_variables]))
    return gap


print(json.dumps({
    "cases": {f"{samples}:{path}": compare(samples, path) for samples, path in cases},
    "adam_gap": max(adam_gap(0), adam_gap(1000)),
    "fused_unsupported": {"adam": fused_epoch.fused_unsupported(fresh(), "categorical_crossentropy"),
                          "sgd": fused_epoch.fused_unsupported(fresh("sgd"), "categorical_crossentropy")},
}))
