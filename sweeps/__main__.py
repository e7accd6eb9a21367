"""`python -m sweeps`: run a grid of experiments, watch it, stop it.

    python -m sweeps run -S 'train.learning_rate=0.001,0.0005' \
                         -S 'models.model_a.hidden=[64,128,64],[128,128,64]'
    python -m sweeps run --ray http://HEAD:8265 -S ...     (or RAY_ADDRESS=http://HEAD:8265)
    python -m sweeps status [SWEEP]
    python -m sweeps log SWEEP POINT [--follow]
    python -m sweeps stop SWEEP [POINT]
    python -m sweeps resume SWEEP                          (a Ray sweep whose driver was stopped)

`run` checks every point before anything starts (a bad point is one line), then follows
the sweep until it ends; Ctrl-C stops following, not the sweep. docs/sweeps.md says more.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mnist_dvc.core.errors import ProjectError
from mnist_dvc.core.params import PARAMS_FILE
from sweeps import driver, gitrefs, grid, local, reader
from sweeps import state as st

DEFAULT_WORKDIR = "~/.cache/mnist-dvc/sweeps"
FOLLOW_POLL_S = 1.0
PROGRESS_EVERY_S = 10.0


class Refused(ProjectError):
    """The sweep cannot start: one line per problem."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sweeps", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project (default: this folder)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start a sweep and follow it")
    run.add_argument("-S", "--set-param", dest="specs", action="append", default=[], metavar="KEY=VALUES",
                     help="a param and its values, in DVC's sweep syntax (repeated: the grid is every "
                          "combination)")
    run.add_argument("--ray", metavar="ADDRESS", default=os.environ.get("RAY_ADDRESS"),
                     help="run on the Ray cluster whose job server is at ADDRESS (default: $RAY_ADDRESS); "
                          "without it, DVC's queue runs the sweep here")
    run.add_argument("--local", action="store_true", help="DVC's queue here, even with RAY_ADDRESS set")
    run.add_argument("--cpus", type=float, help="CPUs per point (Ray default 1; local: the CPUs here / -j)")
    run.add_argument("--gpus", type=float, default=0.0, help="GPUs per point (Ray)")
    run.add_argument("-j", "--jobs", type=int, default=1, help="queue workers (local, default 1)")
    run.add_argument("--retries", type=int, default=2, help="resubmissions of a point whose node died (Ray)")
    run.add_argument("--workdir", default=DEFAULT_WORKDIR,
                     help=f"the points' clones on each node (Ray, default {DEFAULT_WORKDIR})")
    run.add_argument("--python", default="python", help="the nodes' Python with the project installed (Ray)")
    run.add_argument("--git-remote", default="origin", help="the shared git remote (Ray, default origin)")
    run.add_argument("--no-pull", action="store_true",
                     help="do not `dvc exp pull` finished points into this repository (Ray)")
    run.add_argument("--detach", action="store_true", help="start it and return (follow it with `status`)")
    status = sub.add_parser("status", help="the sweeps of this project and their points")
    status.add_argument("sweep", nargs="?")
    log = sub.add_parser("log", help="a point's output")
    log.add_argument("sweep")
    log.add_argument("point", help="its name (p-...) or number")
    log.add_argument("-f", "--follow", action="store_true", help="keep printing as it grows, until it ends")
    stop = sub.add_parser("stop", help="stop a sweep, or one of its points")
    stop.add_argument("sweep")
    stop.add_argument("point", nargs="?")
    resume = sub.add_parser("resume", help="start the driver of a Ray sweep again")
    resume.add_argument("sweep")
    resume.add_argument("--detach", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "run":
        if args.local:
            args.ray = None
        if (args.cpus is not None and args.cpus <= 0) or args.gpus < 0 or args.jobs < 1 or args.retries < 0:
            parser.error("--cpus must be > 0, --gpus >= 0, -j >= 1, --retries >= 0")
    return args


# --- run ----------------------------------------------------------------------------------------------


def start(root: Path, args: argparse.Namespace) -> st.Sweep:
    """Check everything a sweep needs, in one line each, then start it. Returns its record."""
    baseline = gitrefs.head_commit(root)
    if args.ray:
        return _start_ray(root, args, baseline)
    return _start_local(root, args, baseline)


def _start_ray(root: Path, args: argparse.Namespace, baseline: str) -> st.Sweep:
    from sweeps import cluster
    from tools import remote

    changed = gitrefs.changed_files(root)
    if changed:
        listed = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        print(f"note: the sweep runs commit {baseline[:7]}; these changes are not in it: {listed} "
              "(commit and push them to include them)")
    params_text = gitrefs.git(["show", f"{baseline}:{PARAMS_FILE}"], root)
    points = grid.points(params_text, args.specs)
    url = gitrefs.remote_url(root, args.git_remote)
    if not gitrefs.on_remote(root, args.git_remote, baseline):
        raise Refused(f"commit {baseline[:7]} is not on git remote '{args.git_remote}', so the nodes cannot "
                      f"clone it; push it first (`git push {args.git_remote} HEAD`)")
    dvc_remote = remote.default_remote(root)
    if dvc_remote.endpoint and not remote.endpoint_answers(dvc_remote.endpoint):
        said = remote.unreachable("push", dvc_remote)
        raise Refused(said.replace("nothing was sent", "nothing was started"))
    cluster.connect(args.ray)
    cpus = args.cpus or 1.0
    if cluster.slots(args.ray, cpus, args.gpus) == 0:
        raise Refused(f"no live node of the Ray cluster at {args.ray} has {cpus:g} CPU(s)"
                      f"{f' and {args.gpus:g} GPU(s)' if args.gpus else ''}; ask for less with --cpus/--gpus")
    pushed = gitrefs.pushed_names(url, baseline)
    sweep = st.Sweep(
        id=st.new_id(), root=str(root), executor=st.RAY, baseline=baseline, specs=list(args.specs),
        points=[_point(p, done=p.name in pushed) for p in points], address=cluster.job_server_url(args.ray),
        git_url=url, git_remote=args.git_remote, pull=not args.no_pull, cpus=cpus, gpus=args.gpus,
        retries=args.retries, workdir=args.workdir, python=args.python,
    )
    sweep.finished = all(p.state == st.DONE for p in sweep.points)
    st.save(sweep)
    if not sweep.finished:
        driver.start(sweep)
    return sweep


def _start_local(root: Path, args: argparse.Namespace, baseline: str) -> st.Sweep:
    points = grid.points((root / PARAMS_FILE).read_text(), args.specs)
    existing = gitrefs.local_names(root, baseline)
    sweep = st.Sweep(id=st.new_id(), root=str(root), executor=st.LOCAL, baseline=baseline,
                     specs=list(args.specs), points=[_point(p, done=p.name in existing) for p in points],
                     cpus=args.cpus or max(1, (os.cpu_count() or 1) // args.jobs))
    for point in sweep.points:
        if point.state != st.DONE:
            local.queue(root, point)
    sweep.finished = all(p.state == st.DONE for p in sweep.points)
    st.save(sweep)
    if not sweep.finished:
        local.start_workers(root, args.jobs, sweep.cpus)
    return sweep


def _point(point: grid.Point, done: bool) -> st.PointState:
    return st.PointState(index=point.index, name=point.name, overrides=list(point.overrides),
                         state=st.DONE if done else st.QUEUED, already_pushed=done)


def follow(root: Path, sweep_id: str) -> int:
    """Print each point's changes until the sweep ends; 0 if every point is done, 1 if one failed."""
    said: dict[str, str] = {}
    progress_at: dict[str, float] = {}
    note = None
    while True:
        view = reader.sweep(root, sweep_id)
        if view.note != note and view.note:
            print(f"note: {view.note}", flush=True)
        note = view.note
        for point in view.points:
            text = reader.describe(point)
            state_changed = said.get(point.name, "").split(" ")[0] != text.split(" ")[0]
            if text != said.get(point.name) and (
                    state_changed or time.monotonic() - progress_at.get(point.name, 0) > PROGRESS_EVERY_S):
                print(f"{time.strftime('%H:%M:%S')} {point.name} {point.label}: {text}", flush=True)
                said[point.name] = text
                progress_at[point.name] = time.monotonic()
        ended = all(p.state in st.TERMINAL for p in view.points)
        if ended or (view.executor == st.RAY and not view.driver_running and view.finished):
            print(view.summary, flush=True)
            return 1 if view.count(st.FAILED) else 0
        if view.executor == st.RAY and not view.driver_running:
            print(f"error: {view.note}", file=sys.stderr)
            return 2
        time.sleep(FOLLOW_POLL_S)


def cmd_run(root: Path, args: argparse.Namespace) -> int:
    sweep = start(root, args)
    skipped = sum(p.already_pushed for p in sweep.points)
    where = f"on the Ray cluster at {sweep.address}" if sweep.executor == st.RAY else "in DVC's queue here"
    print(f"sweep {sweep.id}: {len(sweep.points)} points {where}"
          + (f", {skipped} already {'pushed' if sweep.executor == st.RAY else 'done'} (not run again)"
             if skipped else ""), flush=True)
    if sweep.finished or args.detach:
        print(f"follow it with `python -m sweeps status {sweep.id}`" if not sweep.finished else
              "nothing to run")
        return 0
    print(f"following it (Ctrl-C stops following, not the sweep; `python -m sweeps stop {sweep.id}` "
          "stops it)", flush=True)
    return follow(root, sweep.id)


def cmd_resume(root: Path, sweep_id: str, detach: bool) -> int:
    record = st.load(st.state_path(root, sweep_id))
    if record.executor != st.RAY:
        raise Refused(f"sweep {sweep_id} runs in DVC's queue: its workers need no driver "
                      "(`dvc queue start` starts them again)")
    if record.finished:
        print(f"sweep {sweep_id} has ended: nothing to resume")
        return 0
    if driver.alive(record):
        print(f"sweep {sweep_id}'s driver runs (pid {record.driver_pid})")
    else:
        from sweeps import cluster

        cluster.connect(record.address or "")
        driver.start(record)
        print(f"sweep {sweep_id}: driver started again")
    return 0 if detach else follow(root, sweep_id)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command == "run":
            return cmd_run(root, args)
        if args.command == "status":
            found = [reader.sweep(root, args.sweep)] if args.sweep else reader.sweeps(root)
            sys.stdout.write(reader.text(root, found) or "no sweeps in this project\n")
            return 0
        if args.command == "log":
            if args.follow:
                for chunk in reader.follow_log(root, args.sweep, args.point):
                    sys.stdout.write(chunk)
                    sys.stdout.flush()
            else:
                sys.stdout.write(reader.log_text(root, args.sweep, args.point))
            return 0
        if args.command == "stop":
            print(reader.stop_point(root, args.sweep, args.point) if args.point
                  else reader.stop_sweep(root, args.sweep))
            return 0
        return cmd_resume(root, args.sweep, args.detach)
    except grid.GridError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped following; the sweep goes on (`python -m sweeps status`)", file=sys.stderr)
        return 130
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly
    sys.exit(main())
