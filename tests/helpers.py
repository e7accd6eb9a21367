"""What tests share besides fixtures: project paths, subprocess helpers, the import graph,
and driving the dashboard.

Imported as `from tests.helpers import ...` (conftest.py holds only pytest fixtures).
"""

from __future__ import annotations

import ast
import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tools.project_copy import (  # noqa: F401  (re-exported: the tests import them from here)
    BIN,
    PROJECT_FILES,
    ROOT,
    TINY,
    new_project,
    run,
    set_params,
    tool_env,
)

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tui.app import DashboardApp

FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden"


# --- faults made to happen when a test wants them (tests/inject/sitecustomize.py) -------------------

INJECT = ROOT / "tests" / "inject"


def stop_env(function: str, when: str = "before", where: Path | str = "") -> dict[str, str]:
    """Environment for a subprocess that stops itself (SIGSTOP) at the first call of `function`
    ("module:attribute.path") whose arguments mention `where`, before or after the call."""
    return {"PYTHONPATH": os.pathsep.join([str(INJECT), str(ROOT)]), "MNIST_TEST_STOP": function,
            "MNIST_TEST_STOP_WHEN": when, "MNIST_TEST_STOP_WHERE": str(where)}


def wait_until_stopped(proc: subprocess.Popen, timeout: float = 180.0) -> None:
    """Return once a process of `proc`'s tree has stopped itself at its injected fault.

    The deadline only guards against a hang: what the test checks never depends on it.
    """
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"it ended (status {proc.returncode}) before reaching its injected fault")
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(proc.pid)
            if any(p.status() == psutil.STATUS_STOPPED for p in [parent, *parent.children(recursive=True)]):
                return
        time.sleep(0.05)
    raise AssertionError(f"it did not reach its injected fault within {timeout:g} s")


# --- the project's own import graph, read statically (imports inside functions count too) ---------

PACKAGES = ("mnist_dvc", "stages", "tui", "tools", "bench")


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The source file of a project module or package, or None for anything else."""
    if name.split(".")[0] not in PACKAGES:
        return None
    path = root.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def imported_names(path: Path, module: str, type_checking: bool = True) -> set[str]:
    """Every module name `path` imports, anywhere in it (`type_checking` False: but under
    `if TYPE_CHECKING:`, which never runs); `from a import b` yields a and a.b."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if not type_checking and isinstance(node, ast.If) and ast.unparse(node.test) in (
                "TYPE_CHECKING", "typing.TYPE_CHECKING"):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_closure(module: str, root: Path = ROOT) -> dict[str, Path]:
    """module name -> file of every project module that importing `module` can load (imports under
    `if TYPE_CHECKING:` never load), its packages' `__init__.py` included."""
    found: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        path = module_file(name, root)
        if name in found or path is None:
            continue
        found[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += imported_names(path, name, type_checking=False)
    return found


# --- the dashboard (Textual is imported only when an app is made) ------------------------------
#
# Snapshots live in tests/dashboard/__snapshots__/<test module>/<test>.svg. After an intended
# change of the look: `pytest tests/dashboard --snapshot-update`, then review the changed SVGs
# before committing them.

SIZE = (100, 32)  # pilot tests
NARROW, WIDE = (80, 24), (200, 60)  # snapshots: the smallest terminal the dashboard supports, a wide one
POLL_S = 0.1  # pilot tests poll fast so that file changes show quickly


def make_app(root: Path, poll_s: float = POLL_S) -> DashboardApp:
    """The dashboard on `root` for a pilot test: animations off, fast polling."""
    from tui.app import DashboardApp

    app = DashboardApp(root, poll_s=poll_s)
    app.animation_level = "none"
    return app


def snapshot_app(root: Path) -> DashboardApp:
    """The dashboard on `root` for a snapshot: animations off, the app's own polling pace."""
    from tui.app import DashboardApp

    app = DashboardApp(root)
    app.animation_level = "none"
    return app


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 120.0, what: str = "",
                   ) -> None:
    """Let the app run until `condition` holds (the dashboard reads files and runs dvc asynchronously).
    The timeout only guards against a hang: generous, since dvc takes seconds on a busy machine."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


async def poll_now(pilot: Pilot) -> None:
    """Make the dashboard read the project's files now, as its timer would, and let the updates land:
    a test that has just written a file sees its effect without waiting for the next poll."""
    pilot.app.poll()
    await pilot.pause()


async def settle(pilot: Pilot) -> None:
    """Before a snapshot: let the last poll's updates land."""
    await pilot.pause(0.2)
    await pilot.wait_for_scheduled_animations()


def text(app: DashboardApp, selector: str) -> str:
    """What a Static shows, as plain text."""
    from textual.widgets import Static

    return str(app.query_one(selector, Static).render())
