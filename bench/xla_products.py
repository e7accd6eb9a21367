"""An epoch's matrix products alone, compiled by the backend's XLA in one loop, as the project's epoch is.

The GEMM-only bound (bench/ceiling.py) multiplies with OpenBLAS' best kernel. The project's epoch
multiplies with XLA's own dot kernels, the ones `fit` uses, so that its updates stay those of `fit`.
Timing the same products inside one XLA loop splits the project's distance to the bound in two:
what XLA's products cost over OpenBLAS' (nothing an epoch written for XLA can change), and what the
rest of the step adds (activations, loss, bias gradients, Adam: what fusing can change).

Each step multiplies exactly what a training step does (the forward product of every layer, the
weight gradient of every layer, the input gradient of layers 2..n), over the step's slice of the
images; the last layer's output stands in for its gradient, and each kernel takes a step of
`rate` times its gradient, so every product feeds the next step and none can be left out.
Validation's forward products over the test images follow the loop, in the same call.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np


def _step(matmul, x, weights, rate: float):
    """The weights after one step's products on the batch `x`. `matmul(a, b, transpose_a,
    transpose_b)` is the backend's own, so transposed operands reach XLA's dot as automatic
    differentiation hands them over: as dimension numbers, not copies."""
    acts = [x]
    for w in weights:
        acts.append(matmul(acts[-1], w, False, False))
    grad = acts[-1]
    new = list(weights)
    for i in reversed(range(len(weights))):
        weight_grad = matmul(acts[i], grad, True, False)
        if i:
            grad = matmul(grad, weights[i], False, True)
        new[i] = weights[i] - weight_grad * rate
    return new


def products_epoch(backend: str, hidden: tuple[int, ...], batch: int, x_train: np.ndarray,
                   x_test: np.ndarray, rate: float = 1e-12) -> Callable[[], list[np.ndarray]]:
    """A compiled epoch of the products on `backend` ("tensorflow" or "jax", called directly, so
    Keras' backend does not matter): call it to run one epoch; it returns the final weights
    (float32, seeded). Compiled and run once here, so the caller times warm epochs."""
    n, inputs = x_train.shape
    full, rest = divmod(n, batch)
    widths = [inputs, *hidden, 10]
    rng = np.random.default_rng(0)
    start = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)
             for a, b in itertools.pairwise(widths)]

    if backend == "tensorflow":
        import tensorflow as tf

        def matmul(a, b, transpose_a, transpose_b):
            return tf.linalg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)

        def rows(x, first, count):
            return tf.slice(x, [first, 0], [count, inputs])

        def loop(body, weights):
            return tf.while_loop(lambda i, _: i < full, lambda i, w: (i + 1, body(i, w)),
                                 (tf.constant(0), weights), maximum_iterations=full)[1]

        def compile_(fn):
            return tf.function(fn, jit_compile=True)

        put = tf.constant
    elif backend == "jax":
        import jax

        def matmul(a, b, transpose_a, transpose_b):
            return (a.T if transpose_a else a) @ (b.T if transpose_b else b)

        def rows(x, first, count):
            return jax.lax.dynamic_slice(x, (first, 0), (count, inputs))

        def loop(body, weights):
            return jax.lax.fori_loop(0, full, body, weights)

        compile_, put = jax.jit, jax.device_put
    else:
        raise ValueError(f"no XLA products for backend {backend!r}")

    def epoch(x, x_test, weights):
        weights = list(weights)
        if full:
            weights = loop(lambda i, w: _step(matmul, rows(x, i * batch, batch), w, rate), weights)
        if rest:
            weights = _step(matmul, rows(x, full * batch, rest), weights, rate)
        out = x_test
        for w in weights:
            out = matmul(out, w, False, False)
        return [*weights, out]

    compiled = compile_(epoch)
    args = (put(x_train), put(x_test), [put(w) for w in start])

    def run() -> list[np.ndarray]:
        *weights, _ = compiled(*args)
        return [np.asarray(w) for w in weights]

    run()
    return run
