"""tui.ground.dvc: running the venv's dvc as argument lists, and the line to show of what it said
(no Textual); every command anywhere in tui/ is an argument list, never a shell string."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, ROOT
from tui.ground import dvc

SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}


def test_a_busy_dvc_is_explained() -> None:
    busy = (
        "ERROR: '/p/metrics/train/model_b' is busy, it is being blocked by:\n"
        "  (PID 23202): /p/.venv/bin/dvc repro evaluate\n\n"
        "If there are no processes with such PIDs, you can manually remove '/p/.dvc/tmp/rwlock'"
        " and try again.\n"
    )
    assert dvc.last_line(busy) == (
        "another dvc command is running: (PID 23202): /p/.venv/bin/dvc repro evaluate; "
        "press u once it has ended"
    )


@pytest.mark.parametrize(
    ("output", "line"),
    [
        ("Building stages\nERROR: dvc.yaml: stage 'x' has no cmd\nhint",
         "ERROR: dvc.yaml: stage 'x' has no cmd"),
        ("\x1b[31mERROR\x1b[39m: failed to reproduce 'train'\n", "ERROR: failed to reproduce 'train'"),
        ("first\nsecond line  \n\n", "second line"),
        ("", "no output"),
    ],
)
def test_the_line_that_tells_why_dvc_failed(output: str, line: str) -> None:
    assert dvc.last_line(output) == line


def test_progress_redrawn_with_carriage_returns_keeps_its_last_state() -> None:
    assert dvc.clean_line("epoch 1/2 10%\repoch 1/2 50%\r\x1b[32mepoch 1/2 100%\x1b[0m") == "epoch 1/2 100%"


def test_dvc_runs_as_an_argument_list_never_a_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_run(args: object, **kwargs: object) -> subprocess.CompletedProcess:
        calls.append((args, kwargs))
        return subprocess.CompletedProcess(args, 0, stdout=b"greet\nhold\n")

    monkeypatch.setattr(dvc.subprocess, "run", fake_run)
    assert dvc.run_dvc(tmp_path, "stage", "list", "--name-only") == (0, "greet\nhold\n")
    (args, kwargs), = calls
    assert args == [str(BIN / "dvc"), "stage", "list", "--name-only"]
    assert not kwargs.get("shell") and kwargs["cwd"] == tmp_path
    assert kwargs["env"]["PATH"].startswith(f"{BIN}:"), "the stages' `python` must be the venv's"


def test_a_hung_or_missing_dvc_is_an_exit_code_and_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hung(args: list[str], **kwargs: object) -> None:
        raise subprocess.TimeoutExpired(args, dvc.DVC_TIMEOUT_S)

    monkeypatch.setattr(dvc.subprocess, "run", hung)
    took = f"dvc status --json took over {dvc.DVC_TIMEOUT_S} s"
    assert dvc.run_dvc(tmp_path, "status", "--json") == (124, took)
    monkeypatch.setattr(dvc, "venv_bin", lambda: tmp_path)
    code, message = dvc.run_dvc(tmp_path, "status")
    assert code == 127 and message.startswith("no dvc next to ")
    with pytest.raises(dvc.DvcError, match="install the project"):
        dvc.dvc_command("repro")


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
