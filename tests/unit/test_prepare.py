"""The prepare stage on small synthetic IDX files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from mnist_dvc.core.contracts import RAW_FILES
from mnist_dvc.core.params import DataParams, ParamsError
from mnist_dvc.core.records.data import DataReport
from mnist_dvc.data.idx import IdxError, encode_idx
from mnist_dvc.data.normalize import prepare
from tests.helpers import ROOT

SIZES = {"train": 40, "test": 15}


@pytest.fixture
def raw(tmp_path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Synthetic MNIST-shaped files in tmp_path/data/raw; returns the arrays written."""
    rng = np.random.default_rng(7)
    written = {}
    for split, (images_file, labels_file) in RAW_FILES.items():
        images = rng.integers(0, 256, size=(SIZES[split], 28, 28), dtype=np.uint8)
        labels = (np.arange(SIZES[split]) * 7 % 10).astype(np.uint8)
        write_raw(tmp_path, images_file, encode_idx(images))
        write_raw(tmp_path, labels_file, encode_idx(labels))
        written[split] = (images, labels)
    return written


def write_raw(root: Path, name: str, data: bytes) -> None:
    path = root / "data/raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def run_prepare(root: Path, normalize: str = "scale", train_limit: int = 0,
                test_limit: int = 0) -> DataReport:
    return prepare(
        DataParams(normalize=normalize, train_limit=train_limit, test_limit=test_limit),
        root / "data/raw", root / "data/prepared", root / "reports/data.json",
    )


def load(root: Path, name: str) -> np.ndarray:
    return np.load(root / "data/prepared" / f"{name}.npy", mmap_mode="r", allow_pickle=False)


def test_scale_is_pixel_over_255_flattened(tmp_path: Path, raw: dict) -> None:
    metrics = run_prepare(tmp_path)
    for split, (images, labels) in raw.items():
        x, y = load(tmp_path, f"x_{split}"), load(tmp_path, f"y_{split}")
        assert x.dtype == np.float32 and x.shape == (SIZES[split], 784)
        assert y.dtype == np.uint8
        np.testing.assert_array_equal(x, images.reshape(-1, 784).astype(np.float32) / np.float32(255))
        np.testing.assert_array_equal(y, labels)
        summary = getattr(metrics, split)
        assert summary.count == SIZES[split]
        assert summary.class_counts == {c: int(np.sum(labels == c)) for c in range(10)}
        assert sum(summary.class_balance.values()) == pytest.approx(1.0)
        assert summary.mean == pytest.approx(float(np.mean(x, dtype=np.float64)), abs=1e-6)
        assert summary.std == pytest.approx(float(np.std(x, dtype=np.float64)), abs=1e-6)
    assert DataReport.read(tmp_path / "reports/data.json") == metrics
    assert json.loads((tmp_path / "reports/data.json").read_text())["test"]["class_counts"]["0"] > 0
    assert metrics.normalize == "scale"


def test_standardize_uses_the_training_mean_and_std(tmp_path: Path, raw: dict) -> None:
    metrics = run_prepare(tmp_path, normalize="standardize")
    scaled_train = raw["train"][0].astype(np.float64) / 255
    mean, std = scaled_train.mean(), scaled_train.std()
    assert metrics.train_pixel_mean == pytest.approx(mean, abs=1e-12)
    assert metrics.train_pixel_std == pytest.approx(std, abs=1e-12)
    x_train, x_test = load(tmp_path, "x_train"), load(tmp_path, "x_test")
    assert x_train.dtype == np.float32
    assert float(np.mean(x_train, dtype=np.float64)) == pytest.approx(0.0, abs=1e-6)
    assert float(np.std(x_train, dtype=np.float64)) == pytest.approx(1.0, abs=1e-6)
    expected_test = (raw["test"][0].reshape(-1, 784) / 255 - mean) / std
    np.testing.assert_allclose(x_test, expected_test, atol=1e-5)
    assert metrics.test.mean == pytest.approx(float(np.mean(x_test, dtype=np.float64)), abs=1e-6)
    assert metrics.train.std == pytest.approx(1.0)


def test_limits_take_the_first_n_of_each_split(tmp_path: Path, raw: dict) -> None:
    metrics = run_prepare(tmp_path, train_limit=10, test_limit=4)
    assert metrics.train.count == 10 and metrics.test.count == 4
    np.testing.assert_array_equal(load(tmp_path, "y_train"), raw["train"][1][:10])
    np.testing.assert_array_equal(load(tmp_path, "y_test"), raw["test"][1][:4])
    first = raw["train"][0][:10].reshape(10, 784) / np.float32(255)
    np.testing.assert_array_equal(load(tmp_path, "x_train"), first)


def test_a_limit_beyond_the_data_is_an_error(tmp_path: Path, raw: dict) -> None:
    with pytest.raises(ParamsError, match=r"test_limit = 16 is invalid; the split has only 15 examples"):
        run_prepare(tmp_path, test_limit=16)


def test_standardize_refuses_constant_images(tmp_path: Path, raw: dict) -> None:
    write_raw(tmp_path, RAW_FILES["train"][0], encode_idx(np.full((SIZES["train"], 28, 28), 9, np.uint8)))
    with pytest.raises(ParamsError, match="training pixels do not vary"):
        run_prepare(tmp_path, normalize="standardize")


def test_a_corrupt_file_is_named_and_nothing_is_written(tmp_path: Path, raw: dict) -> None:
    labels_file = RAW_FILES["test"][1]
    write_raw(tmp_path, labels_file, encode_idx(np.array([3, 10, 4], dtype=np.uint8)))
    with pytest.raises(IdxError, match=f"{labels_file}: 1 labels outside 0-9"):
        run_prepare(tmp_path)
    assert not (tmp_path / "data/prepared").exists()
    assert not (tmp_path / "metrics").exists()


def stage(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "stages.prepare"], cwd=cwd, env=env, capture_output=True, text=True
    )


def write_params(cwd: Path, **data: object) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"].update(data)
    (cwd / "params.yaml").write_text(yaml.safe_dump(params))


def test_the_stage_command_reads_params_yaml(tmp_path: Path, raw: dict) -> None:
    write_params(tmp_path, train_limit=12, test_limit=0)
    proc = stage(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "prepared 12 training and 15 test images" in proc.stdout
    assert load(tmp_path, "x_train").shape == (12, 784)


def test_the_stage_command_reports_a_corrupt_file_in_one_line(tmp_path: Path, raw: dict) -> None:
    write_params(tmp_path)
    name = RAW_FILES["train"][0]
    path = tmp_path / "data/raw" / name
    path.write_bytes(path.read_bytes()[:-40])
    proc = stage(tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: data/raw/{name}: truncated: shape (40, 28, 28) of 1-byte "
                                        "values needs 31376 bytes, file has 31336"]


def test_the_stage_command_checks_params_before_reading_data(tmp_path: Path) -> None:
    write_params(tmp_path, normalize="minmax")
    proc = stage(tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: params.yaml: data.normalize = 'minmax' is invalid")
