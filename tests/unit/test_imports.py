"""The import rules of docs/architecture.md: the library never imports the stages or the
dashboard, the stages never import the dashboard, and the dashboard never loads a deep-learning
framework (it starts in a fraction of a second and runs where none is installed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, imported_names

FRAMEWORKS = ("tensorflow", "keras", "jax")
# package -> top-level packages it must never import, at any depth of any function
FORBIDDEN = {
    "mnist_dvc": ("stages", "tui", "tools", "bench"),
    "stages": ("tui", "tools", "bench"),
}


def modules_of(package: str) -> list[tuple[str, Path]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


@pytest.mark.parametrize("package", FORBIDDEN)
def test_layers_import_only_downwards(package: str) -> None:
    offenders = []
    for name, file in modules_of(package):
        for imported in imported_names(file, name):
            if imported.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_the_rule_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    import tui.app\n")
    assert "tui.app" in imported_names(module, "mnist_dvc.bad")


def test_the_dashboard_loads_no_framework() -> None:
    """Import every dashboard module and render the --once report of a finished project."""
    probe = (
        "import importlib, pkgutil, sys, io, contextlib\n"
        "import tui\n"
        "for info in pkgutil.walk_packages(tui.__path__, 'tui.'):\n"
        "    importlib.import_module(info.name)\n"
        "from tui.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--once', '--root', 'tests/fixtures/finished'])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
