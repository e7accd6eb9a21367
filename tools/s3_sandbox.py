"""The local S3 server's inside: SeaweedFS in namespaces of its own, reachable only through S3.

    unshare --net --mount --pid --fork --kill-child --propagation private -- \\
        python tools/s3_sandbox.py --state DIR --bucket NAME --weed PATH --listen-fd N

tools/s3_server.py starts this; nothing else should. `weed mini` opens a dozen ports
(master, volume, filer, admin, their gRPC twins) and only the S3 gateway asks for keys: on
the machine's loopback any local user could read, change or delete the remote through the
others. Here SeaweedFS runs in a network namespace of its own, where every one of those
ports is out of reach, and the one way in is the S3 port the parent opened on the machine's
loopback and passed down (fd N): this process relays each connection to the S3 gateway,
which checks the keys of every request. A private /tmp (tmpfs) holds the unix sockets
SeaweedFS hard-wires there and goes away with the namespace; as pid 1 of its own pid
namespace this process takes SeaweedFS with it however it ends, so even a server killed with
SIGKILL leaves no process, port or socket behind.

Standard library only: it runs by path, before and outside the project's imports.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

# Inside the namespace every port is free: SeaweedFS's own defaults.
S3_PORT = 8333
INSIDE = "127.0.0.1"
STATE_MOUNT = Path("/tmp/state")  # where the state folder appears inside
WEED_MOUNT = Path("/tmp/weed")  # and the SeaweedFS binary
STOP_TIMEOUT_S = 10.0
RELAY_CHUNK = 1 << 16

MS_NOSUID, MS_NODEV, MS_BIND = 2, 4, 4096
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def weed_command(weed: str, bucket: str, state: Path = STATE_MOUNT) -> list[str]:
    """`weed mini` on the namespace's loopback, its files in the state folder, extras off."""
    data = state / "data"
    return [
        weed, f"-logdir={state / 'logs'}", f"-config_dir={state / 'config'}", "mini",
        f"-dir={data}", f"-ip={INSIDE}", f"-ip.bind={INSIDE}", f"-bucket={bucket}", f"-s3.port={S3_PORT}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-master.telemetry=false",
        # Like a cloud bucket: a typo in the bucket name is an error, not a new bucket.
        "-s3.autoCreateBucket=false",
        f"-filer.localSocket={data / 'filer.sock'}", f"-s3.localSocket={data / 's3.sock'}",
    ]


def _libc_mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    code = libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                      data.encode() if data else None)
    if code != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def loopback_up() -> None:
    """A new network namespace has only `lo`, and it is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def private_tmp(state: Path) -> None:
    """A fresh tmpfs on /tmp (this mount namespace only), the state folder bound at /tmp/state.

    The state folder may itself be under /tmp: it is opened first and bound through
    /proc/self/fd, which still reaches it once /tmp is covered.
    """
    fd = os.open(state, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _libc_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
        STATE_MOUNT.mkdir()
        _libc_mount(f"/proc/self/fd/{fd}", str(STATE_MOUNT), None, MS_BIND)
    finally:
        os.close(fd)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(RELAY_CHUNK):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def _relay(client: socket.socket) -> None:
    try:
        upstream = socket.create_connection((INSIDE, S3_PORT), timeout=5)
    except OSError:
        client.close()  # the gateway is not up yet: the client sees a closed connection
        return
    upstream.settimeout(None)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def serve(listener: socket.socket) -> None:
    """Relay every connection to the S3 port of the machine's loopback to the gateway inside."""
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_relay, args=(client,), daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--weed", required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    args = parser.parse_args(argv)
    listener = socket.socket(fileno=args.listen_fd)
    loopback_up()
    # The binary may live under /tmp (a project cloned there), which the private /tmp covers:
    # opened first, it is bound at /tmp/weed through /proc/self/fd, as the state folder is.
    binary = os.open(args.weed, os.O_RDONLY)
    try:
        private_tmp(args.state.resolve())
        WEED_MOUNT.touch()
        _libc_mount(f"/proc/self/fd/{binary}", str(WEED_MOUNT), None, MS_BIND)
    finally:
        os.close(binary)
    # Temporary files of weed's stay in the state folder too.
    env = {**os.environ, "TMPDIR": str(STATE_MOUNT / "tmp")}
    weed = subprocess.Popen(weed_command(str(WEED_MOUNT), args.bucket), cwd=STATE_MOUNT, env=env,
                            stdin=subprocess.DEVNULL)

    def stop(signum: int, frame: object) -> None:
        weed.terminate()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    code = weed.wait()
    listener.close()
    # SIGTERM'd on request: a clean stop. Anything else: weed's own status for the log.
    return 0 if code in (0, -signal.SIGTERM) else (code if code > 0 else 128 - code)


if __name__ == "__main__":
    sys.exit(main())
