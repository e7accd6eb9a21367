"""The benchmarks' arithmetic, inputs and reports (their timings are never asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.train_speed import epoch_gflop, gemm_seconds, macs, table


def test_flop_counts_match_the_issue_figures():
    assert macs((256, 512, 128)) == 398_592
    assert macs((64, 128, 64)) == 67_200  # 67,466 parameters less 266 biases
    # 6 x 398,592 x 60,000 for training plus the validation forward pass on 10,000 images
    assert epoch_gflop((256, 512, 128), 60_000, 10_000) == pytest.approx(151.5, abs=0.1)
    assert epoch_gflop((64, 128, 64), 60_000, 10_000) == pytest.approx(25.5, abs=0.1)


def test_gemm_bound_grows_with_the_work():
    small = gemm_seconds((16, 16, 16), 64, 6_400, 640)
    large = gemm_seconds((256, 512, 128), 64, 6_400, 640)
    assert 0 < small < large


def test_table_reports_every_model_backend_and_the_breakdown():
    model = {"plain_fit_s_per_epoch": 5.0, "project_s_per_epoch": 2.5, "speedup": 2.0, "gflops": 60.0,
             "matmul_fraction": 0.3, "matmul_fraction_paired": 0.35,
             "accuracy_plain": 0.97, "accuracy_project": 0.975,
             "breakdown": {"epoch_s": 2.5, "permutation_s": 0.01, "train_steps_s": 2.0,
                           "validation_s": 0.2, "other_s": 0.2, "gemm_bound_s": 0.9}}
    results = {"machine": {"cpu": "Test CPU", "cores": 2}, "matmul_probe_gflops": 200.0,
               "runs": [{"backend": "tensorflow", "models": {"model_b": model}, "peak_rss_mb": 1500.0,
                         "scaling": [{"width_multiplier": 1.0, "hidden": [256, 512, 128], "batch_size": 64,
                                      "s_per_epoch": 2.5, "gflops": 60.0}]}]}
    text = table(results)
    assert "Test CPU (2 cores)" in text
    row = next(line for line in text.splitlines() if line.startswith("model_b  tensorflow") and "x" in line)
    assert "5.00" in row and "2.50" in row and "2.0x" in row and "30%" in row and "35%" in row
    assert "steps 2.00" in text and "gemm 0.90" in text
    assert "peak memory (tensorflow worker): 1500 MB" in text


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
