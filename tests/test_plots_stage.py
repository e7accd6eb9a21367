"""The `plots` stage and the DVC plots declared in dvc.yaml.

Fast tests feed the stage a synthetic metrics tree written exactly as
docs/contracts.md describes the training log and the evaluate outputs. The slow
tests run the real tiny pipeline (MNIST mirror) through `dvc repro`,
`dvc plots show --json`, `dvc exp run -S ...`, `dvc exp show` and `dvc plots diff`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from stages import figures, plots
from stages.cli import StageError
from tests.conftest import ROOT, tool_env

MODELS = ("model_a", "model_b")
SERIES = {  # contract: file under plots/metrics/ -> History column
    "train/loss.tsv": "train_loss",
    "train/accuracy.tsv": "train_accuracy",
    "eval/loss.tsv": "test_loss",
    "eval/accuracy.tsv": "test_accuracy",
    "time/epoch_s.tsv": "epoch_s",
    "time/train_time_s.tsv": "train_time_s",
}


def synthetic_history(epochs: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1)
    epoch_s = 1.0 + 0.1 * rng.random(epochs)
    return {
        "train_loss": 0.3 / e**1.2,
        "train_accuracy": 1 - 0.08 / e,
        "test_loss": 0.08 + 0.2 / e,
        "test_accuracy": 0.97 - 0.05 / e + 0.001 * rng.random(epochs),
        "epoch_s": epoch_s,
        "train_time_s": np.cumsum(epoch_s),
    }


def write_training_log(run_dir: Path, history: dict[str, np.ndarray]) -> None:
    """DVCLive's layout: one TSV per series, columns timestamp, step, <file stem>."""
    for rel, column in SERIES.items():
        path = run_dir / "plots" / "metrics" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        stem = path.stem
        rows = [f"timestamp\tstep\t{stem}"]
        rows += [f"{1_700_000_000_000 + i}\t{i + 1}\t{v!r}" for i, v in enumerate(history[column].tolist())]
        path.write_text("\n".join(rows) + "\n")
    epochs = len(history["train_loss"])
    (run_dir / "metrics.json").write_text(json.dumps({
        "train": {"loss": history["train_loss"][-1], "accuracy": history["train_accuracy"][-1]},
        "eval": {"loss": history["test_loss"][-1], "accuracy": history["test_accuracy"][-1]},
        "time": {"epoch_s": history["epoch_s"][-1], "train_time_s": history["train_time_s"][-1]},
        "step": epochs,
    }))


def write_synthetic_tree(root: Path, epochs: int, n_test: int = 60, models=MODELS) -> None:
    """Everything the plots stage reads, as the train, evaluate and prepare stages write it."""
    rng = np.random.default_rng(0)
    prepared = root / "data" / "prepared"
    prepared.mkdir(parents=True, exist_ok=True)
    y_test = (np.arange(n_test) % 10).astype(np.uint8)
    np.save(prepared / "x_test.npy", rng.random((n_test, 784), dtype=np.float32))
    np.save(prepared / "y_test.npy", y_test)
    summaries = {}
    for i, model in enumerate(models):
        history = synthetic_history(epochs, seed=i)
        write_training_log(root / "metrics" / "train" / model, history)
        predicted = y_test.copy()
        wrong = rng.random(n_test) < 0.2
        predicted[wrong] = (predicted[wrong] + 1 + i) % 10
        confusion = root / "metrics" / "confusion" / f"{model}.csv"
        confusion.parent.mkdir(parents=True, exist_ok=True)
        confusion.write_text("actual,predicted\n" + "".join(
            f"{a},{p}\n" for a, p in zip(y_test.tolist(), predicted.tolist(), strict=True)))
        matrix = figures.confusion_counts(y_test, predicted)
        accuracy = float(np.mean(predicted == y_test))
        evaluation = {
            "model": model, "test_accuracy": accuracy, "test_loss": 0.1 + i, "test_error": 1 - accuracy,
            "params": 1000 * (i + 1),
            "per_class": {str(d): {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 6}
                          for d in range(10)},
            "confusion_matrix": matrix.tolist(),
        }
        (root / "metrics" / "eval").mkdir(parents=True, exist_ok=True)
        (root / "metrics" / "eval" / f"{model}.json").write_text(json.dumps(evaluation))
        best = int(np.argmax(history["test_accuracy"]))
        summaries[model] = {
            "best_train_accuracy": float(history["train_accuracy"].max()),
            "best_test_accuracy": float(history["test_accuracy"][best]),
            "best_test_epoch": best + 1,
            "final_test_accuracy": float(history["test_accuracy"][-1]),
            "min_train_loss": float(history["train_loss"].min()),
            "min_test_loss": float(history["test_loss"].min()),
            "generalization_gap": float(history["train_accuracy"].max() - history["test_accuracy"][best]),
            "train_time_s": float(history["train_time_s"][-1]),
            "params": 1000 * (i + 1),
            "epochs": epochs,
        }
    (root / "metrics" / "comparison.json").write_text(json.dumps({
        "models": summaries,
        "verdicts": {k: {"winner": models[0], "sentence": f"{models[0]} wins on {k}."}
                     for k in ("accuracy", "loss", "gap", "time")},
        "mcnemar": {"models": list(models[:2]), "b01": 3, "b10": 5, "p_value": 0.73, "sentence": "n.s."},
    }))


def run_stage(cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m stages.plots` as DVC runs it: exit code, stdout and stderr."""
    env = tool_env(PYTHONPATH=str(cwd))
    proc = subprocess.run([sys.executable, "-m", "stages.plots"], cwd=cwd, env=env, text=True,
                          capture_output=True)
    if check and proc.returncode:
        raise AssertionError(f"stages.plots exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root with the code and params, and nothing else; also the current directory,
    so `plots.main()` can run in-process (the stage's paths are relative, as under DVC)."""
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    os.symlink(ROOT / "stages", tmp_path / "stages")
    monkeypatch.chdir(tmp_path)
    return tmp_path


EXPECTED_PNGS = {
    **{f"{kind}_{m}.png": (800, 500) for m in MODELS
       for kind in ("1_train_error_vs_time", "2_error_vs_time", "3_loss_vs_epoch")},
    "4_loss_vs_epoch_all_models.png": (800, 500),
    "5_test_accuracy_vs_epoch.png": (800, 500),
    "6_comparison.png": (1100, 800),
    **{f"7_confusion_{m}.png": (700, 600) for m in MODELS},
    **{f"8_misclassified_{m}.png": (1000, 600) for m in MODELS},
}


@pytest.mark.parametrize("epochs", [1, 2, 500])
def test_stage_writes_every_png_at_its_pixel_size(workdir: Path, epochs: int, capsys):
    write_synthetic_tree(workdir, epochs)
    if epochs == 500:  # once through the real command line
        out = run_stage(workdir).stdout
    else:
        assert plots.main() == 0
        out = capsys.readouterr().out
    assert f"{len(EXPECTED_PNGS)} figures" in out
    pngs = {p.name: p for p in (workdir / "plots").iterdir()}
    assert set(pngs) == set(EXPECTED_PNGS)
    for name, path in pngs.items():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.size == EXPECTED_PNGS[name], name
            pixels = np.asarray(image.convert("L"), dtype=float)
        assert pixels.std() > 10, f"{name} looks blank"
    assert not list((workdir / "plots").glob(".*")), "temporary files left behind"


def test_stage_writes_error_curves_from_the_training_log(workdir: Path):
    write_synthetic_tree(workdir, 3)
    plots.main()
    history = synthetic_history(3, seed=1)
    rows = (workdir / "metrics" / "error" / "model_b.tsv").read_text().splitlines()
    assert rows[0].split("\t") == ["step", "train_time_s", "train_error", "test_error"]
    values = np.array([[float(v) for v in row.split("\t")] for row in rows[1:]])
    np.testing.assert_allclose(values[:, 0], [1, 2, 3])
    np.testing.assert_allclose(values[:, 1], history["train_time_s"], rtol=1e-6)
    np.testing.assert_allclose(values[:, 2], 1 - history["train_accuracy"], rtol=1e-6)
    np.testing.assert_allclose(values[:, 3], 1 - history["test_accuracy"], rtol=1e-6)


def test_a_model_dropped_from_params_loses_its_files(workdir: Path):
    write_synthetic_tree(workdir, 2)
    plots.main()
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    del params["models"]["model_b"]
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    write_synthetic_tree(workdir, 2, models=("model_a",))
    plots.main()
    assert not [p for p in (workdir / "plots").iterdir() if "model_b" in p.name]
    assert sorted(p.name for p in (workdir / "metrics" / "error").iterdir()) == ["model_a.tsv"]


@pytest.mark.parametrize(("damage", "message"), [
    (lambda root: (root / "metrics/comparison.json").unlink(),
     "metrics/comparison.json not found; run `dvc repro evaluate` first"),
    (lambda root: (root / "metrics/eval/model_a.json").write_text("{"),
     "metrics/eval/model_a.json is not valid JSON"),
    (lambda root: (root / "metrics/train/model_b/plots/metrics/eval/loss.tsv").unlink(),
     "metrics/train/model_b has no complete epoch logged; run `dvc repro train@model_b` first"),
    (lambda root: (root / "metrics/confusion/model_a.csv").write_text("actual,predicted\n1,2\n"),
     "metrics/confusion/model_a.csv does not match data/prepared/y_test.npy (1 rows for 60"),
    (lambda root: (root / "metrics/confusion/model_a.csv").write_text("a,b\n1,2\n"),
     "has columns ['a', 'b'], expected actual,predicted"),
    (lambda root: (root / "data/prepared/x_test.npy").unlink(),
     "data/prepared/x_test.npy not found; run `dvc repro prepare` first"),
])
def test_bad_inputs_are_reported_before_drawing(workdir: Path, damage, message: str):
    write_synthetic_tree(workdir, 2)
    damage(workdir)
    with pytest.raises(StageError) as error:
        plots.main()
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not (workdir / "plots").exists()


def test_a_stale_comparison_is_one_line_on_stderr_and_exit_2(workdir: Path):
    write_synthetic_tree(workdir, 2)
    comparison = json.loads((workdir / "metrics/comparison.json").read_text())
    del comparison["models"]["model_b"]
    (workdir / "metrics/comparison.json").write_text(json.dumps(comparison))
    proc = run_stage(workdir, check=False)
    assert proc.returncode == 2
    assert proc.stderr == ("error: metrics/comparison.json compares model_a but params.yaml has "
                           "model_a, model_b; run `dvc repro evaluate`\n")
    assert not (workdir / "plots").exists()
