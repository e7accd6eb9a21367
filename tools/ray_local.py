"""A real two-node Ray cluster for the sweep tests, inside the test's loopback-only network namespace.

A worker node is `ray start --block --address ...`, a child of the test: its daemons are its
descendants, so killing a node is SIGKILL to that process tree, the way a machine that
loses power takes everything on it. The head is a plain `ray start --head`, which
daemonizes: with --block, the head would stop altogether when its Ray Client server (which
no sweep uses) gives up waiting for the head's own registration on a loaded machine. Its
processes are stopped with everything else in the namespace (tools/netns.py).
Token authentication stays on: the test makes a token file and every node and client is given
it (RAY_AUTH_MODE=token, RAY_AUTH_TOKEN_PATH), as docs/sweeps.md tells a user to. The GCS is
told to notice a dead node within about two seconds (the default is several times longer).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tools.project_copy import BIN

GCS_PORT = 6379
JOB_SERVER_PORT = 8265
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0
# The GCS declares a node dead after this many missed health checks, one every period.
FAST_HEALTH_CHECKS = {"RAY_health_check_period_ms": "500", "RAY_health_check_timeout_ms": "500",
                      "RAY_health_check_failure_threshold": "3", "RAY_health_check_initial_delay_ms": "0"}
COMMON_FLAGS = ["--num-cpus=1", "--disable-usage-stats", "--object-store-memory=100000000"]


def token_env(base: Path) -> dict[str, str]:
    """A fresh cluster token in a file, and the variables that make Ray's nodes and clients use it."""
    path = base / "auth_token"
    path.write_text(secrets.token_hex(32))
    path.chmod(0o600)
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(path)}


@dataclass
class RayCluster:
    base: Path
    env: dict[str, str]
    temp_dir: Path  # Ray's session folder holds unix sockets, whose paths stay under 108 bytes: a short one
    nodes: dict[str, subprocess.Popen] = field(default_factory=dict)  # worker name -> its `ray start --block`
    _ports: itertools.count = field(default_factory=lambda: itertools.count(52400))
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))


    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{JOB_SERVER_PORT}"

    def start(self, workers: int = 1) -> None:
        with open(self.base / "head.log", "wb") as log:
            code = subprocess.run([str(BIN / "ray"), "start", *COMMON_FLAGS, "--node-name=head", "--head",
                                   f"--port={GCS_PORT}", "--dashboard-host=127.0.0.1",
                                   f"--dashboard-port={JOB_SERVER_PORT}", f"--temp-dir={self.temp_dir}"],
                                  env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=START_TIMEOUT_S).returncode
        assert code == 0, f"ray start --head failed ({code}): see {self.base / 'head.log'}"
        self.wait_alive(lambda alive: "head" in alive, "the head node")
        for _ in range(workers):
            self.add_worker()

    def add_worker(self) -> str:
        name = f"worker-{next(self._names)}"
        with open(self.base / f"{name}.log", "wb") as log:
            self.nodes[name] = subprocess.Popen(
                [str(BIN / "ray"), "start", "--block", *COMMON_FLAGS, f"--node-name={name}",
                 f"--address=127.0.0.1:{GCS_PORT}", f"--dashboard-agent-listen-port={next(self._ports)}"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.wait_alive(lambda alive: name in alive, f"node {name} to join")
        return name

    def alive(self) -> set[str]:
        from ray.util.state import list_nodes

        try:
            nodes = list_nodes(address=self.address, filters=[("state", "=", "ALIVE")],
                               raise_on_missing_output=False)  # a dead node's agent does not answer
            return {node.node_name for node in nodes}
        except Exception:
            return set()

    def wait_alive(self, condition, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not condition(self.alive()):
            for name, proc in self.nodes.items():
                if proc.poll() is not None:
                    raise AssertionError(f"ray node {name} exited ({proc.returncode}): "
                                         f"see {self.base / name}.log")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.3)

    def node_of(self, node_id: str) -> str:
        from ray.util.state import list_nodes

        nodes = list_nodes(address=self.address, raise_on_missing_output=False)
        return next(node.node_name for node in nodes if node.node_id == node_id)

    def _tree(self, name: str) -> list[psutil.Process]:
        root = psutil.Process(self.nodes[name].pid)
        return [root, *root.children(recursive=True)]

    def freeze(self, name: str) -> None:
        """Everything on the node stops where it is (SIGSTOP), the jobs it runs included."""
        for member in self._tree(name):
            with contextlib.suppress(psutil.Error):
                member.send_signal(signal.SIGSTOP)

    def kill(self, name: str) -> None:
        """The node dies at once with everything on it (its `ray start`, daemons, workers, jobs)."""
        for member in self._tree(name):
            with contextlib.suppress(psutil.Error):
                member.send_signal(signal.SIGKILL)
        self.nodes.pop(name).wait()
        self.wait_alive(lambda alive: name not in alive, f"the cluster to notice {name} is gone")

    def stop(self) -> None:
        """Each worker's `ray start --block` stops its own processes on SIGTERM; the head's, and
        whatever else is left, the network namespace stops (tools/netns.py)."""
        for name in list(self.nodes):
            proc = self.nodes.pop(name)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cluster_env(base: Path, extra: dict[str, str]) -> dict[str, str]:
    """What every node runs with: its own HOME (so ~/.ray and the sweeps' workdir are the test's), the
    token, the venv first on PATH, the fast health checks, and `extra` (credentials, MNIST_MIRROR...)."""
    home = base / "home"
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in {**os.environ, **extra}.items() if not key.startswith("RAY_")}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", **token_env(base),
               **FAST_HEALTH_CHECKS, RAY_DISABLE_USAGE_STATS="1")
    return env
