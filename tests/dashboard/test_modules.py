"""How tui/ is layered: Textual only in the app, screens, panes and widgets; commands as argument lists."""

from __future__ import annotations

import ast

import pytest

from tests.helpers import ROOT, import_closure, imported_names

# The dashboard's modules that `python -m tui --once`, the repro runner and the tests use without Textual.
NO_TEXTUAL = ("tui.data", "tui.report", "tui.dvc", "tui.repro", "tui.experiments", "tui.exptable", "tui.runs",
              "tui.expctl", "tui.errors_data", "tui.digit_art")
TEXTUAL = ("textual", "textual_plotext")
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}


def textual_imports(module: str) -> dict[str, list[str]]:
    """module -> the Textual modules it imports, for each project module that `module` loads."""
    found = {}
    for name, path in import_closure(module).items():
        textual = sorted(n for n in imported_names(path, name) if n.split(".")[0] in TEXTUAL)
        if textual:
            found[name] = textual
    return found


@pytest.mark.parametrize("module", NO_TEXTUAL)
def test_these_modules_load_no_textual(module: str) -> None:
    assert module in import_closure(module)
    assert textual_imports(module) == {}


def test_the_panes_do_load_textual() -> None:
    """The check above finds Textual where it is."""
    assert set(textual_imports("tui.panes.pipeline")) == {"tui.panes.pipeline"}
    assert "tui.widgets.curves" in textual_imports("tui.app")


def subprocess_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "subprocess"
        and node.func.attr in SUBPROCESS_CALLS
    ]


def test_every_command_is_an_argument_list_never_a_shell_string() -> None:
    files = sorted((ROOT / "tui").rglob("*.py"))
    calls = {path: subprocess_calls(ast.parse(path.read_text())) for path in files}
    assert sum(len(found) for found in calls.values()) >= 3, "run_dvc, the runner's start and its dvc"
    for path, found in calls.items():
        for call in found:
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            assert not any(k.arg == "shell" for k in call.keywords), f"{where} passes shell="
            command = call.args[0] if call.args else None
            is_string = isinstance(command, ast.Constant | ast.JoinedStr | ast.BinOp)
            assert not is_string, f"{where}: a command string"
