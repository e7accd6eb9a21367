"""Training-speed benchmark: the project's training path against plain `fit` and the machine's ceiling.

    python -m bench.train_speed            # every backend installed; writes bench/results.json
    python -m bench.train_speed --quick    # 1 timed epoch, 6,000 images, no scaling/seeds tables (smoke run)

On a fresh clone it first makes its data with `dvc repro prepare` (MNIST_MIRROR is honoured).
Each Keras backend runs in a worker process of its own (Keras binds its backend at import).
In a worker, plain `model.fit`, the previous project path (Keras' model call and optimizer in
one compiled epoch) and the project path (the fused epoch, what `train@<model>` runs) train
one epoch each in turn, followed by the same epoch's matrix products alone, by XLA's own dots in
one compiled loop (bench/xla_products.py) and in numpy (a child process with the machine's
fastest BLAS kernel, bench/ceiling.py), so every ratio compares
measurements taken side by side under the same machine load; each reported ratio is the
median of those per-round ratios.

The ceiling is the best float32 2048² matmul rate of numpy (with the environment's OpenBLAS
kernel and with the fastest one), TensorFlow (oneDNN), XLA through TensorFlow and XLA through
JAX. On the default backend it also times one epoch of S = 1, 3 and 5 seeds of each model
(`train.seeds`), trained one after another and stacked (`stack_seeds`): the seeds' cost. Where a
GPU is visible to a backend, a second worker measures plain `fit`, the project path and the
seeds' cost on it; otherwise the reason is printed. It is a
script, not a test: tests never assert timings. It exits with status 1 when the two paths'
test accuracies disagree by more than the test set's sampling noise allows.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench import ceiling
from bench.xla_products import products_epoch
from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.contracts import PREPARED_DIR, prepared_file
from mnist_dvc.core.errors import ProjectError
from mnist_dvc.core.params import ModelParams, load_params
from mnist_dvc.data.prepared import load_split, one_hot
from mnist_dvc.training.epoch import EpochRunner, epoch_runner
from mnist_dvc.training.model import build_model, compile_model, select_backend
from mnist_dvc.training.seeds import seeds_runner
from mnist_dvc.training.trainer import epoch_permutation

RESULTS = Path("bench/results.json")
WIDTH_MULTIPLIERS = (0.25, 1.0, 4.0)
SCALING_BATCHES = (64, 256)
# What `train.seeds` costs: S seeds of each model, 2 rounds of one epoch per count.
SEED_COUNTS = (1, 3, 5)
SEED_ROUNDS = 2
# Batch size of the accuracy check both paths share (no update happens: only its speed changes).
EVAL_BATCH = 2000
# Standard errors of the difference of two test accuracies allowed before the paths "disagree".
AGREEMENT_SIGMAS = 3.0
# Environment of a worker that must not see a GPU, and of one that may.
CPU_ONLY = {"CUDA_VISIBLE_DEVICES": "-1", "JAX_PLATFORMS": "cpu"}


def layer_macs(hidden: tuple[int, ...]) -> list[int]:
    """Multiply-accumulates of one sample's forward pass, per Dense layer."""
    return [a * b for a, b in itertools.pairwise([784, *hidden, 10])]


def train_gflop(hidden: tuple[int, ...], n_train: int) -> float:
    """One epoch's training products: forward and weight gradient of every layer, input
    gradient of layers 2..n (no path computes the first layer's: nothing needs the images'
    gradient), 2 FLOP per multiply-accumulate."""
    macs = layer_macs(hidden)
    return 2 * n_train * (3 * sum(macs) - macs[0]) / 1e9


def validation_gflop(hidden: tuple[int, ...], n_test: int) -> float:
    """Validation's forward pass over the test set."""
    return 2 * n_test * sum(layer_macs(hidden)) / 1e9


def accuracy_tolerance(accuracy: float, n_test: int) -> float:
    """AGREEMENT_SIGMAS standard errors of the difference of two accuracies near `accuracy`, each
    measured on `n_test` images: the two paths' models differ by rounding, so their accuracies may
    differ by about the test set's sampling noise and no more."""
    p = min(max(accuracy, 1 / n_test), 1 - 1 / n_test)
    return AGREEMENT_SIGMAS * math.sqrt(2 * p * (1 - p) / n_test)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _timed(fn, *args) -> float:
    began = time.perf_counter()
    fn(*args)
    return time.perf_counter() - began


def best_gflops(matmul, a: np.ndarray, b: np.ndarray, repeats: int = 5) -> float:
    """Best-of-`repeats` GFLOP/s of `matmul(a, b)` after one warm-up (and compile) call."""
    matmul(a, b)
    return 2 * len(a) ** 3 / min(_timed(matmul, a, b) for _ in range(repeats)) / 1e9


def framework_probes(backend: str) -> dict[str, float]:
    """The frameworks' own float32 ceiling: a PROBE_N² matmul through each of their paths."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((ceiling.PROBE_N, ceiling.PROBE_N), dtype=np.float32) for _ in range(2))
    if backend == "tensorflow":
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)
        xla = tf.function(tf.matmul, jit_compile=True)
        return {"tensorflow_onednn": best_gflops(lambda p, q: tf.matmul(p, q).numpy(), ta, tb),
                "tensorflow_xla": best_gflops(lambda p, q: xla(p, q).numpy(), ta, tb)}
    import jax
    import jax.numpy as jnp

    ja, jb = jnp.asarray(a), jnp.asarray(b)
    matmul = jax.jit(jnp.matmul)
    return {"jax_xla": best_gflops(lambda p, q: matmul(p, q).block_until_ready(), ja, jb)}


def gemm_bound(hidden: tuple[int, ...], batch: int, n_train: int, n_test: int) -> dict:
    """The epoch's matrix products alone, in numpy, measured in two child processes: with the
    environment's BLAS kernel and with the fastest one; the bound is the faster of the two."""
    args = ["gemm", ",".join(map(str, hidden)), "--batch", str(batch), "--train", str(n_train),
            "--test", str(n_test)]
    runs = {"env": ceiling.measure(args, unpinned=False), "fastest": ceiling.measure(args, unpinned=True)}
    best = min(runs.values(), key=lambda r: r["gemm_epoch_s"])
    return {**{k: best[k] for k in ("gemm_train_s", "gemm_validation_s", "gemm_epoch_s")},
            "kernel": best["blas"]["kernel"],
            "by_kernel": {f"{r['blas']['kernel']} ({name})": r["gemm_epoch_s"] for name, r in runs.items()}}


class Worker:
    """Everything that runs inside one backend's process, on one device."""

    def __init__(self, backend: str, device: str, limit: int) -> None:
        select_backend(backend)
        if backend == "tensorflow":
            import tensorflow as tf

            # Each measured model gets its own runner, so its own traced functions, by design;
            # TensorFlow's "retracing" warning would count them as mistakes.
            tf.get_logger().setLevel("ERROR")
        import keras

        self.keras, self.backend, self.device = keras, backend, device
        self.params = load_params()
        x, y = load_split("train")
        x_test, y_test = load_split("test")
        if limit:
            x, y, x_test, y_test = x[:limit], y[:limit], x_test[: limit // 6], y_test[: limit // 6]
        self.x, self.y_hot = x, one_hot(y)
        self.x_test, self.y_test_hot = x_test, one_hot(y_test)

    def _fresh(self, model: ModelParams):
        """A freshly initialised, compiled model with Keras' defaults: what a plain notebook builds."""
        train = self.params.train
        self.keras.utils.set_random_seed(train.seed)
        net = build_model(model, train)
        compile_model(net, train)
        return net

    def _runner(self, net, batch: int, fused: bool | None = None) -> EpochRunner:
        return epoch_runner(net, self.params.train.loss, batch, self.x, self.y_hot, self.x_test,
                            self.y_test_hot, fused=fused)

    def plain_epoch(self, net, batch: int) -> None:
        net.fit(self.x, self.y_hot, batch_size=batch, verbose=0,
                validation_data=(self.x_test, self.y_test_hot))

    def project_epoch(self, runner: EpochRunner, epoch: int) -> None:
        """What the training loop does per epoch, less its logging."""
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
                "validation_s": validation, "other_s": max(0.0, total - permutation - steps - validation)}

    def compare(self, model: ModelParams, epochs: int) -> dict:
        """A warm-up epoch each, then `epochs` rounds of: plain `fit`, the Keras path, the
        project path and (on the CPU) the same epoch's matrix products alone."""
        batch = self.params.train.batch_size
        n_train, n_test = len(self.x), len(self.x_test)
        plain, keras_path, project = self._fresh(model), self._fresh(model), self._fresh(model)
        keras_runner = self._runner(keras_path, batch, fused=False)
        runner = self._runner(project, batch)
        self.plain_epoch(plain, batch)
        self.project_epoch(keras_runner, 1)
        self.project_epoch(runner, 1)
        times: dict[str, list[float]] = {"plain": [], "keras": [], "project": []}
        bounds, xla_times = [], []
        on_cpu = self.device == "cpu"
        if on_cpu:
            xla_products = products_epoch(self.backend, model.hidden, batch, self.x, self.x_test)
        for epoch in range(2, epochs + 2):
            times["plain"].append(_timed(self.plain_epoch, plain, batch))
            times["keras"].append(_timed(self.project_epoch, keras_runner, epoch))
            times["project"].append(_timed(self.project_epoch, runner, epoch))
            if on_cpu:
                xla_times.append(_timed(xla_products))
                bounds.append(gemm_bound(model.hidden, batch, n_train, n_test))

        def paired(a: list[float], b: list[float]) -> float:
            return statistics.median(p / q for p, q in zip(a, b, strict=True))

        gflop = train_gflop(model.hidden, n_train) + validation_gflop(model.hidden, n_test)
        median = statistics.median(times["project"])
        result = {
            "hidden": list(model.hidden),
            "train_gflop": train_gflop(model.hidden, n_train),
            "validation_gflop": validation_gflop(model.hidden, n_test),
            "epoch_gflop": gflop,
            "plain_fit_s_per_epoch": statistics.median(times["plain"]),
            "keras_path_s_per_epoch": statistics.median(times["keras"]),
            "project_s_per_epoch": median,
            "project_s_min": min(times["project"]), "project_s_max": max(times["project"]),
            "speedup": paired(times["plain"], times["project"]),
            "speedup_over_keras_path": paired(times["keras"], times["project"]),
            "gflops": gflop / median,
            "accuracy_plain": self.accuracy(plain),
            "accuracy_project": self.accuracy(project),
            "test_images": n_test,
            "epochs_timed": epochs,
            "times_s": times,
        }
        if bounds:
            gemm = [b["gemm_epoch_s"] for b in bounds]
            result.update({
                "gemm_s_per_epoch": statistics.median(gemm),
                "gemm_train_s": statistics.median(b["gemm_train_s"] for b in bounds),
                "gemm_validation_s": statistics.median(b["gemm_validation_s"] for b in bounds),
                "gemm_kernel": bounds[0]["kernel"],
                "gemm_by_kernel": bounds[0]["by_kernel"],
                # Each epoch over the matrix products measured right after it, median of rounds.
                "project_over_gemm": paired(times["project"], gemm),
                "keras_path_over_gemm": paired(times["keras"], gemm),
                # The same products by XLA's own dots in one compiled loop (bench/xla_products.py):
                # the first ratio is XLA's products against OpenBLAS', the second what the rest of
                # the project's step adds to them.
                "xla_products_s_per_epoch": statistics.median(xla_times),
                "xla_products_over_gemm": paired(xla_times, gemm),
                "project_over_xla_products": paired(times["project"], xla_times),
                "times_s": {**times, "gemm": gemm, "xla_products": xla_times},
            })
        return result

    def scaling(self, base: ModelParams, epochs: int) -> list[dict]:
        """The project path as the work grows: model_b's widths scaled, two batch sizes; one timed
        epoch after the warm-up each (the 4x widths take tens of seconds an epoch)."""
        rows = []
        for multiplier in WIDTH_MULTIPLIERS:
            hidden = tuple(max(1, round(w * multiplier)) for w in base.hidden)
            model = ModelParams(name=f"{base.name}_x{multiplier}", hidden=hidden,
                                activation=base.activation, output=base.output)
            for batch in SCALING_BATCHES:
                runner = self._runner(self._fresh(model), batch)
                self.project_epoch(runner, 1)
                seconds = statistics.median(_timed(self.project_epoch, runner, e)
                                            for e in range(2, epochs + 2))
                gflop = train_gflop(hidden, len(self.x)) + validation_gflop(hidden, len(self.x_test))
                rows.append({"width_multiplier": multiplier, "hidden": list(hidden), "batch_size": batch,
                             "s_per_epoch": seconds, "epoch_gflop": gflop, "gflops": gflop / seconds})
        return rows


    def seeds_cost(self, model: ModelParams, epochs: int) -> dict[str, list[dict]]:
        """What `train.seeds` = S costs, each way of training the seeds (`models.<name>.stack_seeds`
        false: "sequential", true: "stacked"): one epoch of every seed (train + validation, as the
        stage runs it) for S = SEED_COUNTS, in rounds that alternate all of them, after a warm-up
        epoch each. `over_one_seed` is the median of per-round ratios to one seed trained alone
        (sequential, S = 1), the time a single-seed run takes."""
        train = self.params.train
        ways = {"sequential": False, "stacked": True}
        data = self.x, self.y_hot, self.x_test, self.y_test_hot
        runners = {(way, count): seeds_runner(replace(model, stack_seeds=stacked),
                                              replace(train, seeds=count), *data)
                   for way, stacked in ways.items() for count in SEED_COUNTS}

        def epoch(key: tuple[str, int], number: int) -> None:
            runner = runners[key]
            runner.train([epoch_permutation(seed, number, len(self.x)) for seed in runner.seeds])
            runner.evaluate()

        for key in runners:
            epoch(key, 1)
        times: dict[tuple[str, int], list[float]] = {key: [] for key in runners}
        for number in range(2, epochs + 2):
            for key in runners:
                times[key].append(_timed(epoch, key, number))
        one = times["sequential", 1]
        return {way: [{"seeds": count, "s_per_epoch": statistics.median(times[way, count]),
                       "over_one_seed": statistics.median(t / o for t, o in zip(times[way, count], one,
                                                                               strict=True)),
                       "times_s": times[way, count]}
                      for count in SEED_COUNTS]
                for way in ways}


def gpu_names(backend: str) -> list[str]:
    """The GPUs this backend sees in this process (none with tensorflow-cpu or jax[cpu])."""
    select_backend(backend)
    if backend == "tensorflow":
        import tensorflow as tf

        return [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                for d in tf.config.list_physical_devices("GPU")]
    import jax

    try:
        return [d.device_kind for d in jax.devices("gpu")]
    except RuntimeError:  # no GPU backend: jax[cpu], or no driver
        return []


def run_worker(backend: str, device: str, epochs: int, limit: int, with_scaling: bool) -> dict:
    if device == "gpu":
        gpus = gpu_names(backend)
    worker = Worker(backend, device, limit)
    models = {name: worker.compare(model, epochs) for name, model in worker.params.models.items()}
    result = {"backend": backend, "device": device, "models": models}
    if device == "gpu":
        result["gpu"] = gpus[0] if gpus else None
    else:
        result["matmul_gflops"] = framework_probes(backend)
        for name, model in worker.params.models.items():
            models[name]["breakdown"] = worker.breakdown(model)
        if with_scaling and "model_b" in worker.params.models:
            result["scaling"] = worker.scaling(worker.params.models["model_b"], 1)
    # The seeds' cost on the default backend's CPU run (the one train@<model> uses here) and on
    # a GPU, where stacking the seeds is the natural way to fill the device.
    if with_scaling or device == "gpu":
        result["seeds"] = {name: worker.seeds_cost(model, SEED_ROUNDS)
                           for name, model in worker.params.models.items()}
        result["stack_seeds"] = {name: model.stack_seeds for name, model in worker.params.models.items()}
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def available_backends() -> list[str]:
    return [b for b in ("tensorflow", "jax") if importlib.util.find_spec(b) is not None]


def plan_runs(backends: list[str], gpus: dict[str, list[str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """(backend, device) workers to start, and a line for each backend measured on the CPU only."""
    runs = [(backend, "cpu") for backend in backends]
    notes = []
    for backend in backends:
        if gpus.get(backend):
            runs.append((backend, "gpu"))
        else:
            notes.append(f"{backend}: no GPU visible, measured on the CPU only")
    return runs, notes


def detect_gpus(backend: str, extra_env: dict[str, str] | None = None) -> list[str]:
    """Ask a fresh process of this backend which GPUs it sees (importing a framework here would
    bind this process to it)."""
    proc = subprocess.run([sys.executable, "-m", "bench.train_speed", "--list-gpus", backend],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(extra_env or {})})
    if proc.returncode != 0:
        return []
    return json.loads(proc.stdout.strip().splitlines()[-1])


class BenchError(ProjectError):
    """The benchmark's own one-line failure (the library raises its own ProjectError subclasses)."""


def ensure_data() -> None:
    """On a fresh clone `data/prepared/` is missing: make it through the pipeline's own stages."""
    if prepared_file("x", "train").is_file() and prepared_file("x", "test").is_file():
        return
    print(f"bench: {PREPARED_DIR} is missing; running `dvc repro prepare` (download and prepare)",
          file=sys.stderr, flush=True)
    venv_bin = str(Path(sys.executable).parent)  # DVC runs `python -m stages...` through the shell
    env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run([sys.executable, "-m", "dvc", "repro", "prepare"], env=env)
    if proc.returncode != 0:
        raise BenchError("`dvc repro prepare` failed (see above); set MNIST_MIRROR to a local MNIST copy "
                         "if the download hosts cannot be reached")


def summarize(runs: list[dict], numpy_probes: dict[str, dict]) -> dict:
    """The ceiling over every probe, and each model's rates and agreement against it."""
    probes = {f"numpy_{name}": probe["gflops"] for name, probe in numpy_probes.items()}
    for run in runs:
        probes.update(run.get("matmul_gflops", {}))
    best = max(probes, key=probes.get)
    for run in runs:
        for m in run["models"].values():
            m["backend"], m["device"] = run["backend"], run["device"]
            if run["device"] == "cpu":
                m["of_ceiling"] = m["gflops"] / probes[best]
            mean = (m["accuracy_plain"] + m["accuracy_project"]) / 2
            m["accuracy_tolerance"] = accuracy_tolerance(mean, m["test_images"])
            m["accuracy_agree"] = abs(m["accuracy_plain"] - m["accuracy_project"]) <= m["accuracy_tolerance"]
    return {"gflops": probes[best], "source": best, "probes": probes,
            "numpy_kernels": {name: probe["blas"] for name, probe in numpy_probes.items()}}


def table(results: dict) -> str:
    top = results["ceiling"]
    lines = [f"machine: {results['machine']['cpu']} ({results['machine']['cores']} cores); "
             f"ceiling {top['gflops']:.0f} GFLOP/s ({top['source']}); probes: "
             + ", ".join(f"{k} {v:.0f}" for k, v in top["probes"].items()),
             "numpy kernels: " + ", ".join(f"{k} = {v['kernel']}" for k, v in top["numpy_kernels"].items()),
             "",
             f"{'model':8} {'backend':10} {'plain s/ep':>10} {'keras s/ep':>10} {'project s/ep':>12} "
             f"{'speed-up':>8} {'GFLOP/s':>8} {'of ceil':>7} {'gemm s':>7} {'x gemm':>6} "
             f"{'acc plain':>9} {'acc proj':>9}"]
    for run in results["runs"]:
        if run["device"] != "cpu":
            continue
        for name, m in run["models"].items():
            lines.append(
                f"{name:8} {run['backend']:10} {m['plain_fit_s_per_epoch']:10.2f} "
                f"{m['keras_path_s_per_epoch']:10.3f} {m['project_s_per_epoch']:12.3f} "
                f"{m['speedup']:7.1f}x {m['gflops']:8.0f} {m['of_ceiling']:7.0%} "
                f"{m['gemm_s_per_epoch']:7.3f} {m['project_over_gemm']:6.2f} "
                f"{m['accuracy_plain']:9.4f} {m['accuracy_project']:9.4f}")
    lines += ["", "the same products by XLA's own dots in one compiled loop (bench/xla_products.py): "
              "s/epoch, x gemm-only, and the project's epoch x them"]
    for run in results["runs"]:
        for name, m in run["models"].items():
            if "xla_products_s_per_epoch" in m:
                lines.append(f"{name:8} {run['backend']:10} xla products {m['xla_products_s_per_epoch']:.3f}"
                             f" = {m['xla_products_over_gemm']:.2f}x gemm; project"
                             f" {m['project_over_xla_products']:.2f}x xla products")
    lines += ["", "where one project-path epoch goes (s): permutation, compiled train epoch, validation, "
              "other (Python between calls); gemm = numpy time of the same matrix products alone"]
    for run in results["runs"]:
        for name, m in run["models"].items():
            if "breakdown" in m:
                b = m["breakdown"]
                lines.append(f"{name:8} {run['backend']:10} epoch {b['epoch_s']:.3f}"
                             f" = permutation {b['permutation_s']:.3f} + steps {b['train_steps_s']:.3f}"
                             f" + validation {b['validation_s']:.3f} + other {b['other_s']:.3f};"
                             f" gemm {m['gemm_train_s']:.3f} + {m['gemm_validation_s']:.3f}")
    for run in results["runs"]:
        if run["device"] == "gpu":
            lines += ["", f"GPU ({run['backend']}, {run['gpu']}):"]
            lines += [f"{name:8} plain {m['plain_fit_s_per_epoch']:.3f} s/epoch, project "
                      f"{m['project_s_per_epoch']:.3f} s/epoch, {m['speedup']:.1f}x"
                      for name, m in run["models"].items()]
    lines += ["", *results["gpu_notes"]]
    for run in results["runs"]:
        if "scaling" in run:
            lines += ["", f"scaling ({run['backend']}, project path, model_b widths x multiplier):",
                      f"{'x':>5} {'hidden':18} {'batch':>5} {'s/epoch':>8} {'GFLOP/s':>8}"]
            lines += [f"{r['width_multiplier']:5} {r['hidden']!s:18} {r['batch_size']:5} "
                      f"{r['s_per_epoch']:8.3f} {r['gflops']:8.0f}" for r in run["scaling"]]
    for run in results["runs"]:
        if "seeds" in run:
            lines += ["", f"seeds ({run['backend']} {run['device']}): one epoch of S seeds (train + "
                          "validation), s and x one seed alone; * = the way params.yaml trains that model"]
            for name, ways in run["seeds"].items():
                for way, rows in ways.items():
                    mark = "*" if (way == "stacked") == run["stack_seeds"].get(name, False) else " "
                    cells = (f"S={r['seeds']} {r['s_per_epoch']:.3f} ({r['over_one_seed']:.2f}x)"
                             for r in rows)
                    lines.append(f"{name:8} {way:10}{mark} " + "  ".join(cells))
    lines += [f"peak memory ({run['backend']} {run['device']} worker): {run['peak_rss_mb']:.0f} MB"
              for run in results["runs"]]
    return "\n".join(lines)


def disagreements(results: dict) -> list[str]:
    return [f"{name} on {run['backend']} ({run['device']}): test accuracy plain {m['accuracy_plain']:.4f} vs "
            f"project {m['accuracy_project']:.4f} differs by more than {m['accuracy_tolerance']:.4f} "
            f"({AGREEMENT_SIGMAS:g} standard errors on {m['test_images']} images)"
            for run in results["runs"] for name, m in run["models"].items() if not m["accuracy_agree"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per path (after one warm-up)")
    parser.add_argument("--backend", action="append", choices=("tensorflow", "jax"),
                        help="backends to measure (default: every one installed)")
    parser.add_argument("--quick", action="store_true", help="1 timed epoch, 6000 images, no scaling table")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "DEVICE"), help=argparse.SUPPRESS)
    parser.add_argument("--list-gpus", metavar="BACKEND", help=argparse.SUPPRESS)
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling and seeds tables")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.limit, args.no_scaling = 1, args.limit or 6000, True
    if args.epochs < 1:
        raise BenchError("--epochs must be >= 1")
    if args.list_gpus:
        print(json.dumps(gpu_names(args.list_gpus)))
        return 0
    if args.worker:
        backend, device = args.worker
        print(json.dumps(run_worker(backend, device, args.epochs, args.limit, not args.no_scaling)))
        return 0

    began = time.perf_counter()
    default_backend = load_params().train.backend
    ensure_data()
    load_split("train", mmap=True)  # a damaged file fails now, in one line
    backends = args.backend or available_backends()
    numpy_probes = {"env": ceiling.measure(["probe"], unpinned=False),
                    "fastest": ceiling.measure(["probe"], unpinned=True)}
    plan, gpu_notes = plan_runs(backends, {b: detect_gpus(b) for b in backends})
    for note in gpu_notes:
        print(note, file=sys.stderr)
    runs = []
    for backend, device in plan:
        print(f"benchmarking {backend} on the {device} ...", file=sys.stderr, flush=True)
        cmd = [sys.executable, "-m", "bench.train_speed", "--worker", backend, device,
               "--epochs", str(args.epochs), "--limit", str(args.limit)]
        if args.no_scaling or backend != default_backend:
            cmd.append("--no-scaling")
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(CPU_ONLY if device == "cpu" else {})}
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
        if proc.returncode != 0:
            raise BenchError(f"the {backend} {device} worker failed (exit {proc.returncode}); "
                             "see its output above")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    top = summarize(runs, numpy_probes)
    cpu_runs = [r for r in runs if r["device"] == "cpu"]
    results = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
        "ceiling": top,
        "settings": {"epochs_timed": args.epochs, "train_limit": args.limit or None},
        "runs": runs,
        "gpu_notes": gpu_notes,
        # The default backend's CPU numbers (params.yaml's train.backend), in the flat shape.
        "models": next((r for r in cpu_runs if r["backend"] == default_backend), cpu_runs[0])["models"],
    }
    problems = disagreements(results)
    results["accuracy_agree"] = not problems
    results["bench_wall_s"] = time.perf_counter() - began
    write_json(args.output, results)
    print(table(results))
    print(f"wrote {args.output} in {results['bench_wall_s']:.0f} s")
    if problems:
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ProjectError as exc:  # one line, like a stage's, never a traceback for a fixable problem
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
