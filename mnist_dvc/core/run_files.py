"""A run's files, wherever they are: the one interface the readers of several files take.

A run's files are on disk (the workspace, a queue worker's copy) or at a git revision, read
through DVC (`dvc.api.DVCFileSystem`: git-tracked files from git, outputs from the DVC cache,
when it has them). A reader that needs more than one file (a seed's history, a run's predictions)
takes any object with the two methods below, so the stages, the dashboard and scripts read the
same files the same way: `DiskFiles(root)` for a folder, the dashboard's own reader for a revision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")


class RunFiles(Protocol):
    """`text(path)`: a file's text; `names(folder)`: a folder's entries (names or paths). Both raise
    FileNotFoundError (or another OSError) when the file or folder is not there. Paths are relative
    to the run's root (where dvc.yaml is)."""

    def text(self, path: Path) -> str: ...

    def names(self, folder: Path) -> list[str]: ...


@dataclass(frozen=True)
class DiskFiles:
    """The files of a project folder on disk."""

    root: Path = Path()

    def text(self, path: Path) -> str:
        return (Path(self.root) / path).read_text()

    def names(self, folder: Path) -> list[str]:
        return sorted(entry.name for entry in (Path(self.root) / folder).iterdir())


CURRENT_FOLDER = DiskFiles()  # the project in the current directory, where stages run


class RevisionFiles:
    """The files of the project at `root` as they were at git revision `rev`, through DVC's
    DVCFileSystem: git-tracked files from git, DVC outputs from the DVC cache. An output the cache
    does not hold (a clone that never ran `dvc pull`) is a FileNotFoundError, like a missing file:
    DVC says "failed to load directory" there, which is no OSError. DVC is imported on first use."""

    def __init__(self, root: Path | str, rev: str) -> None:
        from dvc.api import DVCFileSystem

        self._fs = DVCFileSystem(str(root), rev=rev)
        self.rev = rev

    def text(self, path: Path) -> str:
        return self._call(self._fs.read_text, path)

    def names(self, folder: Path) -> list[str]:
        return sorted(self._call(lambda key: self._fs.ls(key, detail=False), folder))

    def _call(self, read: Callable[[str], T], path: Path) -> T:
        from dvc_data.index import DataIndexError

        key = Path(path).as_posix()
        try:
            return read(key)
        except DataIndexError:
            raise FileNotFoundError(f"{key} at {self.rev}: not in the DVC cache (run `dvc pull`)") from None
