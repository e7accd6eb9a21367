"""The benchmarks' arithmetic, ceiling probe, GPU plan, inputs and reports (timings are never asserted)."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from bench import ceiling
from bench.train_speed import (
    CPU_ONLY,
    accuracy_tolerance,
    detect_gpus,
    disagreements,
    layer_macs,
    plan_runs,
    summarize,
    table,
    train_gflop,
    validation_gflop,
)


def test_flop_counts_are_the_products_training_really_computes():
    assert sum(layer_macs((256, 512, 128))) == 398_592
    assert sum(layer_macs((64, 128, 64))) == 67_200  # 67,466 parameters less 266 biases
    # forward + weight gradient of 4 layers, input gradient of layers 2..4: 3 x 398,592 - 784 x 256
    assert train_gflop((256, 512, 128), 60_000) == pytest.approx(2 * 60_000 * 995_072 / 1e9)
    assert train_gflop((256, 512, 128), 60_000) + validation_gflop((256, 512, 128), 10_000) == \
        pytest.approx(127.4, abs=0.05)
    assert train_gflop((64, 128, 64), 60_000) + validation_gflop((64, 128, 64), 10_000) == \
        pytest.approx(19.5, abs=0.05)
    assert validation_gflop((64, 128, 64), 10_000) == pytest.approx(2 * 10_000 * 67_200 / 1e9)


def test_gemm_bound_multiplies_exactly_what_a_training_step_does():
    # 4 layers: 4 forward + 4 weight-gradient + 3 input-gradient products (none for the images)
    products = ceiling.gemm_products((8, 16, 4), batch=5)
    shapes = sorted(p().shape for p in products)
    assert len(products) == 11
    assert shapes == sorted([(5, 8), (5, 16), (5, 4), (5, 10),        # forward
                             (784, 8), (8, 16), (16, 4), (4, 10),     # weight gradients
                             (5, 8), (5, 16), (5, 4)])                # input gradients of layers 2..4


def test_the_probe_child_alone_loses_the_openblas_pins():
    pinned = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "262144", "HOME": "/x"}
    assert ceiling.child_env(True, pinned) == {"HOME": "/x"}
    assert ceiling.child_env(False, pinned) == pinned
    before = dict(os.environ)
    answer = ceiling.measure(["gemm", "8,8", "--batch", "4", "--train", "10", "--test", "3"], unpinned=True)
    assert dict(os.environ) == before
    assert answer["pins"] == {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None}
    assert answer["blas"]["library"] and answer["blas"]["kernel"]  # which kernel ran, from threadpoolctl
    assert 0 < answer["gemm_train_s"] < answer["gemm_epoch_s"]


def test_a_gpu_is_measured_only_where_a_backend_sees_one():
    runs, notes = plan_runs(["tensorflow", "jax"], {"tensorflow": [], "jax": []})
    assert runs == [("tensorflow", "cpu"), ("jax", "cpu")]
    assert notes == ["tensorflow: no GPU visible, measured on the CPU only",
                     "jax: no GPU visible, measured on the CPU only"]
    runs, notes = plan_runs(["tensorflow", "jax"], {"tensorflow": ["NVIDIA H100"], "jax": []})
    assert runs == [("tensorflow", "cpu"), ("jax", "cpu"), ("tensorflow", "gpu")]
    assert notes == ["jax: no GPU visible, measured on the CPU only"]


BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(importlib.util.find_spec(b) is None,
                                                       reason=f"{b} is not installed"))
            for b in ("tensorflow", "jax")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_xla_products_multiply_what_a_training_step_does(backend):
    """The compiled products' epoch against the same recurrence in numpy: full batches, the short
    last one, every product feeding the next step (so XLA can leave none out)."""
    from bench.xla_products import products_epoch

    rng = np.random.default_rng(3)
    x, x_test = rng.standard_normal((10, 6), dtype=np.float32), rng.standard_normal((3, 6), dtype=np.float32)
    run = products_epoch(backend, (5, 4), batch=4, x_train=x, x_test=x_test, rate=0.01)
    init = np.random.default_rng(0)
    weights = [init.standard_normal((a, b)) / np.sqrt(a) for a, b in ((6, 5), (5, 4), (4, 10))]
    for first in (0, 4, 8):  # two full batches of 4, then the last 2 images
        acts = [x[first:first + 4].astype(np.float64)]
        for w in weights:
            acts.append(acts[-1] @ w)
        grad, new = acts[-1], list(weights)
        for i in reversed(range(3)):
            new[i] = weights[i] - 0.01 * (acts[i].T @ grad)
            grad = grad @ weights[i].T
        weights = new
    got = run()
    assert [w.shape for w in got] == [(6, 5), (5, 4), (4, 10)]
    for mine, expected in zip(got, weights, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(run()[0], got[0])  # each call is one epoch from the same start


@pytest.mark.parametrize("backend", BACKENDS)
def test_gpu_detection_asks_the_backend_and_cpu_workers_see_none(backend):
    found = detect_gpus(backend)  # whatever this machine has: a list of names, empty without a GPU
    assert isinstance(found, list) and all(isinstance(name, str) and name for name in found)
    assert detect_gpus(backend, CPU_ONLY) == []  # what a CPU worker runs with


def test_accuracy_tolerance_fits_the_test_set_size():
    assert accuracy_tolerance(0.97, 10_000) == pytest.approx(3 * (2 * 0.97 * 0.03 / 10_000) ** 0.5)
    assert accuracy_tolerance(0.97, 1_000) > 3 * accuracy_tolerance(0.97, 10_000)
    assert accuracy_tolerance(1.0, 100) > 0  # a perfect score still leaves room for one image


def _model(plain_acc: float, project_acc: float) -> dict:
    return {"plain_fit_s_per_epoch": 5.0, "keras_path_s_per_epoch": 3.0, "project_s_per_epoch": 2.5,
            "speedup": 2.0, "gflops": 60.0, "gemm_s_per_epoch": 2.0, "project_over_gemm": 1.25,
            "gemm_train_s": 1.9, "gemm_validation_s": 0.1,
            "xla_products_s_per_epoch": 2.4, "xla_products_over_gemm": 1.2, "project_over_xla_products": 1.04,
            "accuracy_plain": plain_acc, "accuracy_project": project_acc, "test_images": 10_000,
            "breakdown": {"epoch_s": 2.5, "permutation_s": 0.01, "train_steps_s": 2.0,
                          "validation_s": 0.2, "other_s": 0.2}}


def _results(project_acc: float) -> dict:
    runs = [{"backend": "tensorflow", "device": "cpu", "models": {"model_b": _model(0.97, project_acc)},
             "matmul_gflops": {"tensorflow_onednn": 180.0, "tensorflow_xla": 150.0}, "peak_rss_mb": 1500.0,
             "scaling": [{"width_multiplier": 1.0, "hidden": [256, 512, 128], "batch_size": 64,
                          "s_per_epoch": 2.5, "gflops": 60.0}],
             "seeds": {"model_b": {"sequential": [{"seeds": 1, "s_per_epoch": 2.5, "over_one_seed": 1.0},
                                                  {"seeds": 3, "s_per_epoch": 7.2, "over_one_seed": 2.88}],
                                   "stacked": [{"seeds": 1, "s_per_epoch": 2.6, "over_one_seed": 1.04},
                                               {"seeds": 3, "s_per_epoch": 8.1, "over_one_seed": 3.24}]}},
             "stack_seeds": {"model_b": False}},
            {"backend": "tensorflow", "device": "gpu", "gpu": "Test GPU", "peak_rss_mb": 900.0,
             "models": {"model_b": _model(0.97, 0.97)}}]
    numpy = {"env": {"gflops": 100.0, "blas": {"kernel": "Haswell"}},
             "fastest": {"gflops": 200.0, "blas": {"kernel": "SkylakeX"}}}
    return {"machine": {"cpu": "Test CPU", "cores": 2}, "ceiling": summarize(runs, numpy), "runs": runs,
            "gpu_notes": ["jax: no GPU visible, measured on the CPU only"]}


def test_ceiling_is_the_best_probe_and_the_table_reports_it():
    results = _results(0.972)
    assert results["ceiling"]["gflops"] == 200.0 and results["ceiling"]["source"] == "numpy_fastest"
    model = results["runs"][0]["models"]["model_b"]
    assert model["of_ceiling"] == pytest.approx(0.3)
    text = table(results)
    assert "Test CPU (2 cores)" in text and "ceiling 200 GFLOP/s (numpy_fastest)" in text
    assert "numpy kernels: env = Haswell, fastest = SkylakeX" in text
    row = next(line for line in text.splitlines() if line.startswith("model_b  tensorflow"))
    assert "5.00" in row and "2.500" in row and "2.0x" in row and "30%" in row and "1.25" in row
    assert "steps 2.000" in text and "gemm 1.900 + 0.100" in text
    assert "model_b  tensorflow xla products 2.400 = 1.20x gemm; project 1.04x xla products" in text
    assert "GPU (tensorflow, Test GPU):" in text and "jax: no GPU visible" in text
    assert "peak memory (tensorflow cpu worker): 1500 MB" in text
    assert "model_b  sequential* S=1 2.500 (1.00x)  S=3 7.200 (2.88x)" in text
    assert "model_b  stacked     S=1 2.600 (1.04x)  S=3 8.100 (3.24x)" in text
    assert disagreements(results) == []


def test_a_disagreement_beyond_the_tolerance_is_reported():
    results = _results(0.95)  # 2 points apart on 10,000 images: far beyond 3 standard errors (0.72)
    assert not results["runs"][0]["models"]["model_b"]["accuracy_agree"]
    [line] = disagreements(results)
    assert line.startswith("model_b on tensorflow (cpu): test accuracy plain 0.9700 vs project 0.9500")


def test_errors_bench_walks_every_cell_and_makes_valid_predictions(tmp_path):
    from bench.errors_tab import snake, summary, synthetic_predictions
    from mnist_dvc.analysis.predictions import predictions_csv, read_predictions

    row, column, seen = 0, 0, {(0, 0)}
    for key in snake():
        row += {"down": 1}.get(key, 0)
        column += {"right": 1, "left": -1}.get(key, 0)
        seen.add((row, column))
    assert seen == {(r, c) for r in range(10) for c in range(10)}

    y = (np.arange(10_000) % 10).astype(np.uint8)
    classes, probabilities = synthetic_predictions(y, 0.02, seed=0)
    path = tmp_path / "model_a.csv"
    path.write_text(predictions_csv(y, classes, probabilities))
    rows = read_predictions(path)  # the contract's checks: digits, probabilities, top-2 order
    assert 0.015 < np.mean(rows.predicted != rows.actual) < 0.025

    assert summary([0.001 * i for i in range(1, 101)]) == pytest.approx((50.5, 95.0, 100.0))
