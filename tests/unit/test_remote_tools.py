"""The pure parts of the remote tooling: port choice, the `weed mini` command line, the DVC remote
config it writes, and the reading of DVC's output. The server itself is tested in
tests/pipeline/test_remote.py."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from dvc.config import Config

from tests.helpers import BIN, run
from tools import remote, s3_server
from tools.remote import Remote


def test_every_service_gets_its_own_free_loopback_port() -> None:
    ports = s3_server.pick_ports()
    assert set(ports) == set(s3_server.PORT_FLAGS)
    assert len(set(ports.values())) == len(ports)
    assert ports["admin.port.grpc"] == ports["admin.port"] + s3_server.GRPC_OFFSET
    for port in ports.values():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))


def test_the_s3_port_is_kept_when_free_and_replaced_when_taken() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert s3_server.pick_ports(free)["s3.port"] == free
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        assert s3_server.pick_ports(busy)["s3.port"] != busy


def test_the_weed_command_binds_loopback_and_sets_every_port(tmp_path: Path) -> None:
    ports = s3_server.pick_ports()
    cmd = s3_server.command(Path("/bin/weed"), tmp_path, "bucket", ports)
    assert cmd[:4] == ["/bin/weed", f"-logdir={tmp_path / 'logs'}", f"-config_dir={tmp_path / 'config'}",
                       "mini"]
    assert "-ip=127.0.0.1" in cmd and "-ip.bind=127.0.0.1" in cmd
    for flag, port in ports.items():
        assert f"-{flag}={port}" in cmd
    for off in ("-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-s3.autoCreateBucket=false"):
        assert off in cmd
    placed = [arg for arg in cmd if arg.startswith(("-dir=", "-filer.localSocket=", "-s3.localSocket="))]
    assert len(placed) == 3 and all(str(tmp_path) in arg for arg in placed)


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


def test_an_unknown_failure_is_dvcs_last_error_on_one_line() -> None:
    output = ("2026-11-27 21:00:00,000 DEBUG: trying\n"
              "ERROR: first problem\n"
              "2026-11-27 21:00:01,000 ERROR: unexpected error - something\n   odd happened\n"
              "Having any troubles? Hit us up at https://dvc.org/support\n")
    message = remote.explain("push", output, Remote("r", "s3://b/p"))
    assert message == "dvc push failed: unexpected error - something"


def test_a_refused_and_a_missing_copy_are_named_with_what_to_delete() -> None:
    missing, listing = "cd" + "2" * 30, "ef" + "3" * 30 + ".dir"
    output = (f"2026-11-27 21:00:00,000 DEBUG: corrupted cache file '/c/files/md5/ab/{'1' * 30}'.\n"
              f"2026-11-27 21:00:00,000 ERROR: failed to transfer '{missing}' - The specified key does not "
              "exist.: An error occurred (NoSuchKey) when calling the GetObject operation\n")
    message = remote.explain("pull", output, Remote("r", "s3://b/p/"), [("data", listing)])
    assert "data not restored" in message
    assert f"refused (s3://b/p/files/md5/ab/{'1' * 30})" in message
    assert f"not on the remote (s3://b/p/files/md5/cd/{'2' * 30})" in message
    assert (f"delete s3://b/p/files/md5/ab/{'1' * 30}, s3://b/p/files/md5/ef/{'3' * 30}.dir from the remote"
            in message)


def test_the_endpoint_probe(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert remote.endpoint_answers(f"http://127.0.0.1:{server.getsockname()[1]}")
        port = server.getsockname()[1]
    assert not remote.endpoint_answers(f"http://127.0.0.1:{port}", timeout=0.5)
