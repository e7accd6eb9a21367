"""The strict IDX reader and its encoder, on small synthetic files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from mnist_dvc.data.idx import IdxError, encode_idx, parse_idx, read_images, read_labels, read_split


def write_idx(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-3, 7, 1000, -70000], dtype=np.int32),
        np.array([[0.5, -1.25], [3.0, 1e-3]], dtype=np.float32),
        np.array([1.0, 2.0**-40], dtype=np.float64),
    ],
)
def test_encode_then_parse_round_trips(array: np.ndarray) -> None:
    parsed = parse_idx(encode_idx(array), "x")
    assert parsed.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(parsed, array)


def test_encoding_matches_the_published_layout() -> None:
    """Magic 0x00000801, big-endian count, then the bytes: the MNIST label-file header."""
    data = encode_idx(np.array([7, 2, 1], dtype=np.uint8))
    assert data == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


def test_encode_refuses_a_type_idx_cannot_store() -> None:
    with pytest.raises(ValueError, match="int64"):
        encode_idx(np.array([1, 2], dtype=np.int64))


def test_reads_images_and_labels(tmp_path: Path, images: np.ndarray) -> None:
    labels = np.array([0, 9, 3, 3, 5], dtype=np.uint8)
    img = write_idx(tmp_path / "img", encode_idx(images))
    lab = write_idx(tmp_path / "lab", encode_idx(labels))
    x, y = read_split(img, lab)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert x.dtype == np.uint8 and y.dtype == np.uint8


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic number"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic number"),
        (b"\x00\x00\x08\x00", "bad IDX magic number"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "header announces 3 dimensions"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 0), "a dimension is zero"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 4) + b"\x01\x02", "truncated"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x01\x02", "trailing bytes"),
    ],
)
def test_parse_refuses_malformed_data(data: bytes, problem: str) -> None:
    with pytest.raises(IdxError, match=problem) as info:
        parse_idx(data, "some-file.idx")
    assert str(info.value).startswith("some-file.idx: ")
    assert "\n" not in str(info.value)


def test_label_outside_0_9_is_named(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "labels", encode_idx(np.array([1, 2, 12, 3], dtype=np.uint8)))
    with pytest.raises(IdxError, match=r"labels: 1 labels outside 0-9 \(first: label 12 at index 2\)"):
        read_labels(path)


def test_images_must_be_28x28(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "img", encode_idx(np.zeros((2, 28, 27), dtype=np.uint8)))
    with pytest.raises(IdxError, match=r"img: images are 28x27, expected 28x28"):
        read_images(path)


def test_a_label_file_is_not_an_image_file(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "swapped", encode_idx(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(IdxError, match=r"swapped: expected 3-D unsigned-byte images, got 1-D uint8"):
        read_images(path)


def test_labels_must_be_unsigned_bytes(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "lab", encode_idx(np.array([1, 2], dtype=np.int32)))
    with pytest.raises(IdxError, match="expected 1-D unsigned-byte labels, got 1-D int32"):
        read_labels(path)


def test_count_mismatch_between_images_and_labels(tmp_path: Path, images: np.ndarray) -> None:
    img = write_idx(tmp_path / "img", encode_idx(images))
    lab = write_idx(tmp_path / "lab", encode_idx(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(IdxError, match=r"img has 5 images but .*lab has 4 labels"):
        read_split(img, lab)


def test_truncated_file_is_named(tmp_path: Path, images: np.ndarray) -> None:
    data = encode_idx(images)
    path = write_idx(tmp_path / "cut", data[:-100])
    with pytest.raises(IdxError, match=r"cut: truncated: shape \(5, 28, 28\) of 1-byte values needs 3936"):
        read_images(path)


def test_a_gzip_is_not_taken_for_an_idx_file(tmp_path: Path, images: np.ndarray) -> None:
    """data/raw holds uncompressed IDX files; a leftover .gz there is refused, not misread."""
    path = write_idx(tmp_path / "packed", gzip.compress(encode_idx(images)))
    with pytest.raises(IdxError, match=r"packed: bad IDX magic number 0x1f8b"):
        read_images(path)


def test_missing_file_says_which_stage_makes_it(tmp_path: Path) -> None:
    with pytest.raises(IdxError, match=r"absent: not found; run `dvc repro download`"):
        read_images(tmp_path / "absent")
