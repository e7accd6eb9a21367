"""`dvc repro prepare` in a throw-away copy of the project, on the real MNIST files."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from mnist_dvc.data.sources import DIGESTS
from tests.helpers import set_params

pytestmark = pytest.mark.slow


def ran(output: str) -> set[str]:
    """Stages DVC actually executed, from its `Running stage '...'` lines."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


def restored(output: str) -> set[str]:
    """Stages DVC restored from its run-cache (shared by the tests of a session) instead of running."""
    return {line.split("'")[1] for line in output.splitlines()
            if line.startswith("Stage '") and "is cached - skipping run" in line}


def test_repro_prepare_on_real_mnist(make_repo, dvc, mnist_mirror: Path) -> None:
    repo = make_repo()
    first = dvc(repo, "repro", "prepare", MNIST_MIRROR=str(mnist_mirror)).stdout
    assert ran(first) | restored(first) == {"download", "prepare"}

    assert sorted(p.name for p in (repo / "data/raw").iterdir()) == sorted(DIGESTS)
    for name, digest in DIGESTS.items():
        assert hashlib.sha256((repo / "data/raw" / name).read_bytes()).hexdigest() == digest, name
    shapes = {"x_train": (60000, 784), "x_test": (10000, 784), "y_train": (60000,), "y_test": (10000,)}
    for name, shape in shapes.items():
        array = np.load(repo / "data/prepared" / f"{name}.npy", mmap_mode="r")
        assert array.shape == shape
        assert array.dtype == (np.float32 if name.startswith("x") else np.uint8)
    x_train = np.load(repo / "data/prepared/x_train.npy", mmap_mode="r")
    assert float(x_train.min()) == 0.0 and float(x_train.max()) == 1.0
    metrics = json.loads((repo / "reports/data.json").read_text())
    assert metrics["train"]["count"] == 60000 and metrics["test"]["count"] == 10000
    assert sum(metrics["test"]["class_counts"].values()) == 10000
    assert metrics["train"]["mean"] == pytest.approx(0.1307, abs=1e-4)
    assert metrics["train"]["std"] == pytest.approx(0.3081, abs=1e-4)

    # Nothing changed: nothing runs, whichever way the mirror is named.
    again = dvc(repo, "repro", "prepare", MNIST_MIRROR=mnist_mirror.as_uri()).stdout
    assert ran(again) == set()
    assert "Data and pipelines are up to date" in again

    # A training param is not a dependency of the data stages.
    set_params(repo, {"train.epochs": 3, "train.batch_size": 32})
    assert ran(dvc(repo, "repro", "prepare").stdout) == set()

    # A data param re-runs prepare only.
    set_params(repo, {"data.normalize": "standardize"})
    assert ran(dvc(repo, "repro", "prepare").stdout) == {"prepare"}
    x_train = np.load(repo / "data/prepared/x_train.npy", mmap_mode="r")
    assert float(np.mean(x_train, dtype=np.float64)) == pytest.approx(0.0, abs=1e-5)


def raw_hash(repo: Path) -> str:
    """DVC's hash of data/raw, as dvc.lock records it."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    (out,) = lock["stages"]["download"]["outs"]
    assert out["path"] == "data/raw"
    return out["md5"]


def test_another_gzip_of_mnist_gives_the_same_dvc_hash(
    make_repo, dvc, mnist_mirror: Path, tmp_path: Path
) -> None:
    """A mirror that recompressed the files (other level, other header) changes nothing DVC sees."""
    other = tmp_path / "recompressed"
    other.mkdir()
    for name in DIGESTS:
        data = gzip.decompress((mnist_mirror / f"{name}.gz").read_bytes())
        packed = gzip.compress(data, compresslevel=1, mtime=1_700_000_000)
        assert packed != (mnist_mirror / f"{name}.gz").read_bytes()
        (other / f"{name}.gz").write_bytes(packed)

    repo = make_repo()
    dvc(repo, "repro", "download", MNIST_MIRROR=str(mnist_mirror))
    first = raw_hash(repo)
    forced = dvc(repo, "repro", "--force", "download", MNIST_MIRROR=str(other)).stdout
    assert ran(forced) == {"download"}
    assert f"verified, from MNIST_MIRROR={other}" in forced
    assert raw_hash(repo) == first
    assert "up to date" in dvc(repo, "status", "download").stdout
