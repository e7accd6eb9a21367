"""One sweep point on a Ray node: `python -m sweeps.job`, the entrypoint of the point's Ray job.

The point's description comes in the environment variable MNIST_SWEEP_JOB (JSON), set
by the submitter through the job's runtime_env: the job's entrypoint is a fixed
argument list, so no param value ever reaches the shell Ray runs it with. The job then:

1. takes a lock on its clone (a second attempt of the same point waits for none: it fails
   in one line while the first one still runs there);
2. clones the git remote into `<workdir>/clones/<baseline[:12]>-<name>` and checks out
   the sweep's baseline commit, or reuses that clone when an earlier attempt left it (on
   this node, or on any node when the workdir is shared): the trainer then resumes from
   the clone's last checkpoint;
3. points DVC at a cache shared by all clones on the node (`<workdir>/dvc-cache`), so
   the data and the run-cache are fetched or made once per node;
4. runs `dvc exp run --pull -S ... -n NAME` with the thread counts of TensorFlow, XLA
   and the BLAS libraries set to the CPUs the job was given, printing a `[sweep]
   progress` line whenever a model finishes an epoch (sweeps/protocol.py);
5. pushes the experiment with `dvc exp push --run-cache` to the git remote it was
   cloned from and to the project's default DVC remote.

A point whose experiment the git remote already has is not run again. Exit status: 0
pushed, 1 the point failed (its `[sweep] error` line says why), 2 trained but not pushed
(the run stays in the clone; an attempt on the same clone pushes it without training).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from mnist_dvc.core.errors import ProjectError
from mnist_dvc.core.records.progress import Progress
from sweeps import protocol
from sweeps.gitrefs import GitError, exp_ref_prefix, git, pushed_names

SPEC_ENV = "MNIST_SWEEP_JOB"
GIT_REMOTE = "origin"
PROGRESS_POLL_S = 0.5
# What the trainer says when it starts from a checkpoint (mnist_dvc/training/trainer.py): "resuming
# from the checkpoint after epoch 40/500", or "the checkpoint after the last epoch (500/500) ...".
RESUMED = re.compile(r"resuming from the checkpoint after epoch (\d+)"
                     r"|the checkpoint after the last epoch \((\d+)/")
PUSH_FAILED_EXIT = 2


class PointFailed(Exception):
    """The point cannot be run or pushed: one line."""


@dataclass(frozen=True)
class JobSpec:
    sweep: str
    name: str
    overrides: list[str]
    git_url: str
    baseline: str
    cpus: float
    workdir: str
    attempt: int

    def to_env(self) -> dict[str, str]:
        return {SPEC_ENV: json.dumps(asdict(self))}

    @classmethod
    def from_env(cls) -> JobSpec:
        text = os.environ.get(SPEC_ENV)
        if not text:
            raise PointFailed(f"{SPEC_ENV} is not set: this module runs as a sweep's Ray job")
        return cls(**json.loads(text))

    @property
    def base(self) -> Path:
        return Path(self.workdir).expanduser()

    @property
    def clone(self) -> Path:
        return self.base / "clones" / f"{self.baseline[:12]}-{self.name}"


def thread_env(cpus: float) -> dict[str, str]:
    """Thread counts for a process given `cpus` CPUs: TensorFlow's own pools (XLA's compiled
    code runs on the intra-op pool), OpenMP/oneDNN and the BLAS libraries; under the JAX backend
    XLA's CPU client is made single-threaded when one CPU is all there is."""
    n = str(max(1, int(cpus)))
    env = {name: n for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    if n == "1":
        flags = os.environ.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = " ".join([flags, "--xla_cpu_multi_thread_eigen=false",
                                     "intra_op_parallelism_threads=1"]).strip()
    return env


def say(event: str, detail: object = "") -> None:
    with _PRINT_LOCK:
        print(protocol.line(event, detail), flush=True)


_PRINT_LOCK = threading.Lock()


def main() -> int:
    try:
        spec = JobSpec.from_env()
        say(protocol.STARTED, round(time.time(), 3))
        print(f"point {spec.name} (attempt {spec.attempt}) on {socket.gethostname()} with {spec.cpus:g} "
              f"CPU(s): {' '.join(spec.overrides)}", flush=True)
        return run(spec)
    except PointFailed as exc:
        say(protocol.ERROR, str(exc))
        return PUSH_FAILED_EXIT if isinstance(exc, PushFailed) else 1


class PushFailed(PointFailed):
    pass


def run(spec: JobSpec) -> int:
    spec.base.mkdir(parents=True, exist_ok=True)
    with _locked(spec.clone.with_name(spec.clone.name + ".lock")):
        if spec.name in _remote_names(spec):
            say(protocol.ALREADY_PUSHED, spec.name)
            return 0
        _prepare_clone(spec)
        if not _ran_before(spec):
            _train(spec)
        _push(spec)
    say(protocol.PUSHED, spec.name)
    return 0


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PointFailed(f"another attempt of this point still runs in {path.with_suffix('')} on "
                              f"{socket.gethostname()}; stop it, or wait for it") from None
        yield


def _remote_names(spec: JobSpec) -> set[str]:
    try:
        return pushed_names(spec.git_url, spec.baseline)
    except GitError as exc:
        raise PointFailed(str(exc)) from None


def _prepare_clone(spec: JobSpec) -> None:
    clone = spec.clone
    try:
        if (clone / ".git").is_dir():
            print(f"reusing the clone an earlier attempt left in {clone}", flush=True)
            git(["checkout", "--quiet", "--force", "--detach", spec.baseline], clone)
        else:
            partial = clone.with_name(clone.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            git(["clone", "--quiet", "--no-checkout", spec.git_url, str(partial)])
            git(["checkout", "--quiet", "--detach", spec.baseline], partial)
            partial.rename(clone)
            for key, value in (("user.name", "mnist-dvc sweep"), ("user.email", "sweep@localhost")):
                if not _git_config(clone, key):
                    git(["config", key, value], clone)
    except GitError as exc:
        raise PointFailed(f"cannot prepare the clone of {spec.git_url} at {spec.baseline[:12]}: "
                          f"{exc}") from None
    from dvc.config import Config

    with Config(str(clone / ".dvc")).edit("local") as conf:  # what `dvc cache dir --local DIR` writes
        conf["cache"]["dir"] = str(spec.base / "dvc-cache")


def _git_config(clone: Path, key: str) -> str:
    try:
        return git(["config", "--get", key], clone).strip()
    except GitError:
        return ""


def _ran_before(spec: JobSpec) -> bool:
    """An earlier attempt in this clone trained the point but did not push it."""
    try:
        git(["show-ref", "--verify", "--quiet", exp_ref_prefix(spec.baseline) + spec.name], spec.clone)
    except GitError:
        return False
    print(f"{spec.name} was trained by an earlier attempt in this clone; pushing it", flush=True)
    return True


def _train(spec: JobSpec) -> None:
    args = ["exp", "run", "--pull"]
    for item in spec.overrides:
        args += ["-S", item]
    args += ["-n", spec.name]
    env = {**_dvc_env(), **thread_env(spec.cpus)}
    proc = subprocess.Popen(_dvc_command(args), cwd=spec.clone, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    done = threading.Event()
    watcher = threading.Thread(target=_report_progress, args=(spec.clone, done), daemon=True)
    watcher.start()
    output = []
    assert proc.stdout is not None
    for text in proc.stdout:
        output.append(text)
        with _PRINT_LOCK:
            sys.stdout.write(text)
            sys.stdout.flush()
        if match := RESUMED.search(text):
            say(protocol.RESUMED, match[1] or match[2])
    code = proc.wait()
    done.set()
    watcher.join()
    if code != 0:
        raise PointFailed(_training_error(spec.clone) or _last_error("".join(output))
                          or f"dvc exp run exited with status {code}")


def _push(spec: JobSpec) -> None:
    code, out = _dvc(spec.clone, ["exp", "push", "--run-cache", GIT_REMOTE, spec.name])
    sys.stdout.write(out)
    if code != 0:
        raise PushFailed(f"trained, but the push failed: {_push_error(spec.clone, out)}; the run is kept in "
                         f"{spec.clone} on {socket.gethostname()}, and an attempt there pushes it without "
                         "training again")


def _push_error(clone: Path, output: str) -> str:
    from tools import remote

    try:
        return remote.explain("push", output, remote.default_remote(clone))
    except remote.RemoteError as exc:
        return str(exc)


def _progress_files(clone: Path) -> Iterator[Path]:
    yield from sorted((clone / "metrics" / "train").glob("*/seed_*/progress.json"))


def read_progress(clone: Path) -> dict[str, Progress]:
    """model -> its first seed's progress.json as it is now (one process trains every seed in step)."""
    found: dict[str, Progress] = {}
    for path in _progress_files(clone):
        model = path.parent.parent.name
        if model in found:
            continue
        try:
            found[model] = Progress.read(path)
        except ProjectError:
            continue  # replaced atomically, so never torn: a shape this code does not know is skipped
    return found


def _report_progress(clone: Path, done: threading.Event) -> None:
    """A `[sweep] progress` line each time a model's epoch or state changes."""
    seen: dict[str, tuple] = {}
    while True:
        finished = done.is_set()
        for model, doc in read_progress(clone).items():
            key = (doc.epoch, doc.state, doc.updated_at)
            if seen.get(model) == key:
                continue
            seen[model] = key
            say(protocol.PROGRESS, protocol.Progress(
                model=model, state=doc.state, epoch=doc.epoch, epochs=doc.epochs, eta_s=doc.eta_s,
                test_accuracy=doc.last.test_accuracy, seen_at=round(time.time(), 3)))
        if finished:
            return
        done.wait(PROGRESS_POLL_S)


def _training_error(clone: Path) -> str | None:
    """The trainer's own one line (a NaN loss, out of memory) when a model's training failed."""
    for doc in read_progress(clone).values():
        if doc.state == "failed" and doc.error:
            return " ".join(doc.error.split())
    return None


def _last_error(output: str) -> str:
    from tools.remote import last_error

    return last_error(output)


def _dvc_command(args: list[str]) -> list[str]:
    return [str(Path(sys.executable).parent / "dvc"), *args]


def _dvc_env() -> dict[str, str]:
    """The clone's code only (no PYTHONPATH of the node's copy), this environment's tools first on PATH."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(PYTHONUNBUFFERED="1", DVC_NO_ANALYTICS="1")
    return env


def _dvc(cwd: Path, args: list[str]) -> tuple[int, str]:
    proc = subprocess.run(_dvc_command(args), cwd=cwd, env=_dvc_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


if __name__ == "__main__":
    sys.exit(main())
