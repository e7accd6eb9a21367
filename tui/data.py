"""The dashboard's data layer: everything `python -m tui` shows, read from the files the
pipeline writes (docs/contracts.md).

No Textual import here, so the readers can be unit-tested on their own and reused by
`python -m tui --once`. JSON is read with the project's one reader (mnist_dvc.core.jsonfile).
Training writes these files while the dashboard reads them, and a user may open the
dashboard on a half-finished or damaged project, so no reader ever raises: a missing file
means "no data yet", while an empty, half-written or corrupt one keeps the last good
content and adds a one-line warning until the file is good again.
Files are re-read only when their mtime, size or inode changes, so polling twice a
second costs a few `stat` calls. A model's seeds are those params.yaml asks for plus the
`seed_<s>` folders found on disk; each seed has its own progress.json and log.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from mnist_dvc.analysis.history import COLUMNS, History, load_history, mean_history
from mnist_dvc.core.contracts import (
    BACKPROP_REPORT,
    COMPARISON_FILE,
    PROGRESS_STATES,
    SERIES,
    TRAIN_DIR,
    eval_file,
    progress_file,
    run_dir,
    seed_dir,
    seeds_of,
    series_file,
)
from mnist_dvc.core.errors import BadInput, MissingInput
from mnist_dvc.core.jsonfile import finite_number, read_json
from mnist_dvc.core.params import MODEL_NAME, PARAMS_FILE, ModelParams, Params, ParamsError, load_params

# What a panel shows for a model with no progress.json yet.
WAITING = "waiting"
# A model's state is the first of these that one of its seeds is in: it is finished only
# when every seed is, and a problem with one seed is the model's problem.
MODEL_STATES = ("running", "failed", "interrupted", WAITING, "finished")

T = TypeVar("T")
Stamp = tuple[int, int, int] | None


class Invalid(ValueError):
    """A file that parses but does not follow its contract; the message names the key."""


def stamp(path: Path) -> Stamp:
    """What changes when a file is rewritten in place or replaced by a rename."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def pid_alive(pid: int) -> bool:
    """Whether a process exists; a `running` progress.json whose writer is gone was killed."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Progress:
    """A validated `progress.json` (the contract's keys; optional ones may be None)."""

    model: str
    seed: int | None
    state: str
    epoch: int
    epochs: int
    elapsed_s: float
    eta_s: float | None
    epoch_s: float | None
    updated_at: str | None
    pid: int | None
    backend: str | None
    error: str | None
    last: dict[str, float]
    best: dict[str, float]


@dataclass(frozen=True)
class SeedRun:
    """One seed of a model: its live progress and its per-epoch log."""

    seed: int
    progress: Progress | None
    history: History
    status: str
    reason: str | None
    epochs_total: int

    @property
    def epochs_done(self) -> int:
        if self.progress is not None:
            return self.progress.epoch
        return self.history.epoch[-1] if self.history.epoch else 0

    @property
    def has_data(self) -> bool:
        return self.progress is not None or len(self.history) > 0


@dataclass(frozen=True)
class ModelRun:
    """Everything known about one model: its spec, each seed's run and its evaluation."""

    name: str
    spec: ModelParams | None
    seeds: tuple[SeedRun, ...]
    evaluation: dict | None
    epochs_total: int

    @property
    def status(self) -> str:
        states = {seed.status for seed in self.seeds}
        return next((state for state in MODEL_STATES if state in states), WAITING)

    @property
    def reason(self) -> str | None:
        """Why the model is in its state, naming the seed when its seeds say different things."""
        status = self.status
        if status == WAITING:
            waiting = [seed.seed for seed in self.seeds if seed.status == WAITING]
            if len(waiting) < len(self.seeds):
                return f"seed{'s' if len(waiting) > 1 else ''} {', '.join(map(str, waiting))} not trained yet"
            return None
        reasons = [(seed.seed, seed.reason) for seed in self.seeds if seed.status == status and seed.reason]
        if not reasons:
            return None
        if len({reason for _, reason in reasons}) == 1 and len(reasons) == len(self.seeds):
            return reasons[0][1]
        return f"seed {reasons[0][0]}: {reasons[0][1]}"

    @property
    def epochs_done(self) -> int:
        """Epochs every seed has finished (seeds trained together advance in step)."""
        return min((seed.epochs_done for seed in self.seeds), default=0)

    @property
    def history(self) -> History:
        """The mean over seeds of each column, per epoch every seed has logged."""
        logged = [seed.history for seed in self.seeds if len(seed.history)]
        return mean_history(logged) if logged else History(**{column: [] for column in COLUMNS})

    @property
    def has_data(self) -> bool:
        return any(seed.has_data for seed in self.seeds)


@dataclass(frozen=True)
class Dashboard:
    """One consistent view of the project, rebuilt whenever a watched file changes."""

    root: Path
    params: Params | None
    runs: tuple[ModelRun, ...]
    comparison: dict | None
    backprop: dict | None
    warnings: tuple[str, ...]

    def run(self, name: str) -> ModelRun | None:
        return next((run for run in self.runs if run.name == name), None)

    @property
    def has_training(self) -> bool:
        return any(run.has_data for run in self.runs)


# --- validation of the JSON contracts -------------------------------------------------


def _number(obj: dict, key: str, where: str = "", optional: bool = False) -> float | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    number = finite_number(value)
    if number is None:
        raise Invalid(f"`{where}{key}` is {value!r}, expected a number")
    return number


def _integer(obj: dict, key: str, minimum: int) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise Invalid(f"`{key}` is {value!r}, expected an integer >= {minimum}")
    return value


def _mapping(obj: Any, where: str) -> dict:
    if not isinstance(obj, dict):
        raise Invalid(f"{where} is {type(obj).__name__}, expected a JSON object")
    return obj


def _numbers(obj: Any, key: str) -> dict[str, float]:
    mapping = _mapping({} if obj is None else obj, f"`{key}`")
    return {name: _number(mapping, name, f"{key}.") for name in mapping}


def parse_progress(raw: Any) -> Progress:
    doc = _mapping(raw, "the file")
    state = doc.get("state")
    if state not in PROGRESS_STATES:
        raise Invalid(f"`state` is {state!r}, expected one of {', '.join(PROGRESS_STATES)}")
    pid = doc.get("pid")
    seed = doc.get("seed")
    return Progress(
        model=str(doc.get("model", "")),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        state=state,
        epoch=_integer(doc, "epoch", 0),
        epochs=_integer(doc, "epochs", 1),
        elapsed_s=_number(doc, "elapsed_s", optional=True) or 0.0,
        eta_s=_number(doc, "eta_s", optional=True),
        epoch_s=_number(doc, "epoch_s", optional=True),
        updated_at=doc.get("updated_at") if isinstance(doc.get("updated_at"), str) else None,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
        backend=doc.get("backend") if isinstance(doc.get("backend"), str) else None,
        error=str(doc["error"]) if doc.get("error") else None,
        last=_numbers(doc.get("last"), "last"),
        best=_numbers(doc.get("best"), "best"),
    )


def _list(obj: Any, where: str) -> list:
    if not isinstance(obj, list):
        raise Invalid(f"{where} is {type(obj).__name__}, expected a JSON list")
    return obj


def parse_evaluation(raw: Any) -> dict:
    """reports/eval/<model>.json: each seed's numbers checked."""
    doc = _mapping(raw, "the file")
    for seed, record in _mapping(doc.get("seeds"), "`seeds`").items():
        record = _mapping(record, f"`seeds.{seed}`")
        for key in ("test_accuracy", "test_loss"):
            _number(record, key, f"seeds.{seed}.")
    return doc


def parse_comparison(raw: Any) -> dict:
    """reports/comparison.json: the shapes the Compare tab relies on."""
    doc = _mapping(raw, "the file")
    models = _mapping(doc.get("models"), "`models`")
    for name, entry in models.items():
        entry = _mapping(entry, f"`models.{name}`")
        for key, spread in _mapping(entry.get("stats"), f"`models.{name}.stats`").items():
            _number(_mapping(spread, f"`models.{name}.stats.{key}`"), "mean", f"models.{name}.stats.{key}.")
    _mapping(doc.get("verdicts", {}), "`verdicts`")
    for i, test in enumerate(_list(doc.get("mcnemar", []), "`mcnemar`")):
        _number(_mapping(test, f"`mcnemar[{i}]`"), "p_value", f"mcnemar[{i}].")
    for i, pair in enumerate(_list(doc.get("differences", []), "`differences`")):
        _mapping(_mapping(pair, f"`differences[{i}]`").get("criteria"), f"`differences[{i}].criteria`")
    return doc


def parse_backprop(raw: Any) -> dict:
    doc = _mapping(raw, "the file")
    _number(doc, "f")
    _numbers(doc.get("grads"), "grads")
    _mapping(doc.get("check", {}), "`check`")
    return doc


# --- watched files ----------------------------------------------------------------------


class Watched(Generic[T]):
    """One file: re-read when its stamp changes; a bad read keeps the last good value.

    `value` is None while the file does not exist (a pipeline stage deletes its outputs
    before it runs, so a vanished file means "no data", not "keep the old run"), unless
    the file is `required`: then its absence is a problem like any other.
    """

    def __init__(self, path: Path, load: Callable[[Path], T], label: str, required: bool = False) -> None:
        self.path = path
        self.label = label
        self.required = required
        self._load = load
        self._stamp: Stamp = None
        self._seen = False
        self.value: T | None = None
        self.problem: str | None = None

    def refresh(self) -> bool:
        """Re-read if the file changed; True when it did."""
        current = stamp(self.path)
        if self._seen and current == self._stamp:
            return False
        self._seen, self._stamp = True, current
        try:
            if current is None and not self.required:
                self.value, self.problem = None, None
            else:
                self.value, self.problem = self._load(self.path), None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            if isinstance(exc, MissingInput) and not self.required:
                # deleted between the stat and the read: no data, as if it had never been there
                self.value, self.problem = None, None
            else:
                self.problem = f"{self.label}: {_describe(exc)}" + (
                    "; showing the last good data" if self.value is not None else ""
                )
        return True


def _describe(exc: Exception) -> str:
    """The problem in a few words: the label already names the file."""
    if isinstance(exc, BadInput):
        return exc.problem
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (corrupt)"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def json_file(parse: Callable[[Any], T]) -> Callable[[Path], T]:
    """A loader: the file read by mnist_dvc.core.jsonfile, then checked against its contract."""
    return lambda path: parse(read_json(path))


def _load_params(path: Path) -> Params:
    try:
        return load_params(path)
    except ParamsError as exc:
        message = str(exc).removeprefix(f"{path}: ").removeprefix("params.yaml: ")
        raise Invalid(message) from None


class WatchedHistory:
    """A DVCLive folder: re-read when any of its TSVs changes (load_history drops torn rows)."""

    def __init__(self, run_dir: Path, label: str) -> None:
        self.run_dir = run_dir
        self.label = label
        self._stamps: tuple[Stamp, ...] | None = None
        self.value = History(**{column: [] for column in COLUMNS})
        self.problem: str | None = None

    def refresh(self) -> bool:
        current = tuple(stamp(series_file(self.run_dir, column)) for column in SERIES)
        if current == self._stamps:
            return False
        self._stamps = current
        try:
            self.value, self.problem = load_history(self.run_dir), None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.problem = f"{self.label}: {_describe(exc)}; showing the last good data"
        return True


# --- the whole project ------------------------------------------------------------------


class DataSource:
    """Polls a project folder and keeps the latest consistent `Dashboard`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._params = Watched(self.root / PARAMS_FILE, _load_params, str(PARAMS_FILE), required=True)
        self._comparison = self._json(COMPARISON_FILE, parse_comparison)
        self._backprop = self._json(BACKPROP_REPORT, parse_backprop)
        self._progress: dict[tuple[str, int], Watched[Progress]] = {}
        self._history: dict[tuple[str, int], WatchedHistory] = {}
        self._evaluation: dict[str, Watched[dict]] = {}
        self.snapshot = Dashboard(self.root, None, (), None, None, ())

    def _model_names(self) -> list[str]:
        names = list(self._params.value.models) if self._params.value else []
        try:
            found = sorted(entry.name for entry in os.scandir(self.root / TRAIN_DIR) if entry.is_dir())
        except OSError:
            found = []
        names += [name for name in found if MODEL_NAME.match(name) and name not in names]
        return names

    def _seeds(self, name: str) -> list[int]:
        """The seeds params.yaml asks for and those on disk (another seed list's, until the
        stage runs again), in order."""
        params = self._params.value
        wanted = set(params.train.seed_list) if params and name in params.models else set()
        return sorted(wanted | set(seeds_of(run_dir(name, self.root))))

    def _watch(self, name: str, seed: int) -> None:
        if (name, seed) in self._progress:
            return
        self._progress[name, seed] = self._json(progress_file(name, seed), parse_progress)
        label = f"{seed_dir(name, seed)}/"
        self._history[name, seed] = WatchedHistory(seed_dir(name, seed, self.root), label)

    def _json(self, path: Path, parse: Callable[[Any], T]) -> Watched[T]:
        """A contract file (its path relative to the root names it in warnings)."""
        return Watched(self.root / path, json_file(parse), str(path))

    def poll(self) -> bool:
        """Re-read what changed; True when the snapshot is different from the last one."""
        self._params.refresh()
        self._comparison.refresh()
        self._backprop.refresh()
        models = {name: self._seeds(name) for name in self._model_names()}
        for name, seeds in models.items():
            if name not in self._evaluation:
                self._evaluation[name] = self._json(eval_file(name), parse_evaluation)
            self._evaluation[name].refresh()
            for seed in seeds:
                self._watch(name, seed)
                self._progress[name, seed].refresh()
                self._history[name, seed].refresh()
        snapshot = self._build(models)
        changed = snapshot != self.snapshot
        self.snapshot = snapshot
        return changed

    def _build(self, models: dict[str, list[int]]) -> Dashboard:
        params = self._params.value
        watched: list[Watched | WatchedHistory] = [self._params, self._comparison, self._backprop]
        runs = []
        for name, seeds in models.items():
            default_total = params.train.epochs if params else 1
            seed_runs = []
            for seed in seeds:
                progress, history = self._progress[name, seed], self._history[name, seed]
                watched += [progress, history]
                status, reason = self._status(progress.value)
                if progress.value is not None:
                    total = progress.value.epochs
                else:
                    total = params.train.epochs if params else max(len(history.value), 1)
                seed_runs.append(SeedRun(seed, progress.value, history.value, status, reason, total))
            watched.append(self._evaluation[name])
            runs.append(
                ModelRun(
                    name=name,
                    spec=params.models.get(name) if params else None,
                    seeds=tuple(seed_runs),
                    evaluation=self._evaluation[name].value,
                    epochs_total=max((seed.epochs_total for seed in seed_runs), default=default_total),
                )
            )
        warnings = tuple(item.problem for item in watched if item.problem)
        return Dashboard(
            root=self.root,
            params=params,
            runs=tuple(runs),
            comparison=self._comparison.value,
            backprop=self._backprop.value,
            warnings=warnings,
        )

    def _status(self, progress: Progress | None) -> tuple[str, str | None]:
        if progress is None:
            return WAITING, None
        if progress.state == "running" and progress.pid is not None and not pid_alive(progress.pid):
            return "interrupted", f"the training process (pid {progress.pid}) ended without saying so"
        return progress.state, progress.error
