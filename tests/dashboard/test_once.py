"""`python -m tui --once`: Training and Compare as plain text, without Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import FIXTURES, ROOT, tool_env


def run_once(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m tui --once [ARGS]`, checking that it never imports Textual."""
    code = (
        "import sys; from tui.__main__ import main; code = main(sys.argv[1:]); "
        "assert 'textual' not in sys.modules, 'the --once path imported textual'; sys.exit(code)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "--once", "--root", str(root), *args],
        cwd=ROOT, env=tool_env(), capture_output=True, text=True, timeout=60,
    )


def test_once_prints_training_and_compare() -> None:
    proc = run_once(FIXTURES / "finished")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("TRAINING\n")
    assert "  model_b  784→256→512→128→10  finished\n" in out
    assert "epoch 12/12 · elapsed 27.2 s · last epoch 2.00 s · tensorflow" in out
    assert "test accuracy 98.15% (best 98.37%)" in out
    assert "\nCOMPARE\n" in out
    assert "Best test accuracy (epoch picked on test set)      97.84%    98.37% *" in out
    assert "McNemar's exact test (model_a vs model_b): b01 = 61, b10 = 105, p = 0.000803" in out
    assert "> model_b (this project, MLP 784→256→512→128→10)" in out
    assert "warning" not in out
    assert "\x1b[" not in out, "plain text, no terminal escapes"


def test_once_outside_a_project_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_once(tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {tmp_path}: no params.yaml here; run from the project root or pass --root DIR\n"
    )


def test_once_prints_the_experiments_table_as_text_markdown_or_csv(experiments_repo: Path) -> None:
    """`--once --experiments`: every run with DVC's metrics and the params that differ; no Textual."""
    text = run_once(experiments_repo, "--experiments")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split()[:4] == ["run", "rev", "state", "model_a.acc"]
    assert lines[0].split()[-3:] == ["train.epochs", "train.learning_rate", "models.model_a.hidden"]
    assert lines[1].split()[:3] == ["workspace", "workspace", "done"]
    assert any(line.startswith("  wide ") and line.endswith("[128, 128, 64]") for line in lines)
    assert lines[-1] == "5 runs · 1 commit · 3 experiments"
    md = run_once(experiments_repo, "--experiments", "--format", "md").stdout.splitlines()
    assert md[0].startswith("| run | rev | state | model_a.acc |") and md[1].startswith("|---|---|---|---:|")
    assert len(md) == 2 + 5
    csv_rows = run_once(experiments_repo, "--experiments", "--format", "csv", "--all-params").stdout
    csv_rows = csv_rows.splitlines()
    assert csv_rows[0].startswith("kind,baseline,created,run,rev,state,model_a.acc,")
    assert "backprop.inputs.x1" in csv_rows[0] and len(csv_rows) == 1 + 5


def test_once_experiments_outside_a_dvc_repository_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("{}\n")
    proc = run_once(tmp_path, "--experiments")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"error: {tmp_path} is not a DVC repository; run `git init` and `dvc init` there, "
                           "then commit\n")


def test_format_goes_with_experiments(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("{}\n")
    proc = run_once(tmp_path, "--format", "md")
    assert proc.returncode == 2 and "--format and --all-params go with --experiments" in proc.stderr
