"""Starting, stopping and keeping experiments, as the Experiments tab does it: the dvc commands.

Every command is an argument list run by the venv's dvc (tui.ground.dvc), never a shell string:
a param value holding `;`, `$(…)`, backticks or quotes is one argument and reaches DVC as
text. Params set in the tab become `dvc exp run -S key=value` overrides, and before
anything starts they are applied the way DVC applies them (its own Hydra-based
`apply_overrides`, on a copy of params.yaml) and the result goes through the project's
params validator, so a bad value is one line in the form and nothing runs.

An experiment run now (`dvc exp run`) works in the workspace and is started detached,
like the Pipeline tab's repro (tui.ground.jobs), so it outlives the dashboard; queued ones
(`dvc exp run --queue`) run in queue workers (`dvc queue start -j N`), each in a
temporary copy under .dvc/tmp/exps/. The calls here block for a second or more: the tab
makes them from thread workers. No Textual import here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mnist_dvc.core.params import PARAMS_FILE, ParamsError, parse_params
from tui.experiments.collect import ExpTable
from tui.ground import jobs
from tui.ground import params as params_file
from tui.ground.dvc import DVC_TIMEOUT_S, DvcError, dvc_command, last_line, run_dvc, tool_env
from tui.ground.process import pid_alive
from tui.ground.runs import RUNNING, Run, live_progress

WORKERS_LOG = jobs.RUN_DIR / "tui-queue-start.log"
# How long a stage that ignored the queue's Ctrl-C gets before it is told to stop (SIGTERM).
KILL_GRACE_S = 3.0


class OverrideError(ValueError):
    """A param override that DVC would refuse or the project's validator rejects: one line."""


# --- the form's fields ------------------------------------------------------------------------


def param_fields(raw: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) of every leaf of params.yaml (a list is one leaf), in file order."""
    fields = []
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            fields += param_fields(value, f"{dotted}.")
        else:
            fields.append((dotted, value))
    return fields


def field_text(value: Any) -> str:
    """A current value as the form shows it: text as it is, other values as YAML writes them."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def hydra_quote(text: str) -> str:
    """`text` as a quoted string of Hydra's override grammar (what `-S` values are parsed with),
    so it reaches params.yaml as typed: no interpolation, quotes and backslashes kept."""
    return "'" + re.sub(r"(\\*)(\$\{|'|$)", _escape, text) + "'"


def _escape(match: re.Match) -> str:
    """Backslashes before a quote, an interpolation or the end are doubled; those are escaped."""
    backslashes, what = match.groups()
    return backslashes * 2 + ("\\" + what if what else "")


def override(key: str, text: str, current: Any) -> str:
    """The `-S` argument for a field: text fields are quoted (a string param stays a string);
    the others are parsed by DVC like `-S` on the command line (numbers, [lists], null)."""
    return f"{key}={hydra_quote(text) if isinstance(current, str) else text.strip()}"


def changed_overrides(fields: Sequence[tuple[str, Any]], texts: Mapping[str, str]) -> list[str]:
    """The overrides for the fields whose text differs from the current value's."""
    return [override(key, texts[key], current) for key, current in fields
            if key in texts and texts[key] != field_text(current)]


# --- validation -------------------------------------------------------------------------------


def read_params(root: Path) -> dict:
    """The workspace's params.yaml as a mapping (OverrideError if it cannot be read)."""
    try:
        return params_file.read_raw(root)
    except (OSError, UnicodeDecodeError) as exc:
        raise OverrideError(f"{PARAMS_FILE}: cannot be read ({type(exc).__name__}); fix it first") from None
    except ParamsError as exc:
        raise OverrideError(str(exc)) from None


def apply_overrides(root: Path, overrides: Sequence[str]) -> dict:
    """The params an experiment with these `-S` overrides would run with, computed as DVC does
    (its `apply_overrides`, on a copy of params.yaml); OverrideError says why DVC would refuse."""
    from dvc.utils.cli_parse import to_path_overrides
    from dvc.utils.hydra import apply_overrides as dvc_apply

    for path in to_path_overrides(overrides):
        if Path(path) != PARAMS_FILE:
            raise OverrideError(f"-S {path}:…: only {PARAMS_FILE} is set from the dashboard")
    with tempfile.TemporaryDirectory(prefix="tui-params-") as folder:
        copy = Path(folder) / PARAMS_FILE
        shutil.copyfile(root / PARAMS_FILE, copy)
        for item in overrides:
            try:
                dvc_apply(copy, [item])
            except Exception as exc:  # DVC's, Hydra's and OmegaConf's errors alike: one line each
                raise OverrideError(f"-S {item}: {_why(exc)}") from None
        return params_file.read_raw(Path(folder))


def _why(exc: Exception) -> str:
    """The first line of what DVC (or Hydra under it) said; a syntax error in plain words."""
    from dvc.exceptions import DvcException

    cause = exc.__cause__ if isinstance(exc, DvcException) and exc.__cause__ else exc
    if type(cause).__name__ == "OverrideParseException":
        return "DVC cannot parse this value (write text in quotes, lists as [1, 2])"
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def validate(root: Path, overrides: Sequence[str]) -> None:
    """OverrideError (one line) unless DVC accepts the overrides and the project's validator the result
    (no overrides: the workspace's params as they are)."""
    try:
        parse_params(apply_overrides(root, overrides) if overrides else read_params(root))
    except ParamsError as exc:
        raise OverrideError(str(exc)) from None


def name_problem(name: str, table: ExpTable | None) -> str | None:
    """Why an experiment name would be refused (git's ref rules, or taken), or None."""
    if not name:
        return None
    if "/" in name or subprocess.run(["git", "check-ref-format", "--branch", name],
                                     capture_output=True).returncode != 0:
        return f"name {name!r}: not a valid git ref name (letters, digits, - _ .; no spaces or /)"
    if table is not None and any(run.name == name for run in table.runs):
        return f"name {name!r}: an experiment with this name exists; choose another or leave it empty"
    return None


def run_args(overrides: Iterable[str], name: str = "", queue: bool = False) -> list[str]:
    """dvc's arguments for the experiment: each override its own `-S` argument."""
    args = ["exp", "run", *(["--queue"] if queue else [])]
    for item in overrides:
        args += ["-S", item]
    return args + (["-n", name] if name else [])


# --- starting -----------------------------------------------------------------------------------


def run_now(root: Path, overrides: Sequence[str], name: str = "") -> subprocess.Popen:
    """`dvc exp run -S …` in the workspace, detached (tui.ground.jobs' runner); refused while a repro
    or another experiment started from a dashboard runs there."""
    return jobs.launch(root, jobs.EXP_RUN, run_args(overrides, name))


def queue(root: Path, overrides: Sequence[str], name: str = "") -> str:
    """`dvc exp run --queue -S …`: the experiment waits for a queue worker. Returns dvc's last line."""
    code, out = run_dvc(root, *run_args(overrides, name, queue=True))
    if code != 0:
        raise DvcError(f"dvc exp run --queue failed: {last_line(out)}")
    return last_line(out)


def start_workers(root: Path, jobs: int) -> str:
    """`dvc queue start -j N`. The workers it starts inherit its output, so that goes to a file:
    through a pipe, dvc would look busy until the last worker exits."""
    if jobs < 1:
        raise DvcError("the number of workers is a whole number >= 1")
    log = root / WORKERS_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        try:
            code = subprocess.run(dvc_command("queue", "start", "-j", str(jobs)), cwd=root, env=tool_env(),
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=DVC_TIMEOUT_S).returncode
        except subprocess.TimeoutExpired:
            raise DvcError(f"dvc queue start took over {DVC_TIMEOUT_S} s") from None
    text = log.read_text(errors="replace")
    if code != 0:
        raise DvcError(f"dvc queue start failed: {last_line(text)}")
    return last_line(text)


def queue_status(root: Path) -> str:
    """What `dvc queue status` prints (shown as it is, never parsed)."""
    code, out = run_dvc(root, "queue", "status")
    if code != 0:
        raise DvcError(f"dvc queue status failed: {last_line(out)}")
    return out


# --- one run --------------------------------------------------------------------------------


def dashboard_run(root: Path) -> jobs.ReproRun | None:
    """The workspace experiment this or an earlier dashboard started, if it still runs."""
    run = jobs.current(root, jobs.EXP_RUN)
    return run if run is not None and run.running else None


def log_file(root: Path, run: Run) -> Path | None:
    """Where a run's output is: its queue task's log, or the dashboard's log of a workspace run."""
    if run.log:
        return Path(run.log)
    if run.running and run.folder and Path(run.folder) == root and (root / jobs.EXP_RUN.log).is_file():
        return root / jobs.EXP_RUN.log
    return None


def kill_question(run: Run) -> str:
    """What stopping `run` will do, where it runs: the workspace keeps training's checkpoint; a
    queue worker's temporary copy is deleted by DVC, checkpoint and all."""
    if run.in_queue:
        return (f"Stop `{run.name}` (`dvc queue kill`)? It runs in a queue worker's temporary copy, which "
                "DVC discards with its checkpoint: run again, it starts from epoch 1.")
    return (f"Stop `{run.name}` (Ctrl-C)? It runs in the workspace: training saves a checkpoint there, "
            "and `dvc repro` resumes from it.")


def kill(root: Path, run: Run) -> str:
    """Stop a running experiment as Ctrl-C would: `dvc queue kill NAME` for a queue worker's (DVC
    then deletes its temporary copy, the checkpoint with it), the process group's SIGINT for one
    in the workspace (training saves a checkpoint there that `dvc repro` resumes from).
    A training process that missed the Ctrl-C (it can arrive while the stage starts) is then
    sent SIGTERM, so no training outlives its experiment."""
    if not run.running:
        raise DvcError(f"{run.name} is not running ({run.state})")
    trainers = [p.pid for p in live_progress(Path(run.folder)).values()
                if p.state == RUNNING and p.pid] if run.folder else []
    if run.in_queue:
        code, out = run_dvc(root, "queue", "kill", run.name)
        if code != 0:
            raise DvcError(f"dvc queue kill failed: {last_line(out)}")
        said = f"{last_line(out)}; DVC discards its temporary copy and the checkpoint in it"
    else:
        started_here = dashboard_run(root)
        pid = started_here.pid if started_here else run.pid
        if pid is None:
            raise DvcError(f"{run.name}: no process id known; stop it where it was started")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGINT)
        said = (f"sent Ctrl-C to {run.name} (pid {pid}); training saves a checkpoint in the workspace, "
                "and `dvc repro` resumes from it")
    _stop_stragglers(trainers)
    return said


def _stop_stragglers(pids: Iterable[int]) -> None:
    import time

    deadline = time.monotonic() + KILL_GRACE_S
    pids = list(pids)
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if pid_alive(pid)]
        time.sleep(0.1)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


def apply(root: Path, run: Run) -> str:
    """`dvc exp apply NAME`: the experiment's params, code and results into the workspace."""
    return _exp(root, "apply", run.name)


def branch_problem(root: Path, name: str) -> str | None:
    """Why `dvc exp branch` would refuse this branch name (git's ref rules, or taken), or None."""
    if not name:
        return "type a name for the branch (Esc cancels)"
    if subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True).returncode != 0:
        return f"branch {name!r}: not a valid git branch name (no spaces, no ~^:?*[\\, no .. or @{{)"
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{name}"], cwd=root,
                      capture_output=True).returncode == 0:
        return f"branch {name!r}: a branch with this name exists; choose another"
    return None


def branch(root: Path, run: Run, name: str) -> str:
    """`dvc exp branch NAME BRANCH`: a git branch from the experiment."""
    problem = branch_problem(root, name)
    if problem is not None:
        raise DvcError(problem)
    return _exp(root, "branch", run.name, name)


def remove(root: Path, run: Run) -> str:
    """`dvc exp remove NAME` (`dvc queue remove NAME` for a queued one)."""
    if run.kind != "experiment":
        raise DvcError(f"{run.name} is a {run.kind}, not an experiment")
    if run.in_queue and run.state != "done":
        return _dvc(root, "queue", "remove", run.name)
    return _exp(root, "remove", run.name)


def _exp(root: Path, command: str, *args: str) -> str:
    return _dvc(root, "exp", command, *args)


def _dvc(root: Path, *args: str) -> str:
    code, out = run_dvc(root, *args)
    if code != 0:
        raise DvcError(f"dvc {' '.join(args[:2])} failed: {last_line(out)}")
    return last_line(out)


