"""The dashboard's one way of noticing change: `stat` stamps of files, compared with the last look.

Polling twice a second costs a few `stat` calls and reads nothing: a file is read again only when
its stamp (mtime, size, inode) changed. `Watch` answers "did any of these files change?" (the
Experiments tab watches git's refs and the queue's task files this way, the Pipeline tab
dvc.yaml, dvc.lock and params.yaml); `Watched` keeps what a loader made of some files, read
again when they change. Training writes the files while the dashboard reads them and a user may
open it on a damaged project, so `Watched` never raises: a missing file means "no data yet",
while an empty, half-written or corrupt one keeps the last good value and says so in one line
until the file is good again. No Textual here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from mnist_dvc.core.errors import BadInput, MissingInput

T = TypeVar("T")
Stamp = tuple[int, int, int]


def stamp(path: Path) -> Stamp | None:
    """What changes when a file is rewritten in place or replaced by a rename; None if it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def fingerprint(paths: Iterable[Path], skip: tuple[str, ...] = ()) -> tuple[tuple[str, Stamp], ...]:
    """(path, stamp) of each file, and of every file under each folder (names ending in `skip` left
    out); nothing for a missing path or an empty folder (DVC creates its queue's folders empty)."""
    marks = []
    for path in paths:
        if not os.path.isdir(path):
            found = stamp(path)
            if found is not None:
                marks.append((str(path), found))
            continue
        for folder, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if skip and name.endswith(skip):
                    continue
                found = stamp(Path(folder) / name)
                if found is not None:
                    marks.append((os.path.join(folder, name), found))
    return tuple(marks)


class Watch:
    """Whether any of some files changed since the last look. The first look always says so."""

    def __init__(self, paths: Iterable[Path] = (), skip: tuple[str, ...] = ()) -> None:
        self.paths = list(paths)
        self.skip = skip
        self.last: tuple[tuple[str, Stamp], ...] | None = None

    def changed(self, paths: Iterable[Path] | None = None) -> bool:
        """Look again (at `paths` from now on, when given: a list that grows as a table learns new files)."""
        if paths is not None:
            self.paths = list(paths)
        current = fingerprint(self.paths, self.skip)
        if current == self.last:
            return False
        self.last = current
        return True


class Incomplete(ValueError):
    """Some of the files a value is made of are gone while the others are there (deleted by
    hand, not by a stage, which deletes them all): no value, since part of it would come from
    a file that is no more, and one warning line."""


class Watched(Generic[T]):
    """What `load` makes of some files, made again when their stamps change; a bad read keeps the
    last good value.

    `value` is `absent` while none of the files exists (a pipeline stage deletes its outputs
    before it runs, so a vanished file means "no data", not "keep the old run"), unless the
    files are `required`: then their absence is a problem like any other.
    """

    def __init__(self, paths: Path | Sequence[Path], load: Callable[[], T], label: str, *,
                 required: bool = False, absent: T | None = None) -> None:
        self.label = label
        self.required = required
        self.absent = absent
        self._load = load
        self._watch = Watch([paths] if isinstance(paths, Path) else paths)
        self.value: T | None = absent
        self.problem: str | None = None

    def refresh(self) -> bool:
        """Read again if the files changed; True when they did."""
        if not self._watch.changed():
            return False
        try:
            if not self._watch.last and not self.required:
                self.value, self.problem = self.absent, None
            else:
                self.value, self.problem = self._load(), None
        except Incomplete as exc:
            self.value, self.problem = self.absent, f"{self.label}: {exc}"
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            if isinstance(exc, MissingInput) and not self.required:
                # deleted between the stat and the read: no data, as if it had never been there
                self.value, self.problem = self.absent, None
            else:
                self.problem = f"{self.label}: {describe(exc)}" + (
                    "; showing the last good data" if self.value is not None else ""
                )
        return True


def describe(exc: Exception) -> str:
    """The problem in a few words: the label already names the file."""
    if isinstance(exc, BadInput):
        return exc.problem
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (corrupt)"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
