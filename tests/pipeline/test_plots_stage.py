"""The `plots` stage and the DVC plots declared in dvc.yaml.

Fast tests feed the stage a synthetic tree of one seed or several, written exactly as
docs/contracts.md describes the per-seed training logs and the evaluate outputs. The slow
tests run the real tiny pipeline (MNIST mirror) through `dvc repro`,
`dvc plots show --json`, `dvc exp run -S ...`, `dvc exp show` and `dvc plots diff`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from mnist_dvc.analysis import evaluation
from mnist_dvc.analysis.comparison import compare, headline, run_summary
from mnist_dvc.analysis.history import (
    COMMITTED,
    LIVE,
    error_table,
    history_report,
    history_seeds,
    load_history,
    seed_history,
)
from mnist_dvc.analysis.predictions import predictions_csv
from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.contracts import (
    COMPARISON_FILE,
    MEASURED,
    SUMMARY_FILE,
    error_file,
    eval_file,
    history_file,
    predictions_file,
    seed_dir,
)
from mnist_dvc.core.errors import ProjectError
from mnist_dvc.core.records.base import write_record
from mnist_dvc.core.records.history import HistoryReport
from mnist_dvc.core.run_files import DiskFiles, RevisionFiles
from stages import plots
from tests.helpers import ROOT, TINY, run, tool_env
from tools import offline_html

MODELS = ("model_a", "model_b")
SEED = 42  # params.yaml's train.seed
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
    """DVCLive's layout: one TSV per series, columns step, <file stem>, here with the `timestamp`
    column DVCLive adds when asked (`log_metric(..., timestamp=True)`), which readers must skip."""
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


def write_synthetic_tree(root: Path, epochs: int, n_test: int = 60, models=MODELS, seeds=(SEED,)) -> None:
    """Everything the plots stage and DVC's plots read, as the train, evaluate and prepare stages write
    it: made-up curves and predictions per seed, the evaluation files (the committed history and error
    curves included) written by the evaluate stage's own functions."""
    rng = np.random.default_rng(0)
    prepared = root / "data" / "prepared"
    prepared.mkdir(parents=True, exist_ok=True)
    y_test = (np.arange(n_test) % 10).astype(np.uint8)
    np.save(prepared / "x_test.npy", rng.random((n_test, 784), dtype=np.float32))
    np.save(prepared / "y_test.npy", y_test)
    runs: dict = {}
    predictions: dict = {}
    for i, model in enumerate(models):
        runs[model], predictions[model], records = {}, {}, {}
        for seed in seeds:
            history = synthetic_history(epochs, seed=i + 10 * (seed - SEED))
            write_training_log(seed_dir(model, seed, root), history)
            predicted = y_test.copy()
            wrong = rng.random(n_test) < 0.2
            predicted[wrong] = (predicted[wrong] + 1 + i) % 10
            top2 = np.column_stack([predicted, (predicted + 1) % 10])
            p_top2 = np.column_stack([np.full(n_test, 0.8), np.full(n_test, 0.15)])
            result = evaluation.TestResult(top2, p_top2, 0.1 + i)
            records[seed] = evaluation.seed_record(result, y_test)
            write_text(predictions_file(model, seed, root), predictions_csv(y_test, top2, p_top2))
            logged = load_history(seed_dir(model, seed, root))
            history_report(logged, MEASURED).write(history_file(model, seed, root))
            runs[model][seed] = run_summary(logged, 1000 * (i + 1))
            predictions[model][seed] = predicted
        evaluation.evaluation_report(model, 1000 * (i + 1), records).write(eval_file(model, root))
        histories = [load_history(seed_dir(model, seed, root)) for seed in seeds]
        write_text(error_file(model, root), error_table(histories))
    comparison = compare(runs, y_test, predictions, dict.fromkeys(runs, MEASURED))
    comparison.write(root / COMPARISON_FILE)
    write_record(root / SUMMARY_FILE, headline(comparison))


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
    for package in ("stages", "mnist_dvc"):  # this checkout's code, not an installed copy
        os.symlink(ROOT / package, tmp_path / package)
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
    "9_best_test_accuracy_per_seed.png": (800, 500),
}


@pytest.mark.parametrize(("epochs", "seeds"),
                         [(1, (SEED,)), (2, (SEED,)), (500, (SEED,)), (2, (SEED, 43, 44))],
                         ids=["1-epoch", "2-epochs", "500-epochs", "3-seeds"])
def test_stage_writes_every_png_at_its_pixel_size(workdir: Path, epochs: int, seeds, capsys):
    write_synthetic_tree(workdir, epochs, seeds=seeds)
    if epochs == 500:  # once through the real command line
        out = run_stage(workdir).stdout
    else:
        assert plots.main() == 0
        out = capsys.readouterr().out
    assert f"{len(EXPECTED_PNGS)} figures" in out
    pngs = {p.name: p for p in (workdir / "plots" / "figures").iterdir()}
    assert set(pngs) == set(EXPECTED_PNGS)
    for name, path in pngs.items():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.size == EXPECTED_PNGS[name], name
            pixels = np.asarray(image.convert("L"), dtype=float)
        assert pixels.std() > 10, f"{name} looks blank"
    assert not list((workdir / "plots" / "figures").glob(".*")), "temporary files left behind"
    if epochs == 2 and len(seeds) == 1:  # same inputs, same bytes: no change for DVC, no noise in a diff
        before = {name: path.read_bytes() for name, path in pngs.items()}
        plots.main()
        assert {name: path.read_bytes() for name, path in pngs.items()} == before


def test_a_model_dropped_from_params_loses_its_files(workdir: Path):
    write_synthetic_tree(workdir, 2)
    plots.main()
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    del params["models"]["model_b"]
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    write_synthetic_tree(workdir, 2, models=("model_a",))
    plots.main()
    assert not [p for p in (workdir / "plots" / "figures").iterdir() if "model_b" in p.name]


@pytest.mark.parametrize(("damage", "message"), [
    (lambda root: (root / "reports/comparison.json").unlink(),
     "reports/comparison.json not found; run `dvc repro evaluate` first"),
    (lambda root: (root / "reports/eval/model_a.json").write_text("{"),
     "reports/eval/model_a.json: not valid JSON"),
    (lambda root: (root / "metrics/train/model_b/seed_42/plots/metrics/eval/loss.tsv").unlink(),
     "metrics/train/model_b/seed_42: no complete epoch logged; run `dvc repro train@model_b` first"),
    (lambda root: shutil.rmtree(root / "metrics/train/model_b"),
     "metrics/train/model_b/seed_<s> not found; run `dvc repro train@model_b` first"),
    (lambda root: (root / "reports/predictions/model_a/seed_42.csv").write_text("actual,predicted\n1,2\n"),
     "reports/predictions/model_a/seed_42.csv: does not match data/prepared/y_test.npy (1 rows for 60"),
    (lambda root: (root / "reports/predictions/model_a/seed_42.csv").write_text("a,b\n1,2\n"),
     "has columns ['a', 'b'], expected actual,predicted,p_predicted,second,p_second"),
    (lambda root: (root / "reports/predictions/model_b/seed_42.csv").write_text("actual,predicted\n1,12\n"),
     "reports/predictions/model_b/seed_42.csv: line 2: predicted is 12, expected a digit 0-9"),
    (lambda root: (root / "reports/comparison.json").write_text(json.dumps({"models": {
        "model_a": {"seeds": [42], "params": 1}, "model_b": {"seeds": [42], "params": 2}}})),
     "reports/comparison.json: `models.model_a.epochs` is missing; run `dvc repro -f evaluate`"),
    (lambda root: shutil.copytree(root / "metrics/train/model_a/seed_42",
                                  root / "metrics/train/model_a/seed_7"),
     "reports/comparison.json: compares model_a's seeds [42] but the training logs have [7, 42]; "
     "run `dvc repro evaluate`"),
    (lambda root: (root / "reports/eval/model_b.json").write_text(
        '{"seeds": {"42": {"test_accuracy": 0.5}}}'),
     "reports/eval/model_b.json: `seeds.42.test_loss` is missing"),
    (lambda root: (root / "data/prepared/x_test.npy").unlink(),
     "data/prepared/x_test.npy not found; run `dvc repro prepare` first"),
])
def test_bad_inputs_are_reported_before_drawing(workdir: Path, damage, message: str):
    write_synthetic_tree(workdir, 2)
    damage(workdir)
    with pytest.raises(ProjectError) as error:
        plots.main()
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not (workdir / "plots" / "figures").exists()


def test_a_stale_comparison_is_one_line_on_stderr_and_exit_2(workdir: Path):
    write_synthetic_tree(workdir, 2)
    comparison = json.loads((workdir / "reports/comparison.json").read_text())
    del comparison["models"]["model_b"]
    (workdir / "reports/comparison.json").write_text(json.dumps(comparison))
    proc = run_stage(workdir, check=False)
    assert proc.returncode == 2
    assert proc.stderr == ("error: reports/comparison.json: compares model_a but params.yaml has "
                           "model_a, model_b; run `dvc repro evaluate`\n")
    assert not (workdir / "plots" / "figures").exists()


# --- DVC: the stage block, the declared plots, experiments --------------------------------------


def expected_plot_keys(repo: Path, images: bool = True) -> dict[str, int | None]:
    """Every plot `dvc plots show` must list -> y sources per epoch (None: an image or confusion);
    `images` False: a clone without the DVC cache, which has no PNG."""
    dvcyaml = yaml.safe_load((repo / "dvc.yaml").read_text())
    keys: dict[str, int | None] = {}
    for entry in dvcyaml["plots"]:
        if isinstance(entry, str):  # a folder of PNG figures: one image plot per file
            pngs = sorted((repo / entry).glob("*.png"))
            assert bool(pngs) == images, f"{entry}/ has {len(pngs)} PNGs"
            keys.update({f"{entry}/{png.name}": None for png in pngs})
            continue
        ((name, spec),) = entry.items()
        keys[name] = sum(len(f) if isinstance(f, list) else 1 for f in spec["y"].values())
    predictions = sorted((repo / "reports/predictions").rglob("*.csv"))
    keys.update({str(path.relative_to(repo)): None for path in predictions})
    return keys


def assert_every_plot_has_data(shown: dict, repo: Path, epochs: int, n_test: int, revs: list[str],
                               images: bool = True) -> None:
    assert not shown.get("errors"), shown.get("errors")
    data = shown["data"]
    expected = expected_plot_keys(repo, images)
    assert set(data) == set(expected), "a declared plot is missing, or something is drawn twice"
    for key, sources in expected.items():
        renderers = data[key]
        if key.endswith(".png"):
            assert sorted(r["revisions"][0] for r in renderers) == sorted(revs), key
            assert all(Path(r["url"]).stat().st_size > 0 for r in renderers), key
            continue
        (renderer,) = renderers
        values = renderer["content"]["data"]["values"]
        rows = n_test if key.startswith("reports/predictions/") else epochs * sources
        assert len(values) == rows * len(revs), key
        assert sorted({v["rev"] for v in values}) == sorted(revs), key
        if key.startswith("reports/predictions/"):
            assert {"actual", "predicted"} <= set(values[0]), "the confusion template's fields"


def fake_vega_scripts(folder: Path) -> None:
    """Stand-ins for the npm scripts, so the template test needs no network."""
    for package, version in offline_html.dvc_script_versions().items():
        path = offline_html.script_path(folder, package, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'window["{package}"] = "{version}"; var tag = "</script>";')


def test_plots_stage_block_and_declared_plots_in_a_dvc_repo(make_repo, dvc):
    """Without MNIST: synthetic stage inputs, the real `dvc repro`, `dvc plots show` and offline page."""
    repo = make_repo()
    write_synthetic_tree(repo, epochs=3, n_test=60)
    out = dvc(repo, "repro", "--single-item", "plots").stdout
    assert "Running stage 'plots'" in out
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["plots"]
    assert [o["path"] for o in lock["outs"]] == ["plots/figures"]
    shown = json.loads(dvc(repo, "plots", "show", "--json").stdout)
    assert_every_plot_has_data(shown, repo, epochs=3, n_test=60, revs=["workspace"])

    fake_vega_scripts(repo / "build" / "vega")
    run([sys.executable, "-m", "tools.offline_html"], repo)
    dvc(repo, "plots", "show", "--html-template", "build/vega/offline.html")
    page = (repo / "dvc_plots" / "index.html").read_text()
    assert "<script src=" not in page and "cdn.jsdelivr" not in page
    order = [page.index(f'window["{package}"]') for package in ("vega", "vega-lite", "vega-embed")]
    assert order == sorted(order), "vega-lite needs vega, vega-embed needs both"
    assert 'var tag = "<\\/script>"' in page
    charts = [key for key in expected_plot_keys(repo) if not key.endswith(".png")]
    assert page.count("vegaEmbed(") == len(charts)


def test_offline_template_without_npm_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProjectError, match=r"npm not found: install Node\.js"):
        offline_html.build(tmp_path / "vega")
    assert not (tmp_path / "vega" / offline_html.TEMPLATE_NAME).exists()


@pytest.mark.slow
def test_tiny_pipeline_plots_experiment_and_plots_diff(make_repo, mnist_mirror, dvc):
    """The real pipeline, 2 epochs: every declared plot has data, then an experiment with a wider
    model_a shows up in `dvc exp show` and `dvc plots diff` overlays both revisions."""
    repo = make_repo(TINY)
    dvc(repo, "repro", "plots")
    epochs, n_test = TINY["train.epochs"], TINY["data.test_limit"]
    shown = json.loads(dvc(repo, "plots", "show", "--json").stdout)
    assert_every_plot_has_data(shown, repo, epochs, n_test, revs=["workspace"])
    for png in (repo / "plots" / "figures").glob("*.png"):
        with Image.open(png) as image:
            assert image.size == EXPECTED_PNGS[png.name]
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "baseline"], repo)
    assert_a_fresh_clone_draws_the_committed_run(repo, dvc, epochs, n_test)

    out = dvc(repo, "exp", "run", "plots", "-n", "wide-a",
              "-S", "models.model_a.hidden=[128,128,64]").stdout
    assert "Running stage 'train@model_a'" in out and "Running stage 'train@model_b'" not in out
    experiments = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    baseline = next(row for row in experiments if row["name"] == "main")
    (exp,) = [rev for e in baseline["experiments"] for rev in e["revs"] if rev["name"] == "wide-a"]
    assert exp["data"]["params"]["params.yaml"]["data"]["models"]["model_a"]["hidden"] == [128, 128, 64]

    diff = json.loads(dvc(repo, "plots", "diff", "main", "wide-a", "--json").stdout)
    assert_every_plot_has_data(diff, repo, epochs, n_test, revs=["main", "wide-a"])

    def curve(key: str, rev: str) -> list[tuple]:
        """The plotted y values of `rev` (DVC names them by column, or dvc_inferred_y_value for several)."""
        columns = ("train_loss", "test_loss", "dvc_inferred_y_value")
        values = diff["data"][key][0]["content"]["data"]["values"]
        found = [tuple(v.get(column) for column in columns) for v in values if v["rev"] == rev]
        assert found and all(any(value is not None for value in row) for row in found), values[:2]
        return found

    assert curve("loss_model_a", "main") != curve("loss_model_a", "wide-a")
    assert curve("loss_model_b", "main") == curve("loss_model_b", "wide-a")


def assert_a_fresh_clone_draws_the_committed_run(repo: Path, dvc, epochs: int, n_test: int) -> None:
    """A `git clone` with an empty DVC cache (no remote): every seed's committed history equals the
    live log's, the one reader falls back to it (on disk and at the revision), and `dvc plots show`
    loads every chart from committed files (the PNGs, cached outputs, are simply not listed)."""
    clone = repo.parent / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], repo.parent)
    assert not (clone / "metrics" / "train").exists() and not (clone / ".dvc" / "cache").exists()
    for model in ("model_a", "model_b"):
        assert history_seeds(model, DiskFiles(repo)) == ([SEED], LIVE)
        assert history_seeds(model, DiskFiles(clone)) == ([SEED], COMMITTED)
        live = load_history(seed_dir(model, SEED, repo))
        assert HistoryReport.read(history_file(model, SEED, clone)).timing == MEASURED, "one seed: measured"
        for files in (DiskFiles(clone), RevisionFiles(clone, "HEAD")):
            found = seed_history(model, SEED, files)
            assert (found.source, found.history) == (COMMITTED, live)
    out = dvc(clone, "plots", "show", "--json").stdout
    shown = json.loads(out[out.index("{"):])  # after DVC's line on the PNGs it could not load
    errors = shown.pop("errors", None) or []
    assert all("plots/figures" in json.dumps(error) for error in errors), errors
    assert_every_plot_has_data(shown, clone, epochs, n_test, revs=["workspace"], images=False)
