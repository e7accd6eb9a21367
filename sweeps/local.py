"""The `local` executor: DVC's own experiment queue, no new service.

Each point is queued with `dvc exp run --queue -S ... -n NAME` and `dvc queue start -j N`
starts DVC's workers, which run the points in temporary copies under .dvc/tmp/exps/ and
outlive the command that started them. The thread counts of TensorFlow, XLA and the
BLAS libraries are set for the workers, so N workers share the CPUs instead of each
taking all of them. States are not copied anywhere: they are read from DVC's queue each
time (`states`), a point whose experiment exists being done. Every command is an
argument list. The calls here block for a second or more.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mnist_dvc.core.errors import ProjectError
from sweeps import state as st
from sweeps.gitrefs import local_names
from sweeps.job import read_progress, thread_env

DVC_TIMEOUT_S = 300
STAGE_ERROR = re.compile(r"^error: (.+)$", re.MULTILINE)


class LocalError(ProjectError):
    """DVC's queue refused: one line."""


@dataclass(frozen=True)
class LocalState:
    state: str
    error: str | None = None
    folder: Path | None = None  # where a running point works (a queue worker's copy)
    log: Path | None = None  # its output


def dvc(root: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    command = [str(Path(sys.executable).parent / "dvc"), *args]
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full_env.get('PATH', '')}"
    try:
        proc = subprocess.run(command, cwd=root, env=full_env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=DVC_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return 124, f"ERROR: dvc {' '.join(args[:2])} took over {DVC_TIMEOUT_S} s"
    return proc.returncode, proc.stdout + proc.stderr


def queue(root: Path, point: st.PointState) -> None:
    args = ["exp", "run", "--queue"]
    for item in point.overrides:
        args += ["-S", item]
    code, out = dvc(root, [*args, "-n", point.name])
    if code != 0:
        raise LocalError(f"dvc exp run --queue ({point.label}) failed: {_last_error(out)}")


def start_workers(root: Path, jobs: int, cpus: float) -> None:
    """`dvc queue start -j JOBS`, each worker's training limited to `cpus` threads. The workers inherit
    its output, so it goes to a file: through a pipe, dvc would look busy until the last worker exits."""
    log = Path(root) / st.SWEEPS_DIR / "queue-start.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **thread_env(cpus)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with open(log, "wb") as out:
        code = subprocess.run([str(Path(sys.executable).parent / "dvc"), "queue", "start", "-j", str(jobs)],
                              cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, timeout=DVC_TIMEOUT_S).returncode
    if code != 0:
        raise LocalError(f"dvc queue start failed: {_last_error(log.read_text(errors='replace'))}")


def states(root: Path, sweep: st.Sweep) -> dict[str, LocalState]:
    """Each point's state from DVC's queue and the repository's experiments; a point DVC has
    forgotten (its queue entry removed) is left out."""
    from dvc.repo import Repo
    from dvc.repo.experiments.executor.base import ExecutorInfo

    names = {point.name for point in sweep.points}

    def ours(entry: object) -> bool:  # the same point queued at another commit is another experiment
        return entry.name in names and entry.baseline_rev == sweep.baseline  # type: ignore[attr-defined]

    found: dict[str, LocalState] = {}
    with Repo(str(root)) as repo:
        q = repo.experiments.celery_queue
        for entry in q.iter_queued():
            if ours(entry):
                found[entry.name] = LocalState(st.QUEUED)
        for entry in q.iter_active():
            if ours(entry):
                try:
                    info = ExecutorInfo.load_json(q.get_infofile_path(entry.stash_rev))
                    folder = Path(info.root_dir)
                except (OSError, ValueError):
                    folder = None  # starting: DVC writes its info file a moment later
                found[entry.name] = LocalState(st.RUNNING, folder=folder, log=_log(q, entry.stash_rev))
        for result in q.iter_failed():
            if ours(result.entry):
                log = _log(q, result.entry.stash_rev)
                found[result.entry.name] = LocalState(st.FAILED, _failure(log), log=log)
        for result in q.iter_success():
            if ours(result.entry):
                found[result.entry.name] = LocalState(st.DONE, log=_log(q, result.entry.stash_rev))
    for name in local_names(Path(root), sweep.baseline) & names:
        found.setdefault(name, LocalState(st.DONE))
    return found


def progress(folder: Path) -> st.Progress | None:
    """The training in a worker's copy: the model that wrote its progress last (still training, or
    finished while the stages after it run)."""
    docs = read_progress(folder)
    if not docs:
        return None
    model, doc = max(docs.items(), key=lambda item: item[1].updated_at)
    now = time.time()
    return st.Progress(model=model, epoch=doc.epoch, epochs=doc.epochs, eta_s=doc.eta_s,
                       test_accuracy=doc.last.test_accuracy, seen_at=now, received_at=now)


def stop(root: Path, name: str, current: str) -> str:
    """`dvc queue kill NAME` for a running point, `dvc queue remove NAME` for a queued one."""
    action = "kill" if current == st.RUNNING else "remove"
    code, out = dvc(root, ["queue", action, name])
    if code != 0:
        raise LocalError(f"dvc queue {action} {name} failed: {_last_error(out)}")
    return f"dvc queue {action} {name}: done"


def _log(q: object, stash_rev: str) -> Path | None:
    try:
        return Path(q.proc[stash_rev].stdout)  # type: ignore[attr-defined]
    except (KeyError, TypeError):
        return None


def _failure(log: Path | None) -> str:
    """A failed queue run's reason: the stage's own `error:` line, else DVC's last ERROR."""
    if log is None or not log.is_file():
        return "failed before writing any output (DVC kept no log)"
    text = log.read_text(errors="replace")
    stage_errors = STAGE_ERROR.findall(text)
    return stage_errors[-1].strip() if stage_errors else (_last_error(text) or "failed; see its log")


def _last_error(output: str) -> str:
    from tools.remote import last_error

    return last_error(output) or (output.strip().splitlines() or ["no output"])[-1]
