"""Run by tests/test_epoch.py in a fresh process per Keras backend (Keras binds its backend at
import): train two identical models, one with plain `fit` on a given order, one with the compiled
epoch, and print how far apart their metrics and weights end up, as JSON."""

from __future__ import annotations

import json
import os
import sys

os.environ["KERAS_BACKEND"] = sys.argv[1]
samples, batch, epochs = (int(a) for a in sys.argv[2:5])

import keras  # noqa: E402
import numpy as np  # noqa: E402

from mnist_dvc.training.epoch import epoch_runner  # noqa: E402

rng = np.random.default_rng(0)
x = rng.random((samples, 784), dtype=np.float32)
y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, samples)]
x_test = rng.random((300, 784), dtype=np.float32)
y_test = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 300)]


def fresh() -> keras.Model:
    keras.utils.set_random_seed(3)
    net = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                            keras.layers.Dense(16, activation="relu"),
                            keras.layers.Dense(10, activation="softmax")])
    net.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    return net


plain, compiled = fresh(), fresh()
runner = epoch_runner(compiled, "categorical_crossentropy", batch, x, y, x_test, y_test)
metric_diff = 0.0
for epoch in range(epochs):
    order = np.random.default_rng([1, epoch]).permutation(samples)
    history = plain.fit(x[order], y[order], batch_size=batch, shuffle=False, verbose=0,
                        validation_data=(x_test, y_test)).history
    ours = (*runner.train(order), *runner.evaluate())
    theirs = tuple(history[k][-1] for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
    metric_diff = max(metric_diff, *(abs(a - b) for a, b in zip(ours, theirs, strict=True)))


def largest_gap(a: keras.Model, b: keras.Model) -> float:
    return max(float(np.abs(u - v).max()) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


print(json.dumps({
    "metric_diff": metric_diff,
    "weight_diff": largest_gap(plain, compiled),
    "weights_moved": largest_gap(fresh(), compiled),
    "iterations": [int(keras.ops.convert_to_numpy(m.optimizer.iterations)) for m in (plain, compiled)],
}))
