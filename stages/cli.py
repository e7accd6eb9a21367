"""How every stage reports failure: one line on stderr and a non-zero exit,
never a traceback for a problem the user can fix."""

from __future__ import annotations

import sys
from collections.abc import Callable

from stages.params import ParamsError


class StageError(RuntimeError):
    """A failure with a one-line message that says what is wrong and how to fix it."""


def run_stage(main: Callable[[], int | None]) -> None:
    """Run a stage's main(), turning expected errors into `error: ...` and exit code 2."""
    try:
        code = main()
    except (ParamsError, StageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
