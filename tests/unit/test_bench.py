"""The benchmark's arithmetic and report (its timings are never asserted)."""

from __future__ import annotations

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
