"""How every stage reports failure: one line on stderr and a non-zero exit,
never a traceback for a problem the user can fix."""

from __future__ import annotations

import sys
from collections.abc import Callable

from mnist_dvc.core.errors import ProjectError, StorageError


class StageError(ProjectError):
    """A stage's own one-line failure (the library raises its own ProjectError subclasses)."""


def run_stage(main: Callable[[], int | None]) -> None:
    """Run a stage's main(), turning the project's errors into `error: ...` and exit code 2."""
    try:
        code = main()
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:  # a full disk, a read-only or unwritable output folder
        print(f"error: {StorageError(exc)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
