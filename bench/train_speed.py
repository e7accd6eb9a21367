"""Training-speed benchmark: the project's training path against a plain `model.fit`.

    python -m bench.train_speed            # both backends where installed; writes bench/results.json
    python -m bench.train_speed --quick    # fewer epochs, no scaling table (a smoke run)

Both paths run in the same process, on the same data, with the same seed, one
epoch at a time in alternation (plain, project, plain, project, ...), so each
speed-up is a ratio of two epochs measured side by side under the same machine
load; the reported speed-up is the median of those pairwise ratios. A float32
2048x2048 matmul probe, run in the same process through the framework and
through numpy, gives the machine's own limit to compare the achieved GFLOP/s
with. Each Keras backend needs its own process (Keras binds its backend at
import), so the orchestrator starts one worker per backend.

It needs `data/prepared/` (`dvc repro prepare`). It is a script, not a test:
tests never assert timings.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.params import ModelParams, load_params
from mnist_dvc.data.prepared import load_split, one_hot
from mnist_dvc.training.epoch import EpochRunner, epoch_runner
from mnist_dvc.training.model import build_model, compile_model, select_backend
from mnist_dvc.training.trainer import epoch_permutation
from stages.cli import StageError, run_stage

RESULTS = Path("bench/results.json")
PROBE_N = 2048
WIDTH_MULTIPLIERS = (0.25, 1.0, 4.0)
SCALING_BATCHES = (64, 256)
# Batch size of the accuracy check both paths share (no update happens: only its speed changes).
EVAL_BATCH = 2000


def macs(hidden: tuple[int, ...]) -> int:
    """Multiply-accumulates of one sample's forward pass through the dense stack."""
    widths = [784, *hidden, 10]
    return sum(a * b for a, b in itertools.pairwise(widths))


def epoch_gflop(hidden: tuple[int, ...], n_train: int, n_test: int) -> float:
    """One epoch's arithmetic: forward + backward (3 matmuls of 2 FLOP per MAC) on the
    training set, forward only on the test set for validation."""
    return (6 * macs(hidden) * n_train + 2 * macs(hidden) * n_test) / 1e9


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def matmul_probe(backend_matmul) -> dict[str, float]:
    """Best-of-5 GFLOP/s of a float32 square matmul through the framework and through numpy."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((PROBE_N, PROBE_N), dtype=np.float32)
    b = rng.standard_normal((PROBE_N, PROBE_N), dtype=np.float32)
    flop = 2 * PROBE_N**3
    result = {}
    for name, fn in (("framework", backend_matmul), ("numpy", np.matmul)):
        fn(a, b)  # warm-up (and compile, for the framework)
        best = min(_timed(fn, a, b) for _ in range(5))
        result[name] = flop / best / 1e9
    return result


def numpy_probe_gflops(a: np.ndarray, b: np.ndarray) -> float:
    """Best of 3 numpy products of two square matrices: the machine's rate at this moment."""
    return 2 * len(a) ** 3 / min(_timed(np.matmul, a, b) for _ in range(3)) / 1e9


def _timed(fn, *args) -> float:
    began = time.perf_counter()
    fn(*args)
    return time.perf_counter() - began


def gemm_seconds(hidden: tuple[int, ...], batch: int, n_train: int, n_test: int) -> float:
    """numpy time of exactly the matrix products of one epoch at this batch size (forward,
    input-gradient and weight-gradient per layer; validation forward), nothing else: the
    machine's limit for this shape, which small batches keep far below the square probe."""
    rng = np.random.default_rng(0)
    widths = [784, *hidden, 10]
    weights = [rng.standard_normal((a, b), dtype=np.float32) for a, b in itertools.pairwise(widths)]
    acts = [rng.standard_normal((batch, w), dtype=np.float32) for w in widths]

    def one_step() -> None:
        for i, w in enumerate(weights):
            acts[i] @ w                      # forward
            acts[i].T @ acts[i + 1]          # weight gradient
            if i:
                acts[i + 1] @ w.T            # input gradient (not needed for the first layer)

    one_step()
    steps = 50
    per_step = min(_timed(lambda: [one_step() for _ in range(steps)]) for _ in range(3)) / steps
    forward_share = 1 / 3  # validation runs the forward products only
    return per_step * (-(-n_train // batch) + forward_share * n_test / batch)


class Worker:
    """Everything that runs inside one backend's process."""

    def __init__(self, backend: str, limit: int) -> None:
        select_backend(backend)
        if backend == "tensorflow":
            import tensorflow as tf

            # Each measured model gets its own runner, so its own two traced functions, by design;
            # TensorFlow's "retracing" warning would count them as mistakes.
            tf.get_logger().setLevel("ERROR")
        import keras

        self.keras, self.backend = keras, backend
        self.params = load_params()
        x, y = load_split("train")
        x_test, y_test = load_split("test")
        if limit:
            x, y, x_test, y_test = x[:limit], y[:limit], x_test[: limit // 6], y_test[: limit // 6]
        self.x, self.y, self.y_hot = x, y, one_hot(y)
        self.x_test, self.y_test_hot = x_test, one_hot(y_test)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ops = self.keras.ops
        return ops.convert_to_numpy(ops.matmul(ops.convert_to_tensor(a), ops.convert_to_tensor(b)))

    def _fresh(self, model: ModelParams):
        """A freshly initialised, compiled model with Keras' defaults: what a plain notebook builds."""
        train = self.params.train
        self.keras.utils.set_random_seed(train.seed)
        net = build_model(model, train)
        compile_model(net, train)
        return net

    def _runner(self, net, batch: int) -> EpochRunner:
        return epoch_runner(net, self.params.train.loss, batch, self.x, self.y_hot, self.x_test,
                            self.y_test_hot)

    def plain_epoch(self, net, batch: int) -> None:
        net.fit(self.x, self.y_hot, batch_size=batch, verbose=0,
                validation_data=(self.x_test, self.y_test_hot))

    def project_epoch(self, runner: EpochRunner, epoch: int) -> None:
        """What stages/train.py does per epoch, less its logging (1.5 ms, measured apart)."""
        runner.train(epoch_permutation(self.params.train.seed, epoch, len(self.x)))
        runner.evaluate()

    def accuracy(self, net) -> float:
        scores = net.evaluate(self.x_test, self.y_test_hot, batch_size=EVAL_BATCH, verbose=0,
                              return_dict=True)
        return float(scores["accuracy"])

    def breakdown(self, model: ModelParams) -> dict[str, float]:
        """Where one project-path epoch goes: drawing the permutation, the compiled training
        epoch, the validation pass, and what is left (Python between the calls)."""
        batch = self.params.train.batch_size
        runner = self._runner(self._fresh(model), batch)
        self.project_epoch(runner, 1)  # compile both functions first
        seed, n = self.params.train.seed, len(self.x)
        permutation = min(_timed(epoch_permutation, seed, 2, n) for _ in range(3))
        order = epoch_permutation(seed, 2, n)
        steps = statistics.median(_timed(runner.train, order) for _ in range(3))
        validation = statistics.median(_timed(runner.evaluate) for _ in range(3))
        total = statistics.median(_timed(self.project_epoch, runner, e) for e in range(3, 6))
        return {"epoch_s": total, "permutation_s": permutation, "train_steps_s": steps,
                "validation_s": validation, "other_s": max(0.0, total - permutation - steps - validation),
                "gemm_bound_s": gemm_seconds(model.hidden, batch, len(self.x), len(self.x_test))}

    def compare(self, model: ModelParams, epochs: int) -> dict:
        """Warm-up epoch each, then `epochs` alternating timed epochs of plain and project."""
        batch = self.params.train.batch_size
        plain, project = self._fresh(model), self._fresh(model)
        runner = self._runner(project, batch)
        self.plain_epoch(plain, batch)
        self.project_epoch(runner, 1)
        rng = np.random.default_rng(0)
        a, b = (rng.standard_normal((PROBE_N, PROBE_N), dtype=np.float32) for _ in range(2))
        plain_s, project_s, probe = [], [], []
        for epoch in range(2, epochs + 2):
            plain_s.append(_timed(self.plain_epoch, plain, batch))
            project_s.append(_timed(self.project_epoch, runner, epoch))
            probe.append(numpy_probe_gflops(a, b))
        gflop = epoch_gflop(model.hidden, len(self.x), len(self.x_test))
        median = statistics.median(project_s)
        return {
            "hidden": list(model.hidden),
            "epoch_gflop": gflop,
            "plain_fit_s_per_epoch": statistics.median(plain_s),
            "plain_fit_s_min": min(plain_s), "plain_fit_s_max": max(plain_s),
            "project_s_per_epoch": median,
            "project_s_min": min(project_s), "project_s_max": max(project_s),
            "speedup": statistics.median(p / q for p, q in zip(plain_s, project_s, strict=True)),
            "gflops": gflop / median,
            # Each epoch against the probe measured right after it, under the same machine load
            # (the best-of-run probe in `matmul_fraction` is the stricter yardstick).
            "matmul_fraction_paired": statistics.median(gflop / s / g for s, g in zip(project_s, probe,
                                                                                       strict=True)),
            "accuracy_plain": self.accuracy(plain),
            "accuracy_project": self.accuracy(project),
            "epochs_timed": epochs,
        }

    def scaling(self, base: ModelParams, epochs: int) -> list[dict]:
        """The project path as the work grows: model_b's widths scaled, two batch sizes."""
        rows = []
        for multiplier in WIDTH_MULTIPLIERS:
            hidden = tuple(max(1, round(w * multiplier)) for w in base.hidden)
            model = ModelParams(name=f"{base.name}_x{multiplier}", hidden=hidden,
                                activation=base.activation, output=base.output)
            for batch in SCALING_BATCHES:
                runner = self._runner(self._fresh(model), batch)
                self.project_epoch(runner, 1)
                times = [_timed(self.project_epoch, runner, e) for e in range(2, epochs + 2)]
                seconds = statistics.median(times)
                gflop = epoch_gflop(hidden, len(self.x), len(self.x_test))
                rows.append({"width_multiplier": multiplier, "hidden": list(hidden), "batch_size": batch,
                             "s_per_epoch": seconds, "epoch_gflop": gflop, "gflops": gflop / seconds})
        return rows


def run_worker(backend: str, epochs: int, limit: int, with_scaling: bool) -> dict:
    worker = Worker(backend, limit)
    probe = matmul_probe(worker.matmul)
    models = {name: worker.compare(model, epochs) for name, model in worker.params.models.items()}
    for name, model in worker.params.models.items():
        models[name]["breakdown"] = worker.breakdown(model)
    result = {"backend": backend, "matmul_gflops": probe, "models": models,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if with_scaling and "model_b" in worker.params.models:
        result["scaling"] = worker.scaling(worker.params.models["model_b"], max(2, epochs - 1))
    return result


def available_backends() -> list[str]:
    return [b for b in ("tensorflow", "jax") if importlib.util.find_spec(b) is not None]


def table(results: dict) -> str:
    lines = [f"machine: {results['machine']['cpu']} ({results['machine']['cores']} cores); "
             f"matmul probe {results['matmul_probe_gflops']:.0f} GFLOP/s (best of framework and numpy)",
             "",
             f"{'model':8} {'backend':10} {'plain s/ep':>10} {'project s/ep':>12} {'speed-up':>8} "
             f"{'GFLOP/s':>8} {'of probe':>8} {'paired':>6} {'acc plain':>9} {'acc proj':>9}"]
    for run in results["runs"]:
        for name, m in run["models"].items():
            lines.append(
                f"{name:8} {run['backend']:10} {m['plain_fit_s_per_epoch']:10.2f} "
                f"{m['project_s_per_epoch']:12.2f} "
                f"{m['speedup']:7.1f}x {m['gflops']:8.0f} {m['matmul_fraction']:8.0%} "
                f"{m['matmul_fraction_paired']:6.0%} "
                f"{m['accuracy_plain']:9.4f} {m['accuracy_project']:9.4f}")
    lines += ["", "where one project-path epoch goes (s): permutation, compiled train epoch, validation, "
              "other (Python between calls); gemm = numpy time of the same matrix products alone"]
    for run in results["runs"]:
        for name, m in run["models"].items():
            b = m["breakdown"]
            lines.append(f"{name:8} {run['backend']:10} epoch {b['epoch_s']:.2f}"
                         f" = permutation {b['permutation_s']:.3f} + steps {b['train_steps_s']:.2f}"
                         f" + validation {b['validation_s']:.2f}"
                         f" + other {b['other_s']:.2f}; gemm {b['gemm_bound_s']:.2f}")
    for run in results["runs"]:
        if "scaling" in run:
            lines += ["", f"scaling ({run['backend']}, project path, model_b widths x multiplier):",
                      f"{'x':>5} {'hidden':18} {'batch':>5} {'s/epoch':>8} {'GFLOP/s':>8}"]
            lines += [f"{r['width_multiplier']:5} {r['hidden']!s:18} {r['batch_size']:5} "
                      f"{r['s_per_epoch']:8.2f} {r['gflops']:8.0f}" for r in run["scaling"]]
    lines += [f"peak memory ({run['backend']} worker): {run['peak_rss_mb']:.0f} MB"
              for run in results["runs"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per path (after one warm-up)")
    parser.add_argument("--backend", action="append", choices=("tensorflow", "jax"),
                        help="backends to measure (default: every one installed)")
    parser.add_argument("--quick", action="store_true", help="1 timed epoch, 6000 images, no scaling table")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.limit, args.no_scaling = 1, args.limit or 6000, True
    if args.epochs < 1:
        raise StageError("--epochs must be >= 1")
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.epochs, args.limit, not args.no_scaling)))
        return 0

    default_backend = load_params().train.backend
    load_split("train", mmap=True)  # fail now, in one line, if `prepare` has not run
    backends = args.backend or available_backends()
    runs = []
    for backend in backends:
        print(f"benchmarking {backend} ...", file=sys.stderr, flush=True)
        cmd = [sys.executable, "-m", "bench.train_speed", "--worker", backend,
               "--epochs", str(args.epochs), "--limit", str(args.limit)]
        if args.no_scaling:
            cmd.append("--no-scaling")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if proc.returncode != 0:
            raise StageError(f"the {backend} worker failed (exit {proc.returncode}); see its output above")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    probe = max(max(run["matmul_gflops"].values()) for run in runs)
    for run in runs:
        for m in run["models"].values():
            m["matmul_fraction"] = m["gflops"] / probe
            m["backend"] = run["backend"]
            m["accuracy_agree"] = abs(m["accuracy_plain"] - m["accuracy_project"]) <= 0.005
    results = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
        "matmul_probe_gflops": probe,
        "settings": {"epochs_timed": args.epochs, "train_limit": args.limit or None},
        "runs": runs,
        # The default backend's numbers (params.yaml's train.backend), in the flat shape.
        "models": next((r for r in runs if r["backend"] == default_backend), runs[0])["models"],
    }
    write_json(args.output, results)
    print(table(results))
    for run in runs:
        for name, m in run["models"].items():
            if not m["accuracy_agree"]:
                print(f"note: {name} on {run['backend']}: test accuracy of the two paths differs by "
                      f"{abs(m['accuracy_plain'] - m['accuracy_project']) * 100:.2f} points (> 0.5)")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    run_stage(main)
