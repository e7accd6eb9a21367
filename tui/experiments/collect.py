"""The runs of a project as the Experiments tab lists them, collected with DVC's Python API.

One row per run: the workspace, the last commits of the branch, and every experiment of
each commit (done, running, queued or failed). They come from
`dvc.repo.Repo(root).experiments.show()`, the call `dvc exp show` and `dvc.api.exp_show` are
built on. `dvc.api.exp_show` flattens every cell to text and forgets which columns are
metrics and where a running experiment works; the tree it is made from keeps both, so it
is read here instead of any printed table.

Collecting costs DVC a second or more (several for hundreds of experiments; it caches each
finished revision in .dvc/tmp/exps/cache), so the dashboard runs it in a child process,
`python -m tui.experiments.collect --root ROOT`, which prints the table as JSON: the dashboard's
UI thread never waits for DVC and never competes with it for the GIL. The last table is
kept in .dvc/tmp/tui-experiments.json, so the tab opens with it at once and refreshes
behind it. No Textual import here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import finite_number, read_json_object
from mnist_dvc.core.params import PARAMS_FILE
from tui.ground.dvc import last_line, tool_env
from tui.ground.runs import COMMIT, DONE, EXPERIMENT, FAILED, QUEUED, RUNNING, WORKSPACE, Run

# Commits of the branch listed, newest first (`dvc exp show -n`).
COMMITS = 5
# A listing takes seconds; DVC's own threads can deadlock when a queued run's temporary copy is deleted
# while it is read (seen in CI): the child is killed and the next change collects again.
COLLECT_TIMEOUT_S = 60
RETRIES = 2
RETRY_S = 0.3
CACHE = Path(".dvc/tmp/tui-experiments.json")
# DVC's own folder for queued and temporary runs (their copies, logs and task files).
QUEUE_DIR = Path(".dvc/tmp/exps")
# A queue task's output log: it grows with every epoch of a queued run, so no reason to collect again.
QUEUE_LOG = ".out"
PACKAGE_PARENT = Path(__file__).resolve().parents[2]

# DVC's executor states, as this table names them.
EXECUTOR_STATES = {"success": DONE, "running": RUNNING, "queued": QUEUED, "failed": FAILED}


class ExperimentsError(RuntimeError):
    """The experiments cannot be listed: one line saying why and what to do."""


@dataclass(frozen=True)
class ExpTable:
    """Every run, and the columns DVC knows: metrics (its `metrics:` files) and params."""

    runs: tuple[Run, ...] = ()
    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    metric_files: tuple[str, ...] = ()  # the files DVC read the metrics from (relative to the root)
    # the workspace's metrics files DVC could not read (deleted, half-written): one line each
    warnings: tuple[str, ...] = ()

    def run(self, key: str) -> Run | None:
        return next((run for run in self.runs if run.key == key), None)

    def count(self, state: str) -> int:
        return sum(run.state == state for run in self.runs if run.kind == EXPERIMENT)


# --- from DVC's experiment tree to rows ----------------------------------------------------------


def collect(root: Path, num: int = COMMITS) -> ExpTable:
    """Every run of `root` through DVC's Python API. Blocking (a second or more)."""
    from dvc.exceptions import DvcException, NotDvcRepoError
    from dvc.repo import Repo
    from dvc.scm import NoSCMError

    for attempt in range(RETRIES + 1):
        try:
            # DVC resolves some paths against the current folder: collect from inside the repository.
            with contextlib.chdir(root), Repo(str(root)) as repo:
                states = repo.experiments.show(num=num, force=False)
            break
        except (NotDvcRepoError, FileNotFoundError) as exc:
            # DVC reads a queued run's task files and temporary copy, which appear and vanish as
            # the run starts and ends: a moment later they are there (or gone) for good.
            if (root / ".dvc").is_dir() and attempt < RETRIES:
                time.sleep(RETRY_S)
                continue
            if isinstance(exc, FileNotFoundError):
                raise ExperimentsError(f"dvc cannot list experiments: {exc}") from None
            raise ExperimentsError(f"{root} is not a DVC repository; run `git init` and `dvc init` there, "
                                   "then commit") from None
        except NoSCMError:
            raise ExperimentsError(f"{root} is not a git repository; experiments need git "
                                   "(`git init`, then commit)") from None
        except DvcException as exc:
            raise ExperimentsError(f"dvc cannot list experiments: {_first_line(str(exc))}") from None
    if not states:
        raise ExperimentsError("no commit yet; commit the project first (`git add -A && git commit`)")
    return table_from_states(states)


def table_from_states(states: Iterable[Any]) -> ExpTable:
    """Rows from `Repo.experiments.show()`'s ExpState tree (baselines with their experiments)."""
    rows: list[tuple[dict, dict, dict]] = []  # (row fields, params by file, metrics by file)
    warnings: list[str] = []
    for baseline in states:
        if baseline.rev == WORKSPACE:
            warnings += _unreadable(baseline.data.metrics if baseline.data else {})
            rows.append(_row(baseline, key=WORKSPACE, name=WORKSPACE, kind=WORKSPACE, baseline="",
                             state=DONE))
            continue
        rows.append(_row(baseline, key=baseline.rev, name=baseline.name or baseline.rev[:7], kind=COMMIT,
                         baseline=baseline.rev, state=DONE))
        for exp_range in baseline.experiments or ():
            exp = exp_range.revs[0] if exp_range.revs else None
            if exp is None:
                continue
            executor = exp_range.executor
            state = EXECUTOR_STATES.get(executor.state, DONE) if executor else DONE
            name = exp_range.name or exp.name or exp.rev[:7]
            local = executor.local if executor else None
            rows.append(_row(
                exp, key=f"{baseline.rev[:7]}:{name}", name=name, kind=EXPERIMENT, baseline=baseline.rev,
                state=state, executor=executor.name if executor else None,
                folder=local.root if local and state == RUNNING else None,
                log=local.log if local else None, pid=local.pid if local else None,
            ))
    rows = _one_per_key(rows)
    metric_labels = _labels(metrics for _, _, metrics in rows)
    param_labels = _labels((params for _, params, _ in rows), plain_file=str(PARAMS_FILE))
    runs = tuple(
        Run(**fields, params=_flat(params, param_labels),
            metrics=_numbers(_flat(metrics, metric_labels)) if _finished(fields) else {})
        for fields, params, metrics in rows
    )
    files = tuple(dict.fromkeys(path for path, _ in metric_labels))
    return ExpTable(runs, tuple(_used(metric_labels, runs, "metrics")), tuple(param_labels.values()), files,
                    tuple(warnings))


def _unreadable(files: Mapping[str, Any]) -> list[str]:
    """One line per metrics file of the workspace that DVC could not read: the row shows nothing
    from it, and says why, rather than go blank."""
    lines = []
    for path, item in files.items():
        error = item.get("error") if isinstance(item, dict) else None
        if error is None:
            continue
        why = ("is missing" if isinstance(error, FileNotFoundError)
               else f"cannot be read ({type(error).__name__})")
        lines.append(f"{path} {why} in the workspace: its row shows none of its metrics; "
                     "`dvc repro` writes it again")
    return lines


def _finished(fields: Mapping[str, Any]) -> bool:
    """Whether a row's metrics are its own. DVC reads a queued, running or failed experiment's
    metrics files from the commit it was queued on: its baseline's numbers (or the workspace's
    at that time), never the run's, which a finished run's own commit holds."""
    return fields["kind"] != EXPERIMENT or fields["state"] == DONE


def _one_per_key(rows: list[tuple[dict, dict, dict]]) -> list[tuple[dict, dict, dict]]:
    """One row per run: as a queued run finishes, DVC lists it for a moment both as running (its
    queue entry) and as done (its new commit, not yet tied to its queue task); the finished one is
    kept, in the first one's place, with the task's log and executor until DVC ties them itself."""
    index: dict[str, int] = {}
    kept: list[tuple[dict, dict, dict]] = []
    for row in rows:
        key = row[0]["key"]
        if key not in index:
            index[key] = len(kept)
            kept.append(row)
        elif row[0]["state"] == DONE:
            earlier = kept[index[key]][0]
            fields = dict(row[0])
            for name in ("log", "executor"):
                if fields[name] is None:
                    fields[name] = earlier[name]
            kept[index[key]] = (fields, row[1], row[2])
    return kept


def _row(exp: Any, **fields: Any) -> tuple[dict, dict, dict]:
    data = exp.data
    error = exp.error.msg if exp.error else None
    if fields["state"] == FAILED and not error:
        error = "the experiment failed; l shows its log"
    fields.update(rev=exp.rev, error=error,
                  created=data.timestamp.isoformat() if data and data.timestamp else None)
    if data is None:
        return fields, {}, {}
    return fields, _file_data(data.params), _file_data(data.metrics)


def _file_data(files: Mapping[str, Any]) -> dict[str, dict]:
    """file -> its flattened values (dotted keys, as `dvc exp show` names them); unreadable files skipped."""
    from dvc.utils.flatten import flatten

    result = {}
    for path, item in files.items():
        data = item.get("data") if isinstance(item, dict) else None
        if isinstance(data, dict):
            result[path] = flatten(data)
    return result


def _labels(files_per_row: Iterable[dict[str, dict]], plain_file: str | None = None,
            ) -> dict[tuple[str, str], str]:
    """(file, key) -> column label: the key alone, or `file:key` where several files have it
    (DVC's own rule) or, with `plain_file` given, for any file but that one."""
    order: dict[tuple[str, str], None] = {}
    for files in files_per_row:
        for path, values in files.items():
            for key in values:
                order.setdefault((path, key), None)
    files_of: dict[str, set[str]] = {}
    for path, key in order:
        files_of.setdefault(key, set()).add(path)
    labels = {}
    for path, key in order:
        plain = len(files_of[key]) == 1 and plain_file in (None, path)
        labels[(path, key)] = key if plain else f"{path}:{key}"
    return labels


def _flat(files: dict[str, dict], labels: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    return {labels[(path, key)]: value for path, values in files.items() for key, value in values.items()}


def _numbers(values: Mapping[str, Any]) -> dict[str, float]:
    """The numeric metrics only: sentences, names and lists are reports, not columns to sort."""
    result = {}
    for key, value in values.items():
        number = finite_number(value)
        if number is not None:
            result[key] = int(value) if isinstance(value, int) else number
    return result


def _used(labels: Mapping[tuple[str, str], str], runs: Iterable[Run], attribute: str) -> list[str]:
    """The labels some run has a value for, in DVC's order."""
    present = {key for run in runs for key in getattr(run, attribute)}
    return [label for label in labels.values() if label in present]


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


# --- the table as JSON: the child's output and the tab's cache -----------------------------------


def table_to_json(table: ExpTable) -> dict:
    return {"runs": [asdict(run) for run in table.runs], "metrics": list(table.metrics),
            "params": list(table.params), "metric_files": list(table.metric_files),
            "warnings": list(table.warnings)}


def table_from_json(doc: Any) -> ExpTable:
    """The table written by `table_to_json`; BadInput-free: a malformed document raises ValueError."""
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise ValueError("not an experiments table")
    known = set(Run.__dataclass_fields__)
    runs = []
    for item in doc["runs"]:
        if not isinstance(item, dict) or not {"key", "rev", "name", "kind", "baseline", "state"} <= set(item):
            raise ValueError("a run without its key, rev, name, kind, baseline or state")
        runs.append(Run(**{name: value for name, value in item.items() if name in known}))
    return ExpTable(tuple(runs), tuple(doc.get("metrics", ())), tuple(doc.get("params", ())),
                    tuple(doc.get("metric_files", ())), tuple(doc.get("warnings", ())))


def load_cached(root: Path) -> ExpTable | None:
    """The table the tab showed last time, if any (shown at once while a fresh one is collected)."""
    try:
        return table_from_json(read_json_object(root / CACHE))
    except (OSError, BadInput, ValueError, TypeError):
        return None


def save_cached(root: Path, table: ExpTable) -> None:
    if (root / CACHE).parent.is_dir():
        write_json(root / CACHE, table_to_json(table))


def collect_in_child(root: Path, num: int = COMMITS) -> ExpTable:
    """`collect` in a child process (`python -m tui.experiments.collect`). Blocking: call it from a thread."""
    command = [sys.executable, "-m", "tui.experiments.collect", "--root", str(root), "--num", str(num)]
    try:
        proc = subprocess.run(command, cwd=PACKAGE_PARENT, env=tool_env(), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=COLLECT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ExperimentsError(f"dvc took over {COLLECT_TIMEOUT_S} s to list the experiments") from None
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise ExperimentsError(last_line(proc.stderr.decode(errors="replace")).removeprefix("error: "))
    try:
        return table_from_json(json.loads(out))
    except ValueError as exc:
        raise ExperimentsError(f"unreadable experiments table from dvc: {exc}") from None


# --- when to collect again -----------------------------------------------------------------------


def git_dirs(root: Path) -> tuple[Path, ...]:
    """The repository's git folders (a worktree has its own plus the common one)."""
    try:
        proc = subprocess.run(["git", "rev-parse", "--git-dir", "--git-common-dir"], cwd=root,
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if proc.returncode != 0:
        return ()
    return tuple(dict.fromkeys((root / line.strip()).resolve() for line in proc.stdout.splitlines() if line))


def watched_paths(root: Path, git: Iterable[Path], table: ExpTable | None) -> list[Path]:
    """What changes when the list of runs or one of their states changes, for tui.ground.watch:
    git's refs (commits, experiments), the queue's task files (their `QUEUE_LOG`s left out), the
    workspace's params and metrics."""
    paths = [root / PARAMS_FILE, root / "dvc.lock", root / QUEUE_DIR / "run", root / QUEUE_DIR / "celery"]
    for folder in git:
        paths += [folder / "HEAD", folder / "packed-refs", folder / "refs/exps", folder / "refs/heads"]
    if table is not None:
        paths += [root / path for path in table.metric_files]
    return paths


# --- `python -m tui.experiments.collect` --------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Print the table as JSON (what the dashboard reads), or one `error:` line and exit 2."""
    parser = argparse.ArgumentParser(prog="python -m tui.experiments.collect",
                                     description="The project's runs as JSON, for the dashboard.")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--num", type=int, default=COMMITS)
    args = parser.parse_args(argv)
    try:
        table = collect(args.root.resolve(), args.num)
    except ExperimentsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Params read from YAML may hold dates or other objects: those are written as text.
    json.dump(table_to_json(table), sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
