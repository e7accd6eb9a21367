"""The venv's `dvc` CLI as the dashboard runs it, and the line to show of what it printed.

Every call is an argument list (never a shell string) run with this Python's venv first
on PATH, so that the stages' `python` is the project's. `run_dvc` blocks for a second or
more: the tabs call it from thread workers only. No Textual import here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DVC_TIMEOUT_S = 120
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# What dvc says when another dvc process holds the lock of a file it must read.
BLOCKED = "is busy, it is being blocked by"


class DvcError(RuntimeError):
    """dvc cannot be run, or cannot tell: one line, dvc's own words where it gave any."""


def venv_bin() -> Path:
    """The folder of this Python, where the project's `dvc` and `python` are."""
    return Path(sys.executable).parent


def tool_env() -> dict[str, str]:
    """Stage commands are `python -m stages.<name>`: this venv's python must come first."""
    env = dict(os.environ)
    env["PATH"] = f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def dvc_command(*args: str) -> list[str]:
    """The argument list that runs the venv's dvc with `args`."""
    dvc = venv_bin() / "dvc"
    if not dvc.exists():
        raise DvcError(f"no dvc next to {sys.executable}; install the project (pip install -e .)")
    return [str(dvc), *args]


def run_dvc(root: Path, *args: str) -> tuple[int, str]:
    """The real dvc CLI (the venv's): (exit code, stdout+stderr). Blocking: call it from a thread."""
    try:
        proc = subprocess.run(
            dvc_command(*args), cwd=root, env=tool_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=DVC_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return 124, f"dvc {' '.join(args)} took over {DVC_TIMEOUT_S} s"
    except (OSError, DvcError) as exc:
        return 127, str(exc)
    return proc.returncode, proc.stdout.decode(errors="replace")


def last_line(text: str) -> str:
    """What to show of dvc's failure: its ERROR line if any, else its last line."""
    lines = [line.strip() for line in ANSI.sub("", text).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors and BLOCKED in errors[0]:
        blocker = next((line for line in lines if line.startswith("(PID ")), "another dvc process")
        return f"another dvc command is running: {blocker}; press u once it has ended"
    return errors[0] if errors else lines[-1] if lines else "no output"


def clean_line(raw: str) -> str:
    """A log line as a terminal would leave it: no colour codes, only the text after the last \\r."""
    return ANSI.sub("", raw).split("\r")[-1]
