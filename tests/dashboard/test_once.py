"""`python -m tui --once`: Training and Compare as plain text, the Experiments table, a model's
errors; never with Textual."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.errors import write_errors_project
from tests.fixtures.runs import write_params, write_run
from tests.helpers import FIXTURES, ROOT, tool_env
from tui.__main__ import summary
from tui.ground.snapshot import DataSource
from tui.training.text import COMMITTED_HINT


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
    assert "  Best test accuracy (epoch picked on test set)    97.84%      98.37% *\n" in out
    assert "  Training time (per seed)                         11.9 s *    27.2 s\n" in out
    assert "McNemar's exact test (model_a vs model_b): b01 = 108, b10 = 61, p = 0.000372" in out
    assert "> model_b (this project, MLP 784→256→512→128→10)" in out
    assert "warning" not in out
    assert "\x1b[" not in out, "plain text, no terminal escapes"


def test_once_on_a_fresh_clone_prints_the_committed_run(fresh_clone: Path) -> None:
    """No training log, no DVC cache: the committed history is the run, said to be the committed one."""
    proc = run_once(fresh_clone)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "No training run yet" not in out
    assert out.startswith(f"TRAINING\n  {COMMITTED_HINT}\n")
    assert "  model_b  784→256→512→128→10  the committed run\n" in out
    assert "           epoch 12/12 · elapsed 27.2 s · last epoch 2.00 s\n" in out, "no ETA, no backend"
    assert "test accuracy 98.15% (best 98.37%)" in out
    assert "warning" not in out and "unknown" not in out


def test_the_summary_of_an_empty_project_says_how_to_start() -> None:
    source = DataSource(FIXTURES / "empty")
    source.poll()
    said = summary(source.snapshot)
    assert "No training run yet. Start one with `dvc repro`" in said
    assert "No comparison yet" in said
    assert "model_a  784→64→128→64→10  waiting: not started yet" in said


def test_once_outside_a_project_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_once(tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {tmp_path}: no params.yaml here; run from the project root or pass --root DIR\n"
    )


def test_once_prints_each_seed_of_a_model_with_several(tmp_path: Path) -> None:
    write_params(tmp_path, seeds=3)
    for seed in (42, 43, 44):
        write_run(tmp_path, "model_a", 12, seed=seed)
        write_run(tmp_path, "model_b", 5, state="failed", error="model_b seed 43: loss became nan", seed=seed)
    write_run(tmp_path, "model_a", 12, seed=44, state="interrupted", error="stopped by SIGTERM")
    proc = run_once(tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "  model_a  784→64→128→64→10  3 seeds  interrupted: seed 44: stopped by SIGTERM" in lines
    assert "           seed 42  finished     epoch 12/12  best test 97.84% at epoch 8" in lines
    assert ("           seed 44  interrupted  epoch 12/12  best test 97.68% at epoch 8  "
            "stopped by SIGTERM") in lines
    # One reason for every seed: said once, on the model's line.
    assert "  model_b  784→256→512→128→10  3 seeds  failed: model_b seed 43: loss became nan" in lines
    assert "           seed 43  failed  epoch  5/12  best test 98.08% at epoch 5" in lines
    assert ("           mean train accuracy 99.48% (best 99.48%, seeds 99.43%–99.53%), "
            "mean test accuracy 97.63% (best 97.82%, seeds 97.68%–97.95%)") in lines


def test_once_prints_the_experiments_table_as_text_markdown_or_csv(experiments_repo: Path) -> None:
    """`--once --experiments`: every run with DVC's metrics and the params that differ; no Textual."""
    text = run_once(experiments_repo, "--experiments")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert max(map(len, lines)) <= 120, "fits 120 columns"
    assert lines[0].split()[:7] == ["run", "rev", "state", "train.epochs", "train.learning_rate",
                                    "models.model_a.hidden", "model_a.acc"], "the changed params first"
    assert lines[1].split()[:3] == ["workspace", "workspace", "done"]
    assert any(line.startswith("  wide ") and "[128, 128, 64]" in line for line in lines)
    assert "equal in every row: " in lines[6] and "unchanged params" in text.stdout
    assert lines[-2].endswith("(--all shows every column)") and "model_b.acc" in lines[-2]
    assert lines[-1] == "5 runs · 1 commit · 3 experiments"
    everything = run_once(experiments_repo, "--experiments", "--all").stdout.splitlines()
    assert {"model_b.acc", "backprop.inputs.x1"} <= set(everything[0].split()) and len(everything) == 7
    md = run_once(experiments_repo, "--experiments", "--format", "md").stdout.splitlines()
    assert md[0].startswith("| run | rev | state | train.epochs |")
    assert md[1].startswith("|:---|:---|:---|---:|")
    assert len(md) == 2 + 5
    csv_rows = run_once(experiments_repo, "--experiments", "--format", "csv", "--all").stdout
    csv_rows = csv_rows.splitlines()
    assert csv_rows[0].startswith("kind,baseline,created,run,rev,state,train.epochs,")
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
    assert proc.returncode == 2 and "--format and --all go with --experiments" in proc.stderr


def test_once_errors_prints_the_top_confusions_and_draws_the_first_mistakes(finished: Path) -> None:
    write_errors_project(finished)
    proc = run_once(finished, "--errors", "model_b")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:8] == [
        "ERRORS model_b (reports/predictions/model_b/seed_42.csv)",
        "  11 of 200 test digits misclassified (5.50%)",
        "  Top confusions (true → predicted):",
        "    4 → 9: 5 images",
        "    7 → 1: 3 images",
        "    3 → 5: 2 images",
        "    9 → 4: 1 image",
        "  The first 6 misclassified test digits:",
    ]
    assert len(lines) == 8 + 3 * (1 + 14 + 2), "three rows of two digits: a gap, 14 lines, 2 captions"
    captions = lines[8 + 15::17]
    assert captions == ["  true 3 · pred 5 · 95.0%       true 4 · pred 9 · 95.0%",
                        "  true 7 · pred 1 · 95.0%       true 9 · pred 4 · 95.0%",
                        "  true 3 · pred 5 · 85.0%       true 4 · pred 9 · 85.0%"]
    assert "  #3 · 2nd 3 (4.0%)             #4 · 2nd 4 (4.0%)" in lines
    assert "@" in proc.stdout and "▀" not in proc.stdout and "\x1b[" not in proc.stdout
    assert max(len(line) for line in lines) <= 80


def test_once_errors_without_predictions_is_a_one_line_error(finished: Path) -> None:
    (finished / "reports/predictions/model_b/seed_42.csv").unlink()
    proc = run_once(finished, "--errors", "model_b")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("error: reports/predictions/model_b/seed_42.csv not found; "
                           "run `dvc repro evaluate` first\n")
    proc = run_once(finished, "--errors", "model_z")
    assert proc.returncode == 2
    assert proc.stderr == "error: no model 'model_z' in this project; it has model_a, model_b\n"


def test_once_errors_without_test_images_still_lists_the_confusions(finished: Path) -> None:
    write_errors_project(finished)
    (finished / "data/prepared/x_test.npy").unlink()
    proc = run_once(finished, "--errors", "model_a")
    assert proc.returncode == 0, proc.stderr
    assert "    4 → 9: 3 images\n" in proc.stdout
    assert proc.stdout.endswith(
        "  The digits are not drawn: data/prepared/x_test.npy not found; run `dvc repro prepare` first\n")


def test_once_into_a_pipe_whose_reader_has_closed_ends_quietly(experiments_repo: Path) -> None:
    """`python -m tui --once --experiments | head -3`: the reader is gone before anything is written
    (its end closed before the child starts), so every write meets a closed pipe; no traceback."""
    for args in (("--experiments",), ()):
        root = experiments_repo if args else FIXTURES / "finished"
        read, write = os.pipe()
        os.close(read)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "tui", "--once", "--root", str(root), *args],
                cwd=ROOT, env=tool_env(), stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(write)
        assert proc.stderr == "", proc.stderr
        assert proc.returncode == 141, "what a shell reports for a writer stopped by a closed pipe"


def test_once_experiments_says_the_workspace_runs_while_a_training_runs_in_it(experiments_copy: Path) -> None:
    """As the tab does: DVC lists the workspace as done; a live training there makes it running."""
    def workspace_state() -> str:
        out = run_once(experiments_copy, "--experiments", "--format", "csv", "--all")
        assert out.returncode == 0, out.stderr
        header, *rows = [line.split(",") for line in out.stdout.splitlines()]
        row = next(r for r in rows if r[header.index("run")] == "workspace")
        return row[header.index("state")]

    assert workspace_state() == "done"
    write_run(experiments_copy, "model_a", 3, epochs=12, state="running", pid=os.getpid())
    assert workspace_state() == "running"
