"""The sweep's parts that need no cluster: the grid, the job's report lines, the sweep record, the
reader's text. Seconds in all; the real thing runs in test_ray_sweeps.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from mnist_dvc.core.errors import BadInput
from sweeps import cluster, grid, local, protocol, reader
from sweeps import state as st
from sweeps.job import JobSpec, read_progress, thread_env
from tests.helpers import ROOT

PARAMS = (ROOT / "params.yaml").read_text()


def test_the_grid_is_dvcs_and_every_point_is_checked() -> None:
    points = grid.points(PARAMS, ["train.learning_rate=0.001,0.0005",
                                  "models.model_a.hidden=[64,128,64],[128,128,64]"])
    assert [p.overrides for p in points] == [
        ("train.learning_rate=0.001", "models.model_a.hidden=[64,128,64]"),
        ("train.learning_rate=0.001", "models.model_a.hidden=[128,128,64]"),
        ("train.learning_rate=0.0005", "models.model_a.hidden=[64,128,64]"),
        ("train.learning_rate=0.0005", "models.model_a.hidden=[128,128,64]"),
    ]
    assert len({p.name for p in points}) == 4 and all(p.name.startswith("p-") for p in points)
    # The same params make the same name, whatever the spelling: how a pushed point is recognised.
    again = grid.points(PARAMS, ["models.model_a.hidden=[64, 128, 64]", "train.learning_rate=1e-3"])
    assert again[0].name == points[0].name
    assert len(grid.points(PARAMS, ["train.learning_rate=0.001,0.0010"])) == 1


@pytest.mark.parametrize(("specs", "line"), [
    (["train.learning_rate=0.001,-1"],
     "point 2 (train.learning_rate=-1): params.yaml: train.learning_rate = -1 is invalid; "
     "expected a number > 0"),
    (["train.optimiser=adam"],
     "point 1 (train.optimiser=adam): Could not override 'train.optimiser'. (params.yaml has no such key: "
     "check its spelling)"),
    (["models.model_a.hidden=[64,"], "-S models.model_a.hidden=[64,: DVC cannot parse this value "
     "(write text in quotes, lists as [1, 2], choices as a,b)"),
    (["other.yaml:train.epochs=3"], "-S other.yaml:...: a sweep sets only params.yaml"),
])
def test_a_bad_point_is_one_line(specs: list[str], line: str) -> None:
    with pytest.raises(grid.GridError) as caught:
        grid.points(PARAMS, specs)
    assert caught.value.lines == [line]


def test_the_job_report_is_read_back_from_its_log() -> None:
    progress = protocol.Progress(model="model_a", state="running", epoch=3, epochs=500, eta_s=41.5,
                                 test_accuracy=0.97, seen_at=1.5)
    log = "\n".join([
        "Running stage 'train@model_a':", protocol.line(protocol.RESUMED, 2),
        protocol.line(protocol.PROGRESS, progress),
        protocol.line(protocol.ERROR, "model_a: loss became\nnan"),
        protocol.line(protocol.PROGRESS, msgspec.structs.replace(progress, epoch=4))[:60],  # cut short
        protocol.line(protocol.PROGRESS, '{"model": "model_a", "epoch": "four"}'),  # not a Progress
    ])
    report = protocol.read(log)
    assert report.progress == progress and report.resumed_from == 2
    assert report.error == "model_a: loss became nan" and not report.pushed
    assert protocol.read(protocol.line(protocol.PUSHED, "p-1")).pushed


def test_a_param_value_never_reaches_a_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray runs a job's entrypoint with a shell: it is fixed; the point's overrides travel in an
    environment variable of the job and come back exactly as given."""
    hostile = "backprop.expression='x1*w1; $(touch /tmp/owned) `id` \\' \"'"
    spec = JobSpec("s", "p-1", [hostile], "/srv/git/project.git", "0" * 40, 1.0, "~/w", 1)
    assert cluster.entrypoint("python") == "python -m sweeps.job"
    assert cluster.entrypoint("/opt/my env/bin/python") == "'/opt/my env/bin/python' -m sweeps.job"
    for name, value in spec.to_env().items():
        monkeypatch.setenv(name, value)
    assert JobSpec.from_env() == spec


def test_thread_counts_follow_the_cpus_given() -> None:
    one, four = thread_env(1), thread_env(4)
    assert one["TF_NUM_INTRAOP_THREADS"] == one["OMP_NUM_THREADS"] == "1"
    assert "--xla_cpu_multi_thread_eigen=false" in one["XLA_FLAGS"]
    assert four["TF_NUM_INTRAOP_THREADS"] == "4" and "XLA_FLAGS" not in four


def record(root: Path) -> st.Sweep:
    progress = st.Progress(model="model_a", epoch=41, epochs=500, eta_s=900.0, test_accuracy=0.9712,
                           seen_at=1.0, received_at=1.5)
    nan = "model_a seed 42: loss became nan at epoch 1; lower train.learning_rate"
    points = [
        st.PointState(index=0, name="p-aaaa", overrides=["train.learning_rate=0.001"], state=st.DONE,
                      attempts=1),
        st.PointState(index=1, name="p-bbbb", overrides=["train.learning_rate=0.002"], state=st.RUNNING,
                      attempts=2, resumed_from=40, progress=progress),
        st.PointState(index=2, name="p-cccc", overrides=["train.learning_rate=1e30"], state=st.FAILED,
                      attempts=1, error=nan),
        st.PointState(index=3, name="p-dddd", overrides=["train.learning_rate=0.004"]),
    ]
    return st.Sweep(id="20261208-101500-abcd", root=str(root), executor=st.RAY, baseline="0123456789abcdef",
                    specs=["train.learning_rate=0.001,0.002,1e30,0.004"], points=points,
                    address="http://127.0.0.1:8265", driver_pid=os.getpid(), driver_started=None)


def test_the_record_round_trips_and_reads_as_the_dashboard_needs_it(tmp_path: Path) -> None:
    made = record(tmp_path)
    st.save(made)
    assert st.load(st.state_path(tmp_path, made.id)) == made
    view = reader.sweep(tmp_path, made.id)
    assert [p.state for p in view.points] == [st.DONE, st.RUNNING, st.FAILED, st.QUEUED]
    assert view.points[1].progress.epoch == 41 and view.points[0].progress is None
    assert reader.text(tmp_path).splitlines() == [
        "sweep 20261208-101500-abcd (Ray at http://127.0.0.1:8265, baseline 0123456): 4 points, 1 running, "
        "1 queued, 1 done, 1 failed",
        "  p-aaaa  train.learning_rate=0.001  done",
        "  p-bbbb  train.learning_rate=0.002  running model_a epoch 41/500, test acc 0.9712, ETA 15 min "
        "(attempt 2, resumed at epoch 40)",
        "  p-cccc  train.learning_rate=1e30   failed: model_a seed 42: loss became nan at epoch 1; lower "
        "train.learning_rate",
        "  p-dddd  train.learning_rate=0.004  queued",
    ]
    states = [row["state"].split(" ")[0] for row in reader.rows(tmp_path)]
    assert states == ["done", "running", "failed:", "queued"]


def test_a_torn_record_is_one_line(tmp_path: Path) -> None:
    made = record(tmp_path)
    st.save(made)
    path = st.state_path(tmp_path, made.id)
    path.write_text(json.dumps({"id": made.id, "points": [{"index": 0}]}))
    with pytest.raises(BadInput, match=r"sweep\.json: not a sweep record .*delete its folder"):
        st.load(path)
    st.save(made)
    path.write_text(path.read_text().replace('"state": "running"', '"state": "lost"'))
    with pytest.raises(BadInput, match=r"not a sweep record \(Invalid enum value 'lost' - at `\$\.points\[1\]"
                                       r"\.state`\); delete its folder"):
        st.load(path)
    path.write_text(path.read_text()[:40])
    with pytest.raises(BadInput, match=r"not valid JSON"):
        st.load(path)
    assert reader.sweeps(tmp_path) == []  # the dashboard lists the others, not this one


def test_a_running_point_s_progress_is_read_from_the_training_s_own_record(tmp_path: Path) -> None:
    """What a job reports (and the local executor shows) is progress.json as the trainer writes it."""
    from mnist_dvc.core.records.progress import BestSoFar, LastEpoch, Progress

    def write(model: str, epoch: int, at: str, accuracy: float | None) -> None:
        Progress(model=model, seed=42, state="running", epoch=epoch, epochs=500, elapsed_s=10.0,
                 eta_s=125.0 if epoch else None, epoch_s=0.3 if epoch else None, updated_at=at, pid=1,
                 backend="tensorflow", last=LastEpoch(test_accuracy=accuracy), best=BestSoFar(),
                 ).write(tmp_path / f"metrics/train/{model}/seed_42/progress.json")

    write("model_a", 500, "2026-12-08T10:00:00Z", 0.9801)
    write("model_b", 3, "2026-12-08T10:05:00Z", 0.9712)
    (tmp_path / "metrics/train/model_c/seed_42").mkdir(parents=True)
    (tmp_path / "metrics/train/model_c/seed_42/progress.json").write_text('{"epoch": "three"}')
    assert sorted(read_progress(tmp_path)) == ["model_a", "model_b"]  # a file it cannot read is skipped
    shown = local.progress(tmp_path)  # the model that wrote last is the one training now
    assert (shown.model, shown.epoch, shown.epochs, shown.eta_s, shown.test_accuracy) == (
        "model_b", 3, 500, 125.0, 0.9712)


def test_sweeps_import_neither_the_dashboard_nor_the_stages() -> None:
    """The dashboard will import sweeps.reader: the layers go one way, and reading loads no Ray."""
    from tests.helpers import imported_names

    offenders = [f"{path.name} imports {name}" for path in sorted((ROOT / "sweeps").glob("*.py"))
                 for name in imported_names(path, f"sweeps.{path.stem}")
                 if name.split(".")[0] in ("tui", "stages", "bench")]
    assert offenders == []
    heavy = {"ray", "tensorflow", "keras", "jax", "dvc"}
    probe = f"import sys, sweeps.reader\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r}))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
