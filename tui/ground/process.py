"""Process helpers: a file that says "running" is only believed while its writer is alive."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether a process exists; a `running` progress.json or job file whose writer is gone was killed."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
