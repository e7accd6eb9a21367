"""The machine's matrix-product ceiling, measured with numpy in a process of its own.

    python -m bench.ceiling probe                      # 2048² float32 matmul, GFLOP/s, as JSON
    python -m bench.ceiling gemm 256,512,128 --batch 64 --train 60000 --test 10000

The environment may pin OpenBLAS to an older kernel (`OPENBLAS_CORETYPE=Haswell` and an
`OPENBLAS_L2_SIZE`): OpenBLAS reads them once, when it loads, so a process that has already
imported numpy cannot measure the machine's fastest kernel. `measure()` therefore starts this
module in a fresh process, either with the environment as it is or with those two variables
removed (the change lives only in that child's environment: tests and training never see it),
and reads back one JSON line that also says which kernel ran (threadpoolctl).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

import numpy as np

PROBE_N = 2048
# What the environment may set to hold OpenBLAS to its AVX2 kernels; removed only in the probe's child.
OPENBLAS_PINS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def blas_kernel() -> dict[str, object]:
    """Which BLAS numpy called in this process: library, its kernel ("architecture"), threads."""
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return {"library": pool.get("internal_api"), "version": pool.get("version"),
                    "kernel": pool.get("architecture"), "threads": pool.get("num_threads")}
    return {"library": None, "version": None, "kernel": None, "threads": None}


def probe_gflops(repeats: int = 5) -> float:
    """Best-of-`repeats` GFLOP/s of a float32 PROBE_N² matmul."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((PROBE_N, PROBE_N), dtype=np.float32) for _ in range(2))
    a @ b
    return 2 * PROBE_N**3 / min(_timed(lambda: a @ b) for _ in range(repeats)) / 1e9


def gemm_products(hidden: tuple[int, ...], batch: int, inputs: int = 784, classes: int = 10):
    """The matrix products of one training step at `batch` rows, as closures over random operands:
    forward per layer, weight gradient per layer, input gradient of layers 2..n (nothing needs the
    gradient of the images). Exactly what a training step multiplies, nothing else."""
    rng = np.random.default_rng(0)
    widths = [inputs, *hidden, classes]
    weights = [rng.standard_normal((a, b), dtype=np.float32) for a, b in itertools.pairwise(widths)]
    acts = [rng.standard_normal((batch, w), dtype=np.float32) for w in widths]
    products = []
    for i, w in enumerate(weights):
        products.append(lambda i=i, w=w: acts[i] @ w)
        products.append(lambda i=i: acts[i].T @ acts[i + 1])
        if i:
            products.append(lambda i=i, w=w: acts[i + 1] @ w.T)
    return products


def step_seconds(hidden: tuple[int, ...], batch: int, steps: int = 50, repeats: int = 3) -> float:
    """Best per-step time of one training step's matrix products at `batch` rows."""
    products = gemm_products(hidden, batch)

    def run() -> None:
        for _ in range(steps):
            for product in products:
                product()

    run()
    return min(_timed(run) for _ in range(repeats)) / steps


def validation_seconds(hidden: tuple[int, ...], rows: int, repeats: int = 3) -> float:
    """Best time of the forward products over `rows` images in one pass (as validation runs)."""
    rng = np.random.default_rng(1)
    widths = [784, *hidden, 10]
    weights = [rng.standard_normal((a, b), dtype=np.float32) for a, b in itertools.pairwise(widths)]
    x = rng.standard_normal((rows, 784), dtype=np.float32)

    def run() -> None:
        a = x
        for w in weights:
            a = a @ w

    run()
    return min(_timed(run) for _ in range(repeats))


def gemm_epoch(hidden: tuple[int, ...], batch: int, n_train: int, n_test: int) -> dict[str, float]:
    """Seconds of one epoch's matrix products alone: training at `batch` rows (the full batches and
    the short last one) and validation's forward pass, measured apart."""
    full, rest = divmod(n_train, batch)
    train = full * step_seconds(hidden, batch) + (step_seconds(hidden, rest) if rest else 0.0)
    validation = validation_seconds(hidden, n_test) if n_test else 0.0
    return {"gemm_train_s": train, "gemm_validation_s": validation, "gemm_epoch_s": train + validation}


def child_env(unpinned: bool, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a probe child: `base` (this process's) as it is, or without the
    OpenBLAS pins. A copy: the caller's environment keeps its pins."""
    env = dict(os.environ if base is None else base)
    if unpinned:
        for name in OPENBLAS_PINS:
            env.pop(name, None)
    return env


def measure(args: list[str], unpinned: bool) -> dict:
    """Run this module with `args` in a fresh process and return its JSON answer."""
    proc = subprocess.run([sys.executable, "-m", "bench.ceiling", *args], stdout=subprocess.PIPE,
                          text=True, env=child_env(unpinned), check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("probe", help=f"GFLOP/s of a float32 {PROBE_N}² matmul")
    gemm = sub.add_parser("gemm", help="seconds of one epoch's matrix products alone")
    gemm.add_argument("hidden", help="hidden widths, comma-separated")
    gemm.add_argument("--batch", type=int, default=64)
    gemm.add_argument("--train", type=int, default=60_000)
    gemm.add_argument("--test", type=int, default=10_000)
    args = parser.parse_args(argv)
    answer: dict[str, object] = {"blas": blas_kernel(),
                                 "pins": {name: os.environ.get(name) for name in OPENBLAS_PINS}}
    if args.what == "probe":
        answer["gflops"] = probe_gflops()
    else:
        hidden = tuple(int(w) for w in args.hidden.split(","))
        answer.update(gemm_epoch(hidden, args.batch, args.train, args.test))
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
