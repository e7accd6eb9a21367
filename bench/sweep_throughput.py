"""Sweep throughput on this machine: one tiny grid run three ways, side by side in one run.

    python -m bench.sweep_throughput      # writes bench/results_sweeps.json (MNIST_MIRROR set; root, for Ray)

The grid is 6 real points of the project's pipeline at test size (both models, 1,024 training
and 512 test images, 2 epochs, 1 seed; `train.learning_rate` x `models.model_a.hidden`), run

1. one after another: `dvc exp run` per point, TensorFlow given both cores (2 threads);
2. in DVC's queue with two workers: `python -m sweeps run --local -j 2 --cpus 1` (1 thread each);
3. on a Ray cluster of two 1-CPU nodes (a head and a worker on this machine, inside a
   loopback-only network namespace, token authentication on): `python -m sweeps run --ray`.

Each way starts from a fresh copy of the project with its own DVC cache (and, for Ray, its own
git and S3 remotes), so no way restores another's results from the run-cache. Reported:
the wall time of each way and its experiments per hour; for Ray, per job, the time from its
submission to its entrypoint starting (Ray's own share), from there to its first epoch (clone,
DVC, the stages before training) and how long a progress line took from the job to the
submitting machine's sweep.json; for the local ways, from `dvc exp run`'s start to the first
epoch, for comparison. The machine is shared: the load average is recorded beside each way. It
is a script, not a test: tests never assert timings.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import msgspec

from mnist_dvc.core.atomic import write_json
from sweeps import grid, local, protocol
from sweeps import state as st
from sweeps.gitrefs import local_names
from sweeps.job import read_progress, thread_env
from tools import s3_server
from tools.project_copy import BIN, ROOT, TINY, new_project, run, tool_env

RESULTS = Path("bench/results_sweeps.json")
GRID = ["train.learning_rate=0.001,0.002,0.003", "models.model_a.hidden=[64,128,64],[32,32,32]"]
POLL_S = 0.05
BUCKET = "bench"
FAILURE_CHECK_S = 20.0


def grid_args() -> list[str]:
    return [arg for spec in GRID for arg in ("-S", spec)]


def first_epoch(folder: Path, since: float = 0.0) -> bool:
    """A model has finished an epoch, in a progress.json written after `since` (wall clock; the
    workspace of the one-after-another way still holds the point before's files)."""
    return any(doc.epoch >= 1 and datetime.fromisoformat(doc.updated_at).timestamp() > since
               for doc in read_progress(folder).values())


def summary(ways: str, wall: float, points: int) -> dict:
    return {"way": ways, "wall_s": round(wall, 1), "experiments_per_hour": round(points * 3600 / wall, 1),
            "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


def one_after_another(base: Path) -> dict:
    """`dvc exp run` per point, each given both cores."""
    repo = new_project(base / "sequential", base / "sequential-cache", TINY)
    points = grid.points((repo / "params.yaml").read_text(), GRID)
    before = [round(x, 2) for x in os.getloadavg()]
    began = time.monotonic()
    timings = []
    for point in points:
        start, since = time.monotonic(), time.time()
        args = [str(BIN / "dvc"), "exp", "run", "-n", point.name]
        for item in point.overrides:
            args += ["-S", item]
        with open(base / f"sequential-{point.name}.log", "wb") as log:
            proc = subprocess.Popen(args, cwd=repo, env={**tool_env(), **thread_env(2)}, stdout=log,
                                    stderr=subprocess.STDOUT)
        first = None
        while proc.poll() is None:
            if first is None and first_epoch(repo, since):
                first = time.monotonic() - start
            time.sleep(POLL_S)
        assert proc.returncode == 0, f"{point.label} failed: see {base}/sequential-{point.name}.log"
        timings.append({"point": point.label, "wall_s": round(time.monotonic() - start, 1),
                        "start_to_first_epoch_s": round(first, 2) if first is not None else None})
    result = summary("one after another, 2 threads each", time.monotonic() - began, len(points))
    return {**result, "loadavg_before": before, "points": timings}


def dvc_queue(base: Path) -> dict:
    """The local executor: DVC's queue, two workers of one thread each."""
    repo = new_project(base / "queue", base / "queue-cache", TINY)
    points = grid.points((repo / "params.yaml").read_text(), GRID)
    baseline = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    before = [round(x, 2) for x in os.getloadavg()]
    began = time.monotonic()
    out = run([sys.executable, "-m", "sweeps", "run", "--local", "-j", "2", "--cpus", "1", "--detach",
               *grid_args()], repo, PYTHONPATH=str(ROOT)).stdout
    sweep_id = out.split("sweep ", 1)[1].split(":", 1)[0]
    firsts: dict[str, float] = {}
    names = {p.name for p in points}
    checked = began
    while not names <= local_names(repo, baseline):
        for folder in (repo / ".dvc/tmp/exps").glob("tmp*"):
            if folder.name not in firsts and first_epoch(folder):
                firsts[folder.name] = time.monotonic() - began
        if time.monotonic() - checked > FAILURE_CHECK_S:  # asking DVC's queue costs a second of CPU
            checked = time.monotonic()
            states = local.states(repo, st.load(st.state_path(repo, sweep_id)))
            if any(state.state == st.FAILED for state in states.values()):
                raise SystemExit(f"a point failed in DVC's queue: `python -m sweeps status` in {repo}")
        time.sleep(POLL_S * 4)
    result = summary("DVC's queue, -j 2, 1 thread each", time.monotonic() - began, len(points))
    run([str(BIN / "dvc"), "queue", "stop"], repo, check=False)
    return {**result, "loadavg_before": before,
            "first_epochs_after_start_s": sorted(round(t, 1) for t in firsts.values())}


def ray_cluster(base: Path, mirror: str) -> dict:
    """Two 1-CPU Ray nodes on this machine, in a loopback-only network namespace."""
    from tools.netns import loopback_namespace

    scratch = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    try:
        with loopback_namespace():
            server = s3_server.start(base / "s3", BUCKET)
            try:
                return _on_ray(base, mirror, server, scratch)
            finally:
                server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _on_ray(base: Path, mirror: str, server: s3_server.Server, scratch: Path) -> dict:
    from tools.ray_local import RayCluster, cluster_env

    bare = base / "remote.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], base)
    repo = new_project(base / "ray-project", base / "ray-cache", TINY)
    run([sys.executable, "-m", "tools.remote", "use", f"s3://{BUCKET}/cache", "--endpoint", server.endpoint],
        repo, PYTHONPATH=str(ROOT))
    run(["git", "commit", "-qm", "remote", "--", ".dvc/config"], repo)
    for option, value in (("access_key_id", server.credentials.access_key),
                          ("secret_access_key", server.credentials.secret_key)):
        run([str(BIN / "dvc"), "remote", "modify", "--local", "team", option, value], repo)
    run(["git", "remote", "add", "origin", str(bare)], repo)
    run(["git", "push", "-q", "origin", "main"], repo)
    (base / "ray").mkdir()
    env = cluster_env(base, {**tool_env(), "PYTHONPATH": str(ROOT), "MNIST_MIRROR": mirror,
                             "AWS_ACCESS_KEY_ID": server.credentials.access_key,
                             "AWS_SECRET_ACCESS_KEY": server.credentials.secret_key})
    cluster = RayCluster(base / "ray", env, temp_dir=scratch)
    os.environ.update(RAY_AUTH_MODE=env["RAY_AUTH_MODE"], RAY_AUTH_TOKEN_PATH=env["RAY_AUTH_TOKEN_PATH"])
    cluster.start(workers=1)
    try:
        before = [round(x, 2) for x in os.getloadavg()]
        began = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "sweeps", "run", "--ray", cluster.address, "--no-pull",
                              "--detach", *grid_args()], cwd=repo, env={**env, "PYTHONPATH": str(ROOT)},
                             capture_output=True, text=True, check=True).stdout
        sweep_id = out.split("sweep ", 1)[1].split(":", 1)[0]
        path = st.state_path(repo, sweep_id)
        latencies: dict[tuple[str, str, int], float] = {}
        while not (record := st.load(path)).finished:
            for point in record.points:
                p = point.progress
                if p is not None:
                    latencies.setdefault((point.name, p.model, p.epoch), p.received_at - p.seen_at)
            time.sleep(POLL_S * 2)
        wall = time.monotonic() - began
        assert all(point.state == st.DONE for point in record.points), [p.error for p in record.points]
        jobs = _job_timings(cluster.address, repo, record)
    finally:
        cluster.stop()
    lat = sorted(latencies.values())
    result = summary("Ray, two 1-CPU nodes", wall, len(record.points))
    return {**result, "loadavg_before": before, "jobs": jobs,
            "overhead_medians_s": {key: round(statistics.median(job[key] for job in jobs), 2)
                                   for key in ("submit_to_entrypoint_s", "entrypoint_to_first_epoch_s",
                                               "submit_to_first_epoch_s")},
            "progress_to_submitter_s": {"samples": len(lat), "median": round(statistics.median(lat), 3),
                                        "max": round(lat[-1], 3),
                                        "note": "driver's receipt minus the job's reading of progress.json; "
                                                "the job reads it every 0.5 s"}}


def _job_timings(address: str, repo: Path, record: st.Sweep) -> list[dict]:
    from ray.job_submission import JobSubmissionClient

    client = JobSubmissionClient(address)
    timings = []
    for point in record.points:
        submitted = client.get_job_info(point.job).start_time / 1000
        log = st.log_path(repo, record.id, point.name, point.attempts).read_text()
        report = protocol.read(log)
        firsts = [line.seen_at for line in _progress_lines(log) if line.epoch >= 1]
        timings.append({"point": point.label, "submit_to_entrypoint_s": round(report.started - submitted, 2),
                        "entrypoint_to_first_epoch_s": round(firsts[0] - report.started, 2),
                        "submit_to_first_epoch_s": round(firsts[0] - submitted, 2)})
    return timings


def _progress_lines(log: str) -> list[protocol.Progress]:
    """Every progress line of a job's log, oldest first (protocol.read keeps only the last)."""
    return [msgspec.json.decode(match[2], type=protocol.Progress)
            for match in protocol.LINE.finditer(log) if match[1] == protocol.PROGRESS]


def cpu_model() -> str:
    """lscpu's "Model name" (platform.processor() is empty on Linux)."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_throughput",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    mirror = os.environ.get("MNIST_MIRROR")
    if not mirror:
        print("error: set MNIST_MIRROR to a folder holding the four MNIST .gz files", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    began = time.monotonic()
    try:
        ways = [one_after_another(base), dvc_queue(base), ray_cluster(base, mirror)]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    sequential = ways[0]["wall_s"]
    for way in ways:
        way["speedup_vs_one_after_another"] = round(sequential / way["wall_s"], 2)
    write_json(args.out, {
        "grid": GRID, "points": 6, "params": TINY,
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(),
                    "python": platform.python_version()},
        "ways": ways, "bench_wall_s": round(time.monotonic() - began, 1),
    })
    for way in ways:
        print(f"{way['way']:<40} {way['wall_s']:7.1f} s  {way['experiments_per_hour']:6.1f} experiments/h  "
              f"x{way['speedup_vs_one_after_another']}")
    print(f"Ray overhead per job (medians): {ways[2]['overhead_medians_s']}; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
