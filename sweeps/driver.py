"""The driver of a Ray sweep: a detached process on the submitting machine that runs the sweep to its end.

    python -m sweeps.driver ROOT SWEEP_ID     (started by `python -m sweeps run`/`resume`)

Once a second it asks the cluster's job server about every job in flight, copies the
new part of each running job's log into `.dvc/tmp/sweeps/<id>/logs/`, takes the job's
last `[sweep] progress` line as the point's progress, and submits waiting points while
the live nodes have free slots (Ray would queue more, but fails a job that waits for
resources longer than RAY_JOB_START_TIMEOUT_SECONDS). It is the only writer of
sweep.json while it runs, so whoever submitted the sweep, or a dashboard, can exit and
come back.

Faults: a job whose node died (Ray: its supervisor actor died, or never started) is
submitted again, at most `retries` times; the new attempt finds the clone and checkpoint
of the last one if it lands where they are (the same node, or any node when the
workdir is shared) and resumes training there, else it trains from the start. A job
that fails by itself (a NaN loss, a param DVC refuses, a push refused) fails its point
alone, with its one-line reason; the rest of the sweep goes on. A job server that does
not answer is a note in sweep.json, and the driver tries again; nothing already
pushed depends on it. A finished point is pulled into the submitting repository
(`dvc exp pull`), so it is an ordinary experiment row there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.errors import ProjectError
from sweeps import cluster, protocol
from sweeps import state as st
from sweeps.job import JobSpec

POLL_S = 1.0
START_TIMEOUT_S = 60.0
SLOTS_EVERY_S = 5.0
IN_FLIGHT = (cluster.PENDING, cluster.RUNNING)
PACKAGE_PARENT = Path(__file__).resolve().parent.parent
# What DVC says when another dvc process holds the repository's lock: pull later.
BUSY = ("Unable to acquire lock", "is busy")


def start(sweep: st.Sweep) -> int:
    """Start the driver detached (its own session, output to driver.log) and wait until it has taken
    the sweep over (its pid in sweep.json); its pid. DriverError with its last words if it could not."""
    log = st.folder(Path(sweep.root), sweep.id) / st.DRIVER_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sweeps.driver", sweep.root, sweep.id], cwd=sweep.root,
                                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while st.load(st.state_path(Path(sweep.root), sweep.id)).driver_pid != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            said = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
            raise DriverError(f"the sweep's driver did not start ({said[-1] if said else 'no output'}); "
                              f"see {log}")
        time.sleep(0.05)
    return proc.pid


class DriverError(ProjectError):
    """The driver could not start: one line."""


def alive(sweep: st.Sweep) -> bool:
    """Whether the sweep's driver still runs (its pid, not a process that reused it)."""
    if sweep.driver_pid is None:
        return False
    try:
        proc = psutil.Process(sweep.driver_pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return sweep.driver_started is None or abs(proc.create_time() - sweep.driver_started) < 1
    except psutil.Error:
        return False


class Driver:
    def __init__(self, sweep: st.Sweep) -> None:
        self.sweep = sweep
        self.root = Path(sweep.root)
        self.client = None
        self.capacity = 0
        self.capacity_at = 0.0
        self.saved: bytes | None = None

    def run(self) -> None:
        self.sweep.driver_pid = os.getpid()
        self.sweep.driver_started = psutil.Process().create_time()
        self.save()  # the submitter waits for this: the sweep is the driver's from now on
        while True:
            try:
                if self.client is None:
                    self.client = cluster.connect(self.sweep.address or "")
                self.step()
                self.sweep.note = None
            except cluster.ClusterError as exc:
                self.client = None
                self.sweep.note = f"{exc} (the driver tries again)"
                if st.STOP_ALL in st.stop_requests(self.root, self.sweep.id):
                    stop_unreachable(self.sweep, str(exc))
            self.save()
            if self.sweep.finished:
                return
            time.sleep(POLL_S)

    def save(self) -> None:
        current = st.encode(self.sweep)
        if current != self.saved:
            st.save(self.sweep)
            self.saved = current

    def step(self) -> None:
        assert self.client is not None
        apply_stops(self.sweep, self.client)
        for point in self.sweep.points:
            if point.job and point.job_status in IN_FLIGHT:
                self.observe(point)
        self.submit_waiting()
        if self.sweep.pull:
            pull(self.sweep, [point for point in self.sweep.points if point.state == st.DONE
                              and not (point.pulled or point.already_pushed or point.pull_error)])
        if all(point.state in st.TERMINAL for point in self.sweep.points):
            self.sweep.finished = True

    def observe(self, point: st.PointState) -> None:
        job = cluster.job_state(self.client, point.job)
        point.job_status = job.status
        if job.status == cluster.PENDING:
            return
        report = protocol.read(self.sync_log(point))
        now = time.time()
        point.resumed_from = report.resumed_from
        if report.progress is not None:
            point.progress = _progress(report.progress, now)
        if job.status == cluster.RUNNING:
            point.state = st.RUNNING
            point.started_at = report.started or point.started_at or now
            return
        point.finished_at = now
        if job.status == cluster.SUCCEEDED:
            point.state, point.error = st.DONE, None
            point.already_pushed = report.already_pushed
        elif job.status == cluster.STOPPED:
            point.state, point.error = st.FAILED, "stopped"
        elif job.node_lost and point.attempts <= self.sweep.retries:
            self.note(point, f"attempt {point.attempts}: {job.message or 'its node was lost'}; "
                             f"submitting it again ({point.attempts} of {self.sweep.retries} resubmissions)")
            point.state, point.job_status, point.progress, point.finished_at = st.QUEUED, None, None, None
        elif job.node_lost:
            point.state = st.FAILED
            point.error = f"its node was lost on all {point.attempts} attempts (last: {job.message})"
        else:
            point.state = st.FAILED
            point.error = report.error or job.message or f"job {point.job} failed"

    def sync_log(self, point: st.PointState) -> str:
        """Append what is new in the job's log to the attempt's local copy; the whole log so far."""
        path = st.log_path(self.root, self.sweep.id, point.name, point.attempts)
        text = cluster.job_log(self.client, point.job)
        have = path.read_bytes() if path.is_file() else b""
        if text is None:
            return have.decode(errors="replace")
        data = text.encode()
        if data[: len(have)] != have:
            write_text(path, text)  # the job's log was replaced (a new job under the same id)
        elif len(data) > len(have):
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as out:
                out.write(data[len(have):])
        return text

    def note(self, point: st.PointState, text: str) -> None:
        path = st.log_path(self.root, self.sweep.id, point.name, point.attempts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as out:
            out.write(f"\n[driver] {text}\n")

    def submit_waiting(self) -> None:
        waiting = [p for p in self.sweep.points if p.state == st.QUEUED and p.job_status is None]
        if not waiting:
            return
        if time.monotonic() - self.capacity_at > SLOTS_EVERY_S:
            self.capacity = cluster.slots(self.sweep.address or "", self.sweep.cpus, self.sweep.gpus)
            self.capacity_at = time.monotonic()
        in_flight = sum(p.job_status in IN_FLIGHT for p in self.sweep.points)
        if self.capacity == 0:
            gpus = f" and {self.sweep.gpus:g} GPU(s)" if self.sweep.gpus else ""
            self.sweep.note = f"no live node of the cluster has {self.sweep.cpus:g} CPU(s){gpus}; waiting"
        for point in waiting[: max(0, self.capacity - in_flight)]:
            point.attempts += 1
            spec = job_spec(self.sweep, point)
            point.jobs.append(cluster.submit(self.client, spec, self.sweep.python, self.sweep.gpus))
            point.job_status = cluster.PENDING


def job_spec(sweep: st.Sweep, point: st.PointState) -> JobSpec:
    return JobSpec(sweep=sweep.id, name=point.name, overrides=list(point.overrides),
                   git_url=sweep.git_url or "", baseline=sweep.baseline, cpus=sweep.cpus,
                   workdir=sweep.workdir, attempt=point.attempts)


def apply_stops(sweep: st.Sweep, client: object) -> None:
    """Act on the stop requests: stop the jobs in flight, and fail what will not run, with why."""
    requested = st.stop_requests(Path(sweep.root), sweep.id)
    if st.STOP_ALL in requested:
        sweep.stopped = True
    for point in sweep.points:
        if point.state in st.TERMINAL or not (sweep.stopped or point.name in requested):
            continue
        if point.job and point.job_status in IN_FLIGHT:
            cluster.stop(client, point.job)
            point.error = "stopped"
        else:
            point.error = "not run: the sweep was stopped" if sweep.stopped else "not run: stopped"
        point.state, point.job_status, point.finished_at = st.FAILED, cluster.STOPPED, time.time()
    if sweep.stopped:
        sweep.finished = True


def stop_unreachable(sweep: st.Sweep, why: str) -> None:
    """Stop a sweep whose cluster does not answer: nothing more is submitted; jobs in flight are
    lost to it."""
    for point in sweep.points:
        if point.state not in st.TERMINAL:
            point.state, point.finished_at = st.FAILED, time.time()
            point.error = f"the sweep was stopped while its cluster did not answer ({why})"
    sweep.stopped = sweep.finished = True


def pull(sweep: st.Sweep, points: list[st.PointState]) -> None:
    """`dvc exp pull REMOTE NAME...` into the submitting repository; a busy repository is tried again
    later."""
    if not points:
        return
    dvc = Path(sys.executable).parent / "dvc"
    names = [point.name for point in points]
    proc = subprocess.run([str(dvc), "exp", "pull", sweep.git_remote, *names], cwd=sweep.root,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 and any(words in output for words in BUSY):
        return
    from tools.remote import last_error

    for point in points:
        if proc.returncode == 0:
            point.pulled = True
        else:
            point.pull_error = (f"`dvc exp pull {sweep.git_remote} {point.name}` failed here: "
                                f"{last_error(output) or 'see its output'}")


def _progress(line: protocol.Progress, now: float) -> st.Progress:
    return st.Progress(model=line.model, epoch=line.epoch, epochs=line.epochs, eta_s=line.eta_s,
                       test_accuracy=line.test_accuracy, seen_at=line.seen_at, received_at=now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sweeps.driver", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("sweep_id")
    args = parser.parse_args(argv)
    sweep = st.load(st.state_path(args.root, args.sweep_id))
    with contextlib.suppress(KeyboardInterrupt):
        Driver(sweep).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
