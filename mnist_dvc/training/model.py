"""The assignment's dense networks, built from params.

Keras is imported inside the functions: the backend (`train.backend`) must be
chosen through KERAS_BACKEND before the first `import keras`, and callers such
as the params validator must not pay for a TensorFlow import.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

from mnist_dvc.core.contracts import CLASSES, FEATURES
from mnist_dvc.core.params import ModelParams, TrainParams

if TYPE_CHECKING:
    import keras

def select_backend(backend: str) -> None:
    """Pin the Keras backend; fails loudly if Keras was already imported with another one."""
    import sys

    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != backend:
            raise RuntimeError(f"keras already imported with backend {current!r}, wanted {backend!r}")
        return
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parameter_count(model: ModelParams, input_dim: int = FEATURES, classes: int = CLASSES) -> int:
    """Trainable weights of the dense stack, computed without Keras (for the dashboard and checks)."""
    widths = [input_dim, *model.hidden, classes]
    return sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(widths))


def build_model(model: ModelParams, train: TrainParams) -> keras.Model:
    """Input(784) -> Dense(width, activation) per hidden layer -> Dense(10, softmax), uncompiled."""
    import keras

    layers = [keras.Input(shape=(FEATURES,), name="pixels")]
    for i, width in enumerate(model.hidden, start=1):
        layers.append(keras.layers.Dense(width, activation=model.activation, name=f"hidden_{i}"))
    layers.append(keras.layers.Dense(CLASSES, activation=model.output, name="digits"))
    return keras.Sequential(layers, name=model.name)


def make_optimizer(train: TrainParams) -> keras.optimizers.Optimizer:
    import keras

    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "nadam": keras.optimizers.Nadam,
        "rmsprop": keras.optimizers.RMSprop,
        "sgd": keras.optimizers.SGD,
    }
    return classes[train.optimizer](learning_rate=train.learning_rate)


def compile_model(net: keras.Model, train: TrainParams) -> None:
    """Adam + categorical cross-entropy + accuracy, as the assignment, with Keras' defaults
    otherwise: what a plain `fit` uses, and what the saved model carries."""
    net.compile(optimizer=make_optimizer(train), loss=train.loss, metrics=["accuracy"])
