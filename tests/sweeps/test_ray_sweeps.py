"""Sweeps on a real Ray cluster of two nodes, all inside a network namespace that has only loopback.

The module makes the namespace, then a SeaweedFS S3 server (the DVC remote), a bare git
repository (the git remote), a project that uses both, with its data stages run and pushed,
and a Ray cluster of a head and a worker node, token authentication on. The nodes have no MNIST
source: the jobs get the data from the DVC remote. One sweep of six points runs on it
(`sweep`): four good ones, one whose loss becomes NaN, and one stopped while it waits. Once the
worker node's job has written its first checkpoint, that node is frozen and killed, and so is
the sweep's driver on the submitting side; a new node joins and `python -m sweeps resume`
carries the sweep on. The tests drive the real command (`python -m sweeps`) and read what it
left with sweeps.reader, the dashboard's API. On the way out every process of the namespace is
stopped by pid, Ray's orphans included, and the module fails if one is left (tools/netns.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sweeps import reader
from sweeps import state as st
from tests.helpers import BIN, ROOT, TINY, new_project, run, tool_env
from tools import s3_server
from tools.netns import NamespaceUnavailable, loopback_namespace
from tools.ray_local import RayCluster, cluster_env

pytestmark = pytest.mark.slow

BUCKET = "sweeps"
# A point trains one small model for two epochs on a few hundred images: seconds of training,
# the rest is TensorFlow starting in each stage.
POINT = {**TINY, "data.train_limit": 256, "data.test_limit": 128, "train.epochs": 2}
# Four good points, a learning rate that makes plain SGD's loss NaN in the first epoch, and a
# point stopped while it waits for a slot (the last one: the driver submits in order).
GOOD = "train.learning_rate=0.05,0.1,0.2,0.3"
GRID = ["train.optimizer=sgd", GOOD.replace("0.3", "0.3,1e15,0.4")]
NAN_LABEL = "train.optimizer=sgd train.learning_rate=1000000000000000.0"
STOPPED_LABEL = "train.optimizer=sgd train.learning_rate=0.4"
SWEEP_TIMEOUT_S = 600


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


def set_keys(repo: Path, server: s3_server.Server) -> None:
    """The DVC remote's keys as a user sets them (`--local`: never committed)."""
    for option, value in (("access_key_id", server.credentials.access_key),
                          ("secret_access_key", server.credentials.secret_key)):
        run([str(BIN / "dvc"), "remote", "modify", "--local", "team", option, value], repo)


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
        set_keys(project, server)
        # The data stages (and backprop) of the baseline, committed and pushed as docs/sharing.md says:
        # the points restore the data from the remote and skip the stages their params do not touch.
        run([str(BIN / "dvc"), "repro", "-q", "download", "prepare", "backprop"], project,
            MNIST_MIRROR=str(mnist_mirror))
        run(["git", "add", "-A"], project)
        run(["git", "commit", "-qm", "the baseline's data"], project)
        run([sys.executable, "-m", "tools.remote", "push"], project, PYTHONPATH=str(ROOT))
        run(["git", "remote", "add", "origin", str(bare)], project)
        run(["git", "push", "-q", "origin", "main"], project)
        node_extra = {"PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": server.credentials.access_key,
                      "AWS_SECRET_ACCESS_KEY": server.credentials.secret_key}
        env = cluster_env(base, {**tool_env(), **node_extra})
        env.pop("MNIST_MIRROR", None)  # the nodes get MNIST from the DVC remote, or fail
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


def wait_for(condition: Callable[[], Any], what: str, timeout: float = SWEEP_TIMEOUT_S,
             poll: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)
    return found


def grid_args(*specs: str) -> list[str]:
    return [arg for spec in specs for arg in ("-S", spec)]


def sweep_id(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.split("sweep ", 1)[1].split(":", 1)[0]


def one_error(proc: subprocess.CompletedProcess) -> str:
    """The command's whole stderr: exactly one `error: ...` line, exit status 2."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def jobs(world: World) -> list[str]:
    from ray.job_submission import JobSubmissionClient

    return [job.submission_id for job in JobSubmissionClient(world.cluster.address).list_jobs()]


def test_a_client_without_the_cluster_token_is_refused(world: World, tmp_path: Path) -> None:
    """No token, or another one: the job server says 401/403 and the sweep command says so in one line."""
    strangers = {key: value for key, value in world.client_env.items() if not key.startswith("RAY_AUTH")}
    strangers["HOME"] = str(tmp_path)  # no ~/.ray/auth_token there
    for env in (strangers, {**strangers, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "0" * 64}):
        line = one_error(world.sweeps("run", *grid_args("train.learning_rate=0.0007"), env=env, check=False))
        assert line.startswith(f"error: the Ray cluster at {world.cluster.address} refused this client: "
                               "no token, or not the cluster's; set RAY_AUTH_MODE=token"), line
    assert jobs(world) == [] and not (world.project / st.SWEEPS_DIR).exists()


def test_what_would_fail_is_one_line_before_anything_starts(world: World) -> None:
    """A bad point, a DVC remote or git remote that does not answer, a commit the nodes cannot clone."""
    line = one_error(world.sweeps("run", *grid_args("train.learning_rate=0.001,-1"), check=False))
    assert line == ("error: point 2 (train.learning_rate=-1): params.yaml: train.learning_rate = -1 is "
                    "invalid; expected a number > 0")
    dvc_config = (world.project / ".dvc/config").read_text()
    run([str(BIN / "dvc"), "remote", "modify", "team", "endpointurl", "http://127.0.0.1:9"], world.project)
    try:
        line = one_error(world.sweeps("run", *grid_args("train.learning_rate=0.0007"), check=False))
    finally:
        (world.project / ".dvc/config").write_text(dvc_config)
    assert line.startswith("error: cannot reach remote 'team' (s3://sweeps/cache at http://127.0.0.1:9)")
    assert line.endswith("nothing was started, run it again once it answers")
    run(["git", "remote", "add", "gone", str(world.base / "no-such-repo.git")], world.project)
    line = one_error(world.sweeps("run", "--git-remote", "gone", *grid_args("train.learning_rate=0.0007"),
                                  check=False))
    gone = world.base / "no-such-repo.git"
    assert line.startswith("error: cannot reach git remote 'gone': fetch failed: fatal: "
                           f"'{gone}' does not appear to be a git repository"), line
    run(["git", "commit", "-q", "--allow-empty", "-m", "not pushed"], world.project)
    try:
        line = one_error(world.sweeps("run", *grid_args("train.learning_rate=0.0007"), check=False))
    finally:
        run(["git", "reset", "-q", "--hard", "HEAD~1"], world.project)
    assert "is not on git remote 'origin', so the nodes cannot clone it; push it first" in line
    assert jobs(world) == [] and not (world.project / st.SWEEPS_DIR).exists()


@dataclass
class Sweep:
    id: str
    lost: str  # the point whose node was killed
    view: reader.SweepView
    orphaned: reader.SweepView  # as the reader saw it while its driver was dead
    resumed: str  # what `python -m sweeps resume` said


@pytest.fixture(scope="module")
def sweep(world: World) -> Sweep:
    """The six points on two nodes. The last one is stopped while it waits. Once the worker node's
    job has written its first checkpoint, the node is frozen and killed, and the driver too; a new
    node joins, the driver is resumed, and the sweep runs to its end."""
    sid = sweep_id(world.sweeps("run", "--detach", *grid_args(*GRID)))
    waiting = reader.sweep(world.project, sid).points[-1]
    assert waiting.label == STOPPED_LABEL and waiting.state == st.QUEUED
    said = world.sweeps("stop", sid, waiting.name).stdout
    assert said == f"stop of {waiting.name} requested; the sweep's driver stops it\n"
    from ray.job_submission import JobSubmissionClient

    client = JobSubmissionClient(world.cluster.address)

    def on_the_worker() -> tuple[str, str] | None:
        for point in st.load(st.state_path(world.project, sid)).points:
            if point.state == st.RUNNING and point.label not in (NAN_LABEL, STOPPED_LABEL):
                node = world.cluster.node_of(client.get_job_info(point.job).driver_node_id)
                if node != "head":
                    return point.name, node
        return None

    lost, node = wait_for(on_the_worker, "a job to run on the worker node")
    clones = Path(world.cluster.env["HOME"]) / ".cache/mnist-dvc/sweeps/clones"
    clone = wait_for(lambda: next(clones.glob(f"*-{lost}"), None), "its clone")
    wait_for(lambda: list(clone.glob(".checkpoints/*/*/epoch-*")), "its first checkpoint", poll=0.02)
    world.cluster.freeze(node)
    job = st.load(st.state_path(world.project, sid)).point(lost).job
    assert client.get_job_status(job).value == "RUNNING", "the job ended before its node could be killed"
    world.cluster.kill(node)
    # The submitting machine's driver dies too (a reboot): the sweep waits, and is carried on by `resume`.
    os.kill(st.load(st.state_path(world.project, sid)).driver_pid, signal.SIGKILL)
    orphaned = wait_for(lambda: not (found := reader.sweep(world.project, sid)).driver_running and found,
                        "the reader to see the driver gone")
    world.cluster.add_worker()
    resumed = world.sweeps("resume", sid, "--detach").stdout
    # The driver writes `finished` and then exits: wait for both, so what is read is its last word.
    view = wait_for(lambda: (found := reader.sweep(world.project, sid)).finished
                    and not found.driver_running and found, "the sweep to end and its driver to exit")
    return Sweep(sid, lost, view, orphaned, resumed)


def test_every_good_point_is_done_pushed_and_pulled(world: World, sweep: Sweep) -> None:
    """Into this repository by the driver, and into a fresh clone of the remotes with `dvc exp pull`;
    every job's epochs reached this machine on the way."""
    good = [p for p in sweep.view.points if p.label not in (NAN_LABEL, STOPPED_LABEL)]
    assert [p.state for p in good] == [st.DONE] * 4, reader.text(world.project, [sweep.view])
    record = st.load(st.state_path(world.project, sweep.id))
    epochs = [(p.progress.epoch, p.progress.epochs) for p in record.points if p.state == st.DONE]
    assert epochs == [(2, 2)] * 4
    assert all(p.pulled for p in record.points if p.state == st.DONE)
    fresh = world.base / "fresh"
    run(["git", "clone", "-q", str(world.bare), str(fresh)], world.base)
    set_keys(fresh, world.server)
    run([str(BIN / "dvc"), "exp", "pull", "origin", *[p.name for p in good]], fresh)
    import dvc.api

    shown = {row["Experiment"]: row for row in dvc.api.exp_show(repo=str(fresh)) if row.get("Experiment")}
    assert set(shown) == {p.name for p in good}
    assert all(any(key.endswith("model_a.acc") and isinstance(value, float) for key, value in row.items())
               for row in shown.values()), shown


def test_the_lost_node_s_point_ran_again_from_its_checkpoint(world: World, sweep: Sweep) -> None:
    lost = sweep.view.point(sweep.lost)
    assert lost.state == st.DONE and lost.attempts == 2
    second = reader.log_text(world.project, sweep.id, sweep.lost).split("--- attempt 2 ---")[1]
    assert "reusing the clone" in second
    assert any(words in second for words in ("[sweep] resumed", "is cached - skipping run",
                                             "trained by an earlier attempt")), second
    assert len(jobs(world)) == len(sweep.view.points)  # five run, one twice, one stopped before it ran


def test_a_sweep_whose_driver_died_is_found_and_carried_on(world: World, sweep: Sweep) -> None:
    assert not sweep.orphaned.finished and sweep.orphaned.count(st.DONE) < 4
    assert sweep.orphaned.note == (f"its driver is not running: `python -m sweeps resume {sweep.id}` "
                                   "carries it on")
    assert sweep.resumed == f"sweep {sweep.id}: driver started again\n"
    assert sweep.view.note is None  # the resumed driver took the sweep to its end and left no complaint


def test_a_failing_point_fails_alone(world: World, sweep: Sweep) -> None:
    """Its loss became NaN: the trainer's one line; the other points went on to the end."""
    nan = next(p for p in sweep.view.points if p.label == NAN_LABEL)
    assert nan.state == st.FAILED and nan.attempts == 1
    assert nan.error == ("model_a seed 42: loss became nan at epoch 1; lower train.learning_rate in "
                         "params.yaml")
    assert sweep.view.count(st.DONE) == 4


def test_points_already_pushed_are_not_run_again(world: World, sweep: Sweep) -> None:
    again = world.sweeps("run", *grid_args("train.optimizer=sgd", GOOD))
    assert "4 points on the Ray cluster" in again.stdout
    assert "4 already pushed (not run again)" in again.stdout
    assert len(jobs(world)) == len(sweep.view.points)


def test_a_point_stopped_while_it_waits_never_runs(world: World, sweep: Sweep) -> None:
    stopped = next(p for p in sweep.view.points if p.label == STOPPED_LABEL)
    assert (stopped.state, stopped.error, stopped.attempts) == (st.FAILED, "not run: stopped", 0)
    assert "failed: not run: stopped" in world.sweeps("status", sweep.id).stdout
