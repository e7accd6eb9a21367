"""Atomic file writes: a reader (the dashboard, DVC, a killed run's successor)
never sees a half-written file, because every output is written to a temporary
file in the same directory and then renamed over the target."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: Path | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` on success.

    On any exception the temporary file is removed (if the folder still lets it be) and
    `target` is untouched; an OSError names `target`, not the temporary file (or nothing).
    `suffix` keeps an extension for writers that insist on one (e.g. Keras' `.keras`).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent)
    except OSError as exc:
        exc.filename = str(target)
        raise
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)  # mkstemp makes 0600; outputs are ordinary readable files
        os.replace(tmp_path, target)
    except BaseException as exc:
        if isinstance(exc, OSError):
            _name(exc, target, tmp_path)
        with contextlib.suppress(OSError):  # a folder that refuses the write may refuse this too
            tmp_path.unlink(missing_ok=True)
        raise


def _name(exc: OSError, target: Path, tmp_path: Path) -> None:
    """Name `target` in a failed write's error, and its cause where the writer said none: numpy
    reports a short write ("N requested and M written") without an errno; a full device is why,
    if the device is full (looked at before the partial file is removed)."""
    if exc.filename in (None, str(tmp_path)):
        exc.filename = str(target)
    if exc.errno is None:
        with contextlib.suppress(OSError):
            if os.statvfs(tmp_path.parent).f_bavail == 0:
                exc.errno, exc.strerror = errno.ENOSPC, os.strerror(errno.ENOSPC)


def write_text(target: Path | str, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def write_json(target: Path | str, obj: Any) -> None:
    write_text(target, json_text(obj))


def json_text(obj: Any) -> str:
    """JSON with sorted keys and a trailing newline, so diffs of metrics stay small."""
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
