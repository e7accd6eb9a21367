"""The import rules of docs/architecture.md: the library never imports the stages or the
dashboard, the stages never import the dashboard, the benchmarks never import the stages or
the tests; inside the dashboard a tab never imports another tab, the ground floor never
imports a tab, only views import Textual, and nothing loads a deep-learning framework (the
dashboard starts in a fraction of a second and runs where none is installed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, imported_names

FRAMEWORKS = ("tensorflow", "keras", "jax")
TEXTUAL = ("textual", "textual_plotext")
# package -> top-level packages it must never import, at any depth of any function
FORBIDDEN = {
    "mnist_dvc": ("stages", "tui", "tools", "bench"),
    "stages": ("tui", "tools", "bench"),
    "tui": ("stages", "tools", "bench", "tests"),
    "bench": ("stages", "tests"),
    "tools": ("tui", "bench", "tests"),
}
# The dashboard's floors: the tabs, the ground floor under them, and the app on top.
TABS = ("training", "compare", "backprop", "pipeline", "experiments", "errors")
GROUND = "ground"
TOP = ("app", "screens", "__main__")
# The only dashboard modules that may import Textual; every other one is data or text.
VIEWS = ("app", "screens", "pane", "widgets")


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


def floor(module: str) -> str | None:
    """`ground`, a tab's name, or `top` for a dashboard module; None outside the dashboard."""
    parts = module.split(".")
    if parts[0] != "tui":
        return None
    if len(parts) == 1 or parts[1] in TOP:
        return "top"
    return parts[1]


def floor_offences(module: str, imported: str) -> str | None:
    """Why `module` may not import `imported`, or None when it may."""
    here, there = floor(module), floor(imported)
    if here in (None, "top") or there is None or imported == "tui" or here == there:
        return None
    if there == "top":
        return "imports the app (post a message up instead)"
    if here == GROUND and there in TABS:
        return "is the ground floor and imports a tab"
    if here in TABS and there in TABS:
        return "imports another tab (cross-tab behaviour goes through the app: messages up, attributes down)"
    return None


def test_a_tab_never_imports_another_tab_nor_the_ground_floor_a_tab() -> None:
    offenders = []
    for name, file in modules_of("tui"):
        for imported in imported_names(file, name):
            why = floor_offences(name, imported)
            if why:
                offenders.append(f"{name} {why}: {imported}")
    assert offenders == []
    assert {floor(name) for name, _ in modules_of("tui")} == {"top", GROUND, *TABS}, "one package per tab"


def test_the_rule_checkers_see_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    import tui.app\n    from tui.errors import pane\n")
    assert "tui.app" in imported_names(module, "mnist_dvc.bad")
    assert floor_offences("tui.training.pane", "tui.errors.pane") is not None
    assert floor_offences("tui.ground.runs", "tui.experiments.collect") is not None
    assert floor_offences("tui.ground.jobs", "tui.app") is not None
    assert floor_offences("tui.app", "tui.errors.pane") is None
    assert floor_offences("tui.errors.pane", "tui.ground.runs") is None


def test_the_dashboard_loads_no_framework_and_only_its_views_load_textual() -> None:
    """One child process: every data and text module of tui/ first (no Textual may be loaded then),
    then the views, then the --once report of a finished project (no framework at any point)."""
    probe = (
        "import contextlib, importlib, io, json, pkgutil, sys\n"
        "import tui\n"
        "names = [info.name for info in pkgutil.walk_packages(tui.__path__, 'tui.')]\n"
        f"views = [name for name in names if name.rsplit('.', 1)[-1] in {VIEWS!r}]\n"
        "for name in names:\n"
        "    if name not in views:\n"
        "        importlib.import_module(name)\n"
        f"textual_in_data = sorted(m for m in sys.modules if m.split('.')[0] in {TEXTUAL!r})\n"
        "for name in views:\n"
        "    importlib.import_module(name)\n"
        "from tui.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--once', '--root', 'tests/fixtures/finished'])\n"
        f"frameworks = sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r})\n"
        "print(json.dumps({'textual_in_data': textual_in_data, 'views': views,\n"
        "                  'textual': 'textual' in sys.modules, 'frameworks': frameworks}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    assert found["textual_in_data"] == [], "a data or text module of tui/ loads Textual"
    assert "tui.app" in found["views"] and found["textual"], "the check sees Textual where it is"
    assert found["frameworks"] == []
