"""Read the `prepare` stage's arrays (`data/prepared/*.npy`) for training, evaluation and display.

A missing or damaged file is reported in one line that says which stage makes it,
before any model is built.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_dvc.core.contracts import CLASSES, FEATURES, PREPARED_DIR, prepared_file, rerun_hint
from mnist_dvc.core.errors import BadInput, MissingInput


def load_split(split: str, root: Path = PREPARED_DIR, mmap: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 (N, 784), y uint8 (N,)) of `train` or `test`; `mmap` maps them read-only."""
    arrays = []
    for array in ("x", "y"):
        path = prepared_file(array, split, root)
        if not path.is_file():
            raise MissingInput(path, rerun_hint(PREPARED_DIR))
        try:
            arrays.append(np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False))
        except (ValueError, OSError, EOFError) as exc:
            raise BadInput(path, f"unreadable ({exc})", rerun_hint(PREPARED_DIR, force=True)) from None
    x, y = arrays
    if x.ndim != 2 or x.shape[1] != FEATURES or x.dtype != np.float32:
        raise BadInput(prepared_file("x", split, root),
                       f"has shape {x.shape} {x.dtype}, expected (N, {FEATURES}) float32",
                       rerun_hint(PREPARED_DIR, force=True))
    if y.shape != (x.shape[0],):
        raise BadInput(prepared_file("y", split, root), f"has {y.shape[0]} labels for {x.shape[0]} images",
                       rerun_hint(PREPARED_DIR, force=True))
    return x, y


def one_hot(y: np.ndarray) -> np.ndarray:
    """Categorical cross-entropy wants one-hot float32 targets."""
    out = np.zeros((y.shape[0], CLASSES), dtype=np.float32)
    out[np.arange(y.shape[0]), y.astype(np.int64)] = 1.0
    return out
