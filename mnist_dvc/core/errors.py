"""The project's exceptions: problems a user can fix, each said in one line.

Library code raises these (or subclasses named for its area); only the entry
points (`stages/cli.py`, the dashboard) turn them into an `error: ...` line or a
warning on screen. The line says what is wrong and what to do about it.
"""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path


class ProjectError(Exception):
    """A failure with a one-line message that says what is wrong and how to fix it."""


class MissingInput(ProjectError, FileNotFoundError):
    """A file another stage writes is not there yet."""

    def __init__(self, path: Path | str, remedy: str) -> None:
        super().__init__(f"{path} not found; {remedy}")
        self.path = Path(path)


class BadInput(ProjectError, ValueError):
    """A file is there but unreadable, corrupt, or does not follow its contract."""

    def __init__(self, path: Path | str, problem: str, remedy: str = "") -> None:
        super().__init__(f"{path}: {problem}" + (f"; {remedy}" if remedy else ""))
        self.path = Path(path)
        self.problem = problem


# --- a filesystem that refuses a write, said in one line -----------------------------------------

_WHY = {
    errno.ENOSPC: "no space left on the device of {folder}; free some (`df -h {folder}`)",
    errno.EDQUOT: "the disk quota is used up in {folder}; free some or raise the quota",
    errno.EROFS: "{folder} is on a read-only filesystem; mount it read-write",
    errno.EACCES: "permission denied in {folder}; make it writable (`ls -ld {folder}`, `chmod u+w`)",
    errno.EPERM: "permission denied in {folder}; make it writable (`ls -ld {folder}`, `chmod u+w`)",
    errno.EFBIG: "the file outgrew the size limit (`ulimit -f`) or the filesystem's",
}


class StorageError(ProjectError):
    """The filesystem refused a write (full, read-only, no permission): one line naming the file,
    the reason and the fix, instead of a traceback."""

    def __init__(self, exc: OSError) -> None:
        path = Path(exc.filename) if exc.filename else None
        with contextlib.suppress(ValueError):
            path = path.resolve().relative_to(Path.cwd().resolve()) if path else None
        folder = path.parent if path else Path(".")
        why = _WHY.get(exc.errno or 0)
        text = why.format(folder=folder) if why else str(exc.strerror or (exc.args[0] if exc.args else exc))
        super().__init__(f"{path or 'writing'}: {text}; then run `dvc repro` again")
        self.errno = exc.errno
