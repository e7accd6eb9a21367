"""The project's exceptions: problems a user can fix, each said in one line.

Library code raises these (or subclasses named for its area); only the entry
points (`stages/cli.py`, the dashboard) turn them into an `error: ...` line or a
warning on screen. The line says what is wrong and what to do about it.
"""

from __future__ import annotations

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
