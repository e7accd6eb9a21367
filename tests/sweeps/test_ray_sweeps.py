"""Sweeps on a real Ray cluster of two nodes, all inside a network namespace that has only loopback.

The module makes the namespace, then a SeaweedFS S3 server (the DVC remote), a bare git
repository (the git remote), a project that uses both, and a Ray cluster of a head and a
worker (`ray start --block`), token authentication on. The tests drive the real command
(`python -m sweeps`) and read what it left with sweeps.reader, the dashboard's API.
On the way out every process of the namespace is stopped by pid, Ray's orphans included,
and the module fails if one is left (tests/sweeps/netns.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sweeps import reader
from sweeps import state as st
from tests.helpers import BIN, ROOT, TINY, new_project, run, tool_env
from tests.sweeps.netns import NamespaceUnavailable, loopback_namespace
from tests.sweeps.raycluster import RayCluster, cluster_env
from tools import s3_server

pytestmark = pytest.mark.slow

BUCKET = "sweeps"
# A point trains one small model for two epochs on a few hundred images: seconds of training,
# the rest is TensorFlow starting in each stage.
POINT = {**TINY, "data.train_limit": 256, "data.test_limit": 128, "train.epochs": 2}
GRID = ["train.learning_rate=0.001,0.002", "models.model_a.hidden=[16],[8]"]
SWEEP_TIMEOUT_S = 400


@dataclass
class World:
    base: Path
    project: Path
    bare: Path
    cluster: RayCluster
    server: s3_server.Server
    client_env: dict[str, str]

    def sweeps(self, *args: str, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "sweeps", *args], cwd=self.project,
                              env=env or self.client_env, capture_output=True, text=True)
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc


@pytest.fixture(scope="module")
def namespace() -> Iterator[Path]:
    """The module's network namespace; everything in it is stopped when the module ends. Yields a
    short scratch folder (Ray's unix sockets need short paths), removed once nothing runs there."""
    scratch = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    try:
        with loopback_namespace():
            yield scratch
    except NamespaceUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def one_model_project(path: Path, cache: Path) -> Path:
    """The project with a single small model (model_a, one hidden layer), committed."""
    project = new_project(path, cache, POINT)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["models"] = {"model_a": {**params["models"]["model_a"], "hidden": [16], "stack_seeds": False}}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "commit", "-qam", "one small model"], project)
    return project


@pytest.fixture(scope="module")
def world(namespace: Path, tmp_path_factory: pytest.TempPathFactory, mnist_mirror: Path) -> Iterator[World]:
    base = tmp_path_factory.mktemp("sweeps")
    server = s3_server.start(base / "s3", BUCKET)
    cluster = None
    try:
        bare = base / "remote.git"
        run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], base)
        project = one_model_project(base / "project", base / "cache")
        run([sys.executable, "-m", "tools.remote", "use", f"s3://{BUCKET}/cache",
             "--endpoint", server.endpoint], project, PYTHONPATH=str(ROOT))
        run(["git", "commit", "-qm", "the team's remote", "--", ".dvc/config"], project)
        for option, value in (("access_key_id", server.credentials.access_key),
                              ("secret_access_key", server.credentials.secret_key)):
            run([str(BIN / "dvc"), "remote", "modify", "--local", "team", option, value], project)
        run(["git", "remote", "add", "origin", str(bare)], project)
        run(["git", "push", "-q", "origin", "main"], project)
        node_extra = {"PYTHONPATH": str(ROOT), "MNIST_MIRROR": str(mnist_mirror),
                      "AWS_ACCESS_KEY_ID": server.credentials.access_key,
                      "AWS_SECRET_ACCESS_KEY": server.credentials.secret_key}
        env = cluster_env(base, {**tool_env(), **node_extra})
        cluster = RayCluster(base / "ray", env, temp_dir=namespace)
        (base / "ray").mkdir()
        with pytest.MonkeyPatch.context() as patch:
            # This process is a client of the cluster too (the readers, the kill): it gets the token.
            for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH"):
                patch.setenv(name, env[name])
            cluster.start(workers=1)
            client_env = {**env, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": cluster.address}
            yield World(base, project, bare, cluster, server, client_env)
    finally:
        if cluster is not None:
            cluster.stop()
        server.stop()


def wait_for(condition, what: str, timeout: float = SWEEP_TIMEOUT_S, world: World | None = None):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return found


def sweep_id(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.split("sweep ", 1)[1].split(":", 1)[0]


def test_a_sweep_survives_losing_a_node(world: World) -> None:
    """Four points on two nodes; the worker node dies once its job's training has checkpointed, a new
    node joins; every point ends done, pushed, and pulled into a fresh clone."""
    started = world.sweeps("run", "--detach", *[arg for spec in GRID for arg in ("-S", spec)])
    sid = sweep_id(started)

    def running_on_worker():
        from ray.job_submission import JobSubmissionClient

        client = JobSubmissionClient(world.cluster.address)
        for point in reader.sweep(world.project, sid).points:
            if point.state == st.RUNNING and point.progress and point.progress.epoch >= 1:
                record = st.load(st.state_path(world.project, sid)).point(point.name)
                node = world.cluster.node_of(client.get_job_info(record.job).driver_node_id)
                if node != "head":
                    return point, node
        return None

    victim, node = wait_for(running_on_worker, "a job on the worker node to report its first epoch")
    clones = Path(world.cluster.env["HOME"]) / ".cache/mnist-dvc/sweeps/clones"
    clone = next(clones.glob(f"*-{victim.name}"))
    wait_for(lambda: list(clone.glob(".checkpoints/*/*/epoch-*")), "its first checkpoint")
    world.cluster.kill(node)
    world.cluster.add_worker()
    view = wait_for(lambda: (v := reader.sweep(world.project, sid)).finished and v, "the sweep to end")
    assert [p.state for p in view.points] == [st.DONE] * 4, reader.text(world.project, [view])
    lost = view.point(victim.name)
    assert lost.attempts == 2
    second = reader.log_text(world.project, sid, victim.name).split("--- attempt 2 ---")[1]
    assert "reusing the clone" in second
    assert any(words in second for words in ("[sweep] resumed", "is cached - skipping run",
                                             "trained by an earlier attempt")), second
    record = st.load(st.state_path(world.project, sid))
    assert all(p.pulled for p in record.points), [(p.name, p.pull_error) for p in record.points]

    fresh = world.base / "fresh"
    run(["git", "clone", "-q", str(world.bare), str(fresh)], world.base)
    for option, value in (("access_key_id", world.server.credentials.access_key),
                          ("secret_access_key", world.server.credentials.secret_key)):
        run([str(BIN / "dvc"), "remote", "modify", "--local", "team", option, value], fresh)
    run([str(BIN / "dvc"), "exp", "pull", "origin", *[p.name for p in view.points]], fresh)
    import dvc.api

    shown = {row["Experiment"]: row for row in dvc.api.exp_show(repo=str(fresh)) if row.get("Experiment")}
    assert set(shown) == {p.name for p in view.points}
    assert all(any(key.endswith("model_a.acc") and isinstance(value, float) for key, value in row.items())
               for row in shown.values()), shown

    again = world.sweeps("run", *[arg for spec in GRID for arg in ("-S", spec)])
    assert "4 already pushed (not run again)" in again.stdout and "nothing to run" in again.stdout
