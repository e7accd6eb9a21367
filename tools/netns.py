"""A loopback-only network namespace for the Ray tests, and every process in it stopped by pid.

`loopback_namespace()` moves the calling thread (pytest's main thread) into a new network
namespace whose only interface is `lo`, so every process the test starts from then on
(Ray's head and nodes, SeaweedFS, git, dvc, the sweep's driver and jobs) can listen and
connect on 127.0.0.1 alone: Ray, which ignores `--node-ip-address=127.0.0.1` in the
machine's own namespace, falls back to 127.0.0.1 there. On the way out it stops every
process of the namespace (SIGTERM, then SIGKILL), whoever its parent is now (Ray's
daemons and the dashboard's forkserver children are re-parented to init), waits until
none is left, and moves the thread back. A process belongs to the namespace exactly when
/proc/PID/ns/net names it, so nothing outside the test is touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import psutil

CLONE_NEWNET = 0x40000000
STOP_GRACE_S = 10.0
GONE_TIMEOUT_S = 20.0


class NamespaceUnavailable(RuntimeError):
    pass


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def current() -> str:
    return os.readlink("/proc/thread-self/ns/net")


def members(namespace: str) -> list[psutil.Process]:
    """Live processes in `namespace` other than this one (zombies have exited: they are not counted)."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if os.readlink(f"/proc/{proc.pid}/ns/net") == namespace and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (OSError, psutil.Error):
            continue
    return found


def stop_members(namespace: str, grace: float = STOP_GRACE_S) -> list[int]:
    """SIGTERM every process of the namespace, SIGKILL what is left after `grace` s; the pids it had."""
    procs = members(namespace)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, GONE_TIMEOUT_S)):
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
        deadline = time.monotonic() + wait
        while members(namespace) and time.monotonic() < deadline:
            time.sleep(0.1)
        procs = members(namespace)
        if not procs:
            break
    return [proc.pid for proc in procs]


@contextlib.contextmanager
def loopback_namespace() -> Iterator[str]:
    """This thread in a fresh network namespace with only `lo` up, for the block; see the module doc."""
    libc = _libc()
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if libc.unshare(CLONE_NEWNET) != 0:
            raise NamespaceUnavailable(f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())} "
                                       "(the Ray tests need root, as in CI)")
        namespace = current()
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)
            links = subprocess.run(["ip", "-o", "link"], check=True, capture_output=True, text=True).stdout
            names = [line.split(":")[1].strip() for line in links.splitlines()]
            assert names == ["lo"], f"the namespace should have only loopback: {names}"
            yield namespace
        finally:
            left = stop_members(namespace)
            if libc.setns(original, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the original network namespace failed")
            assert not left, f"processes left in the test's network namespace: {left}"
    finally:
        os.close(original)
