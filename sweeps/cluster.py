"""A Ray cluster's job server as a sweep uses it: connect with the cluster's token, submit a point's
job, read its status and log, stop it, and count the slots the nodes offer.

Ray is imported here only, and only when a Ray sweep is submitted, driven or stopped: the
dashboard reads sweep records without it. The token never passes through this code: Ray's
client reads it where the cluster's nodes do (RAY_AUTH_MODE=token with RAY_AUTH_TOKEN_PATH,
RAY_AUTH_TOKEN or ~/.ray/auth_token), and a cluster that refuses the client is one line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mnist_dvc.core.errors import ProjectError
from sweeps.job import JobSpec

if TYPE_CHECKING:
    from ray.job_submission import JobSubmissionClient

ADDRESS_ENV = "RAY_ADDRESS"
DEFAULT_SCHEME = "http://"
# A job that ended this way lost its node (or never got one): run it again.
NODE_LOST = frozenset({
    "JOB_SUPERVISOR_ACTOR_DIED", "JOB_SUPERVISOR_ACTOR_UNKNOWN_FAILURE", "JOB_SUPERVISOR_ACTOR_START_FAILURE",
    "JOB_SUPERVISOR_ACTOR_START_TIMEOUT", "JOB_SUPERVISOR_ACTOR_UNSCHEDULABLE",
})
PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED = "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED"
TOKEN_HINT = ("set RAY_AUTH_MODE=token and the cluster's token (RAY_AUTH_TOKEN_PATH=FILE, RAY_AUTH_TOKEN, "
              "or ~/.ray/auth_token), as on its nodes (docs/sweeps.md)")


class ClusterError(ProjectError):
    """The cluster cannot be reached or refuses this client: one line."""


class Refused(ClusterError):
    """The cluster's job server refused this client's token (or the lack of one)."""


def job_server_url(address: str) -> str:
    """`host:port` or `http(s)://host:port` -> the job server's URL (the head's dashboard port, 8265
    by default)."""
    address = address.strip().rstrip("/")
    if address.startswith("ray://"):
        raise ClusterError(f"{address}: a sweep talks to the job server: give its http://HOST:PORT (the "
                           "head's dashboard port, 8265 unless `ray start --dashboard-port` said otherwise)")
    return address if "://" in address else DEFAULT_SCHEME + address


def connect(address: str) -> JobSubmissionClient:
    """A client of the cluster's job server; ClusterError (one line) if it does not answer or refuses."""
    url = job_server_url(address)
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError:
        raise ClusterError("Ray is not installed here; install it with "
                           "`.venv/bin/pip install 'ray[default]==2.60.0'` (the dev extra has it)") from None
    try:
        return JobSubmissionClient(url)
    except Exception as exc:
        raise explain(url, exc) from None


def explain(url: str, exc: BaseException) -> ClusterError:
    """One line for what talking to the job server at `url` raised."""
    from ray.exceptions import AuthenticationError

    if isinstance(exc, AuthenticationError):
        return Refused(f"the Ray cluster at {url} refused this client: no token, or not the cluster's; "
                       f"{TOKEN_HINT}")
    if isinstance(exc, ConnectionError) or "Failed to connect" in str(exc):
        return ClusterError(f"cannot reach the Ray job server at {url}; start the cluster (docs/sweeps.md) "
                            f"or name its head with --ray http://HOST:PORT or {ADDRESS_ENV}")
    return ClusterError(f"the Ray job server at {url} failed: {first_line(str(exc))}")


def first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def submission_id(spec: JobSpec) -> str:
    """A job id made from the sweep, point and attempt: a driver that restarts finds its jobs again."""
    return f"sweep-{spec.sweep}-{spec.name}-{spec.attempt}"


def entrypoint(python: str) -> str:
    """The shell command Ray runs for every point: the same for all, quoted; no param is in it."""
    return shlex.join([python, "-m", "sweeps.job"])


def submit(client: JobSubmissionClient, spec: JobSpec, python: str, gpus: float) -> str:
    """Start the point's job: the entrypoint is a fixed argument list; the point travels in runtime_env."""
    job_id = submission_id(spec)
    try:
        client.submit_job(
            entrypoint=entrypoint(python), submission_id=job_id,
            entrypoint_num_cpus=spec.cpus, entrypoint_num_gpus=gpus or None,
            runtime_env={"env_vars": spec.to_env()},
            metadata={"sweep": spec.sweep, "point": spec.name, "attempt": str(spec.attempt)},
        )
    except Exception as exc:
        if "already exists" in str(exc):
            return job_id  # submitted before a restart of the driver: the same job
        raise explain(client.get_address(), exc) from None
    return job_id


@dataclass(frozen=True)
class JobState:
    status: str
    error_type: str | None
    message: str
    node: str | None

    @property
    def node_lost(self) -> bool:
        return self.status == FAILED and self.error_type in NODE_LOST


def job_state(client: JobSubmissionClient, job_id: str) -> JobState:
    try:
        info = client.get_job_info(job_id)
    except Exception as exc:
        raise explain(client.get_address(), exc) from None
    error_type = info.error_type.value if hasattr(info.error_type, "value") else info.error_type
    return JobState(str(info.status.value), error_type, first_line(info.message or ""), info.driver_node_id)


def job_log(client: JobSubmissionClient, job_id: str) -> str | None:
    """The job's output so far; None while the node cannot serve it (starting, or gone)."""
    try:
        return client.get_job_logs(job_id)
    except Exception:
        return None


def stop(client: JobSubmissionClient, job_id: str) -> None:
    """Ask Ray to stop the job: SIGTERM to its process group (training saves a checkpoint), then SIGKILL."""
    try:
        client.stop_job(job_id)
    except Exception as exc:
        raise explain(client.get_address(), exc) from None


def slots(address: str, cpus: float, gpus: float) -> int:
    """How many jobs of `cpus` CPUs (and `gpus` GPUs) the cluster's live nodes hold at once."""
    from ray.util.state import list_nodes

    try:
        nodes = list_nodes(address=job_server_url(address), filters=[("state", "=", "ALIVE")],
                           raise_on_missing_output=False)
    except Exception as exc:
        raise explain(job_server_url(address), exc) from None
    return sum(_fits(node.resources_total or {}, cpus, gpus) for node in nodes)


def _fits(resources: dict[str, Any], cpus: float, gpus: float) -> int:
    counts = [int(resources.get("CPU", 0) // cpus)] if cpus > 0 else []
    if gpus > 0:
        counts.append(int(resources.get("GPU", 0) // gpus))
    return min(counts) if counts else 0

