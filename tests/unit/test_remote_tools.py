"""The pure parts of the remote tooling: the sandboxed server's command lines, the DVC remote config
it writes, the reading of DVC's output, the options passed through to DVC, and what a killed
pull leaves. The server itself is tested in tests/pipeline/test_remote.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from dvc.config import Config

from tests.helpers import BIN, ROOT, run
from tools import remote, remote_store, s3_sandbox, s3_server
from tools.remote import DvcOptions, Remote


def test_the_server_runs_in_namespaces_of_its_own_that_die_with_it(tmp_path: Path) -> None:
    cmd = s3_server.sandbox_command(Path("/bin/weed"), tmp_path, "bucket", 7)
    assert Path(cmd[0]).name == "unshare"
    for flag in ("--net", "--mount", "--pid", "--kill-child"):
        assert flag in cmd
    assert cmd[cmd.index("--") + 1:] == [
        cmd[cmd.index("--") + 1], str(s3_server.SANDBOX), "--state", str(tmp_path), "--bucket", "bucket",
        "--weed", "/bin/weed", "--listen-fd", "7"]
    assert s3_server._served_dir(cmd) == tmp_path


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_where_namespaces_cannot_be_made_the_server_refuses_in_one_line(dvc_repo: Path) -> None:
    """Without CAP_SYS_ADMIN (and as root no user namespace to fall back to): one line, nothing started."""
    start = [sys.executable, "-m", "tools.s3_server", "start", "--dir", str(dvc_repo / "state")]
    proc = subprocess.run(["setpriv", "--bounding-set=-sys_admin", "--", *start], cwd=dvc_repo,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: cannot make the namespaces the local S3 server runs in (unshare: ")
    assert "or use a bucket with `make remote URL=s3://BUCKET/PATH`" in proc.stderr
    assert not (dvc_repo / "state").exists()


def test_weed_listens_on_the_namespaces_loopback_and_keeps_its_files_in_the_state_folder() -> None:
    cmd = s3_sandbox.weed_command("/bin/weed", "bucket")
    assert cmd[:4] == ["/bin/weed", "-logdir=/tmp/state/logs", "-config_dir=/tmp/state/config", "mini"]
    assert "-ip=127.0.0.1" in cmd and "-ip.bind=127.0.0.1" in cmd
    assert f"-s3.port={s3_sandbox.S3_PORT}" in cmd
    for off in ("-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-s3.autoCreateBucket=false"):
        assert off in cmd
    placed = [arg for arg in cmd if arg.startswith(("-dir=", "-filer.localSocket=", "-s3.localSocket="))]
    assert len(placed) == 3 and all("=/tmp/state/data" in arg for arg in placed)


def test_the_s3_port_is_kept_when_free_and_refused_in_one_line_when_taken() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with s3_server.listen(free) as held:
        assert held.getsockname() == ("127.0.0.1", free)
        with pytest.raises(s3_server.S3ServerError, match=f"port {free} on 127.0.0.1 is taken"):
            s3_server.listen(free)


def test_the_credentials_are_made_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "credentials.json"
    made = s3_server.Credentials.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert s3_server.Credentials.load_or_create(path) == made
    assert made.access_key != made.secret_key


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Path:
    run(["git", "init", "-q"], tmp_path)
    run([str(BIN / "dvc"), "init", "-q"], tmp_path)
    return tmp_path


def test_configure_writes_the_endpoint_to_config_and_the_keys_to_config_local(dvc_repo: Path) -> None:
    made = remote.configure(dvc_repo, "store", "s3://b/p", endpoint="http://127.0.0.1:9000",
                            access_key="AKEY", secret_key="SKEY")
    assert made == Remote("store", "s3://b/p", "http://127.0.0.1:9000")
    shared = (dvc_repo / ".dvc/config").read_text()
    assert "remote = store" in shared and "endpointurl = http://127.0.0.1:9000" in shared
    assert "verify = True" in shared
    assert "AKEY" not in shared and "SKEY" not in shared
    local = (dvc_repo / ".dvc/config.local").read_text()
    assert "access_key_id = AKEY" in local and "secret_access_key = SKEY" in local
    assert remote.default_remote(dvc_repo) == made
    # DVC itself reads the same remote back.
    assert Config(str(dvc_repo / ".dvc"))["remote"]["store"]["secret_access_key"] == "SKEY"


def test_without_a_remote_the_error_says_how_to_make_one(dvc_repo: Path) -> None:
    with pytest.raises(remote.RemoteError, match=r"no default DVC remote is configured; start a local one"):
        remote.default_remote(dvc_repo)


def test_dvc_options_pass_through_and_the_wrapper_reads_its_own(
    dvc_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    options = DvcOptions.parse(["-j", "2", "-r", "other", "data", "--no-run-cache"])
    assert options == DvcOptions("other", 2, False)
    assert DvcOptions.parse(["--force"]) == DvcOptions()
    monkeypatch.chdir(dvc_repo)
    # Parsed, passed on: what stops it is the missing remote, not the options.
    assert remote.main(["pull", "-j", "2", "--force", "data"]) == 2
    assert capsys.readouterr().err.startswith("error: no default DVC remote is configured")
    make = subprocess.run(["make", "-n", "pull", "ARGS=-j 2 data"], cwd=ROOT, capture_output=True, text=True)
    assert "-m tools.remote pull -j 2 data" in make.stdout


def test_an_unknown_failure_is_dvcs_last_error_with_its_lines_on_one_line() -> None:
    output = ("2026-11-27 21:00:00,000 DEBUG: trying\n"
              "ERROR: first problem\n"
              "2026-11-27 21:00:01,000 ERROR: failed to pull data from the cloud - Checkout failed for "
              "following targets:\ndata\nmodels\n"
              "Is your cache up to date?\n<https://error.dvc.org/missing-files>\n")
    message = remote.explain("pull", output, Remote("r", "s3://b/p"))
    assert message == ("dvc pull failed: failed to pull data from the cloud - Checkout failed for following "
                       "targets: data models Is your cache up to date?")


def test_a_refused_and_a_missing_copy_are_named_whole_with_the_repair_command() -> None:
    missing, listing = "cd" + "2" * 30, "ef" + "3" * 30 + ".dir"
    output = (f"2026-11-27 21:00:00,000 DEBUG: corrupted cache file '/c/files/md5/ab/{'1' * 30}'.\n"
              f"2026-11-27 21:00:00,000 ERROR: failed to transfer '{missing}' - The specified key does not "
              "exist.: An error occurred (NoSuchKey) when calling the GetObject operation\n"
              "WARNING: Some of the cache files do not exist neither locally nor on remote. Missing cache "
              f"files:\nmd5: {listing}\n")
    message = remote.explain("pull", output, Remote("r", "s3://b/p/"), [("data", listing)])
    assert "data not restored" in message
    assert f"refused (s3://b/p/files/md5/ab/{'1' * 30})" in message
    assert (f"2 file(s) are not on the remote (s3://b/p/files/md5/cd/{'2' * 30}, "
            f"s3://b/p/files/md5/ef/{'3' * 30}.dir)") in message
    assert message.endswith("run `make remote-repair` in a clone that has the files (it replaces damaged and "
                            "missing copies), then pull again")


def test_unsaved_files_in_the_way_of_a_pull_say_how_to_replace_them() -> None:
    output = ("ERROR: failed to pull data from the cloud - Can't remove the following unsaved files without "
              "confirmation. Use `--force` to force.\n/p/data/mine.txt\n")
    message = remote.explain("pull", output, Remote("r", "s3://b/p"))
    assert "/p/data/mine.txt" in message and "`make pull ARGS=--force`" in message


def test_a_killed_pulls_partial_files_are_removed_and_nothing_else(dvc_repo: Path) -> None:
    data = dvc_repo / "data"
    data.mkdir()
    (data / "a.bin").write_bytes(b"a")
    run([str(BIN / "dvc"), "add", "-q", "data"], dvc_repo)
    partial = data / ".AbCdEfGhIjKlMnOpQrStUv.tmp"
    partial.write_bytes(b"half")
    mine = dvc_repo / ".AbCdEfGhIjKlMnOpQrStUv.tmp"  # outside every output: not DVC's to remove
    mine.write_bytes(b"mine")
    assert remote.remove_partial_files(dvc_repo) == [Path("data/.AbCdEfGhIjKlMnOpQrStUv.tmp")]
    assert not partial.exists() and mine.exists() and (data / "a.bin").exists()


def test_a_run_record_is_read_as_the_objects_of_its_outputs() -> None:
    text = ("cmd: python -m stages.train model_a\ndeps:\n- path: data/prepared\n  hash: md5\n  md5: aa.dir\n"
            "outs:\n- path: models/model_a\n  hash: md5\n  md5: bb.dir\n- path: metrics/train/model_a\n"
            "  hash: md5\n  md5: cc\n")
    record = remote_store.parse_record("k" * 64, "v" * 64, text)
    assert record is not None and record.outs == ("bb.dir", "cc")
    assert record.rel == ("runs", "kk", "k" * 64, "v" * 64)
    # DVC 2's records (no `hash: md5`) and unreadable ones are left alone.
    assert remote_store.parse_record("k", "v", text.replace("  hash: md5\n", "")) is None
    assert remote_store.parse_record("k", "v", "outs: [") is None


def test_the_endpoint_probe(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert remote.endpoint_answers(f"http://127.0.0.1:{server.getsockname()[1]}")
        port = server.getsockname()[1]
    assert not remote.endpoint_answers(f"http://127.0.0.1:{port}", timeout=0.5)
