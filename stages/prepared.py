"""Read the `prepare` stage's arrays (`data/prepared/*.npy`) for training and evaluation.

A missing or damaged file is reported in one line that says which stage makes it,
before any model is built.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stages.cli import StageError

PREPARED_DIR = Path("data/prepared")
FEATURES = 784
CLASSES = 10


def load_split(split: str, root: Path = PREPARED_DIR, mmap: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 (N, 784), y uint8 (N,)) of `train` or `test`."""
    arrays = []
    for stem in (f"x_{split}", f"y_{split}"):
        path = Path(root) / f"{stem}.npy"
        if not path.is_file():
            raise StageError(f"{path} not found; run `dvc repro prepare` first")
        try:
            arrays.append(np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False))
        except (ValueError, OSError, EOFError) as exc:
            raise StageError(f"{path} is unreadable ({exc}); run `dvc repro -f prepare`") from None
    x, y = arrays
    if x.ndim != 2 or x.shape[1] != FEATURES or x.dtype != np.float32:
        raise StageError(f"{root}/x_{split}.npy has shape {x.shape} {x.dtype}, expected (N, 784) float32; "
                         "run `dvc repro -f prepare`")
    if y.shape != (x.shape[0],):
        raise StageError(f"{root}/y_{split}.npy has {y.shape[0]} labels for {x.shape[0]} images; "
                         "run `dvc repro -f prepare`")
    return x, y


def one_hot(y: np.ndarray) -> np.ndarray:
    """Categorical cross-entropy wants one-hot float32 targets."""
    out = np.zeros((y.shape[0], CLASSES), dtype=np.float32)
    out[np.arange(y.shape[0]), y.astype(np.int64)] = 1.0
    return out
