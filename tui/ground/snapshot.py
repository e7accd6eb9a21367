"""The workspace snapshot: everything the Training, Compare and Backprop tabs and `python -m tui
--once` show, read from the files the pipeline writes (docs/contracts.md).

`DataSource` polls a project folder (the workspace, or a queue worker's copy the Training tab
follows) through the one change watcher (tui.ground.watch) and keeps one consistent, frozen
`Dashboard`; the app binds it down to the tabs. No reader raises: a missing file means "no
data yet", a damaged one keeps the last good data and adds a one-line warning, and a file deleted
from a run that left its neighbours (a progress.json, one series of a log) shows no data and says
so; each warning names the tabs that read its file, and only they show it. A model's seeds
are those params.yaml asks for plus the `seed_<s>` folders found on disk; each seed has its own
progress.json and log. A model with no training log at all (a fresh clone: metrics/train/ is a
DVC output) shows the committed run instead, when evaluate committed one: its seeds'
`reports/history/<model>/seed_<s>.tsv`, in the state COMMITTED, never live (no progress.json, so
no ETA and no "unknown"). The live log wins as soon as a seed folder exists. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from mnist_dvc.analysis.history import (
    COLUMNS,
    COMMITTED,
    LIVE,
    History,
    aligned_history,
    mean_history,
    read_series,
    report_history,
)
from mnist_dvc.core.contracts import (
    BACKPROP_REPORT,
    COMPARISON_FILE,
    HISTORY_SUFFIX,
    SERIES,
    eval_file,
    history_dir,
    history_file,
    progress_file,
    seed_dir,
    seeds_in,
    series_file,
)
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.params import PARAMS_FILE, ModelParams, Params, ParamsError
from mnist_dvc.core.records.backprop import Backprop
from mnist_dvc.core.records.base import Record
from mnist_dvc.core.records.comparison import Comparison
from mnist_dvc.core.records.evaluation import Evaluation
from mnist_dvc.core.records.history import HistoryReport
from mnist_dvc.core.records.progress import Progress
from tui.ground import params as params_file
from tui.ground.process import pid_alive
from tui.ground.runs import on_disk
from tui.ground.watch import Incomplete, Watched

# What a panel shows for a model with no progress.json yet.
WAITING = "waiting"
# A seed whose progress.json is gone while its per-epoch log is there: nothing says its state.
UNKNOWN = "unknown"
# A seed shown from the committed history (no training log here): finished when it was committed,
# but nothing on disk says what it is now, so it has its own state.
COMMITTED_RUN = "committed"
# A model's state is the first of these that one of its seeds is in: it is finished only
# when every seed is, and a problem with one seed is the model's problem.
MODEL_STATES = ("running", "failed", "interrupted", UNKNOWN, WAITING, COMMITTED_RUN, "finished")

# The tabs that read each kind of file: a file's warning shows on those tabs only.
TRAINING, COMPARE, BACKPROP = "training", "compare", "backprop"

R = TypeVar("R", bound=Record)


def empty_history() -> History:
    return History(**{column: [] for column in COLUMNS})


def load_log(folder: Path, model: str) -> History:
    """One seed's per-epoch log. A series file missing while another series has logged a second
    epoch (so every series wrote the first) was deleted: `Incomplete`, rather than a log without
    that column's epochs."""
    series = {column: read_series(series_file(folder, column)) for column in SERIES}
    gone = [column for column in SERIES if not series_file(folder, column).exists()]
    if gone and any(max(steps, default=0) >= 2 for steps in series.values()):
        names = ", ".join(str(series_file(Path(), column)) for column in gone)
        raise Incomplete(f"{names} not found, though the seed's other per-epoch logs are there; "
                         f"run `dvc checkout` or `dvc repro train@{model}`")
    return aligned_history(series)


@dataclass(frozen=True)
class SeedRun:
    """One seed of a model: its live progress and its per-epoch log (`source` LIVE), or the
    committed history of the run evaluate last saw (COMMITTED: no progress)."""

    seed: int
    progress: Progress | None
    history: History
    status: str
    reason: str | None
    epochs_total: int
    source: str = LIVE
    timing: str | None = None  # a committed seed's: how its times were found (contracts.TIMINGS)

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
    evaluation: Evaluation | None
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
        return mean_history(logged) if logged else empty_history()

    @property
    def has_data(self) -> bool:
        return any(seed.has_data for seed in self.seeds)

    @property
    def committed(self) -> bool:
        """Shown from the committed history: the model has no training log here."""
        return bool(self.seeds) and all(seed.source == COMMITTED for seed in self.seeds)


@dataclass(frozen=True)
class Dashboard:
    """One consistent view of the project, rebuilt whenever a watched file changes."""

    root: Path
    params: Params | None
    runs: tuple[ModelRun, ...]
    comparison: Comparison | None
    backprop: Backprop | None
    problems: tuple[tuple[frozenset[str], str], ...]  # (the tabs that read the file, the line)

    def run(self, name: str) -> ModelRun | None:
        return next((run for run in self.runs if run.name == name), None)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every file problem, one line each."""
        return tuple(line for _, line in self.problems)

    def warnings_for(self, tab: str) -> tuple[str, ...]:
        """The problems of the files that tab reads."""
        return tuple(line for tabs, line in self.problems if tab in tabs)

    @property
    def has_training(self) -> bool:
        return any(run.has_data for run in self.runs)

    @property
    def committed(self) -> bool:
        """Whether a model is shown from the committed history, not from a training log."""
        return any(run.committed for run in self.runs)


class DataSource:
    """Polls a project folder and keeps the latest consistent `Dashboard`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._files = on_disk(self.root)
        self._params = Watched(self.root / PARAMS_FILE, self._load_params, str(PARAMS_FILE), required=True)
        self._comparison = self._record(COMPARISON_FILE, Comparison)
        self._backprop = self._record(BACKPROP_REPORT, Backprop)
        self._progress: dict[tuple[str, int], Watched[Progress]] = {}
        self._history: dict[tuple[str, int], Watched[History]] = {}
        self._committed: dict[tuple[str, int], Watched[History]] = {}
        self._evaluation: dict[str, Watched[Evaluation]] = {}
        self.snapshot = Dashboard(self.root, None, (), None, None, ())

    def _load_params(self) -> Params:
        try:
            return params_file.load(self.root)
        except ParamsError as exc:
            raise BadInput(PARAMS_FILE, str(exc).removeprefix(f"{PARAMS_FILE}: ")) from None

    def _record(self, path: Path, kind: type[R]) -> Watched[R]:
        """A contract file read as its record (its path relative to the root names it in warnings)."""
        return Watched(self.root / path, lambda: kind.read(self.root / path), str(path))

    def _model_names(self) -> list[str]:
        names = list(self._params.value.models) if self._params.value else []
        return names + [name for name in self._files.models() if name not in names]

    def _seeds(self, name: str) -> tuple[list[int], str]:
        """The seeds params.yaml asks for and those on disk (another seed list's, until the
        stage runs again), in order; with no training log on disk, the committed history's seeds
        when there are some. And which of the two they are (LIVE or COMMITTED)."""
        on_disk = self._files.seeds(name)
        committed = seeds_in(self._files.listing(history_dir(name)), HISTORY_SUFFIX)
        if committed and not on_disk:
            return committed, COMMITTED
        params = self._params.value
        wanted = set(params.train.seed_list) if params and name in params.models else set()
        return sorted(wanted | set(on_disk)), LIVE

    def _watch(self, name: str, seed: int) -> None:
        if (name, seed) in self._progress:
            return
        self._progress[name, seed] = self._record(progress_file(name, seed), Progress)
        folder = seed_dir(name, seed, self.root)
        self._history[name, seed] = Watched([series_file(folder, column) for column in SERIES],
                                            lambda: load_log(folder, name), f"{seed_dir(name, seed)}/",
                                            absent=empty_history())

    def _watch_committed(self, name: str, seed: int) -> Watched[History]:
        if (name, seed) not in self._committed:
            path = history_file(name, seed)
            self._committed[name, seed] = Watched(
                self.root / path, lambda: _committed_history(HistoryReport.read(self.root / path)), str(path))
        return self._committed[name, seed]

    def poll(self) -> bool:
        """Re-read what changed; True when the snapshot is different from the last one."""
        self._params.refresh()
        self._comparison.refresh()
        self._backprop.refresh()
        models = {name: self._seeds(name) for name in self._model_names()}
        for name, (seeds, source) in models.items():
            if name not in self._evaluation:
                self._evaluation[name] = self._record(eval_file(name), Evaluation)
            self._evaluation[name].refresh()
            for seed in seeds:
                if source == COMMITTED:
                    self._watch_committed(name, seed).refresh()
                    continue
                self._watch(name, seed)
                self._progress[name, seed].refresh()
                self._history[name, seed].refresh()
        snapshot = self._build(models)
        changed = snapshot != self.snapshot
        self.snapshot = snapshot
        return changed

    def _build(self, models: dict[str, tuple[list[int], str]]) -> Dashboard:
        params = self._params.value
        watched: list[tuple[Watched, frozenset[str]]] = [
            (self._params, frozenset({TRAINING, COMPARE})),
            (self._comparison, frozenset({COMPARE})),
            (self._backprop, frozenset({BACKPROP})),
        ]
        missing: list[tuple[frozenset[str], str]] = []
        runs = []
        for name, (seeds, source) in models.items():
            default_total = params.train.epochs if params else 1
            seed_runs = []
            for seed in seeds:
                if source == COMMITTED:
                    committed = self._committed[name, seed]
                    watched.append((committed, frozenset({TRAINING, COMPARE})))
                    seed_runs.append(committed_seed(seed, committed.value))
                    continue
                progress, history = self._progress[name, seed], self._history[name, seed]
                watched += [(progress, frozenset({TRAINING})), (history, frozenset({TRAINING, COMPARE}))]
                status, reason = self._status(progress.value)
                logged = len(history.value) if history.value is not None else 0
                if progress.value is None and progress.problem is None and logged:
                    status, reason = UNKNOWN, f"{progress_file(name, seed).name} is missing"
                    missing.append((frozenset({TRAINING}), (
                        f"{progress_file(name, seed)}: not found, though its per-epoch log has {logged} "
                        f"epoch{'s' if logged != 1 else ''}; the state is unknown until training writes "
                        "it again (`dvc checkout` restores a finished run's)")))
                if progress.value is not None:
                    total = progress.value.epochs
                else:
                    total = params.train.epochs if params else max(len(history.value), 1)
                seed_runs.append(SeedRun(seed, progress.value, history.value, status, reason, total))
            watched.append((self._evaluation[name], frozenset({COMPARE})))
            runs.append(
                ModelRun(
                    name=name,
                    spec=params.models.get(name) if params else None,
                    seeds=tuple(seed_runs),
                    evaluation=self._evaluation[name].value,
                    epochs_total=max((seed.epochs_total for seed in seed_runs), default=default_total),
                )
            )
        problems = (*((tabs, item.problem) for item, tabs in watched if item.problem), *missing)
        return Dashboard(
            root=self.root,
            params=params,
            runs=tuple(runs),
            comparison=self._comparison.value,
            backprop=self._backprop.value,
            problems=problems,
        )

    def _status(self, progress: Progress | None) -> tuple[str, str | None]:
        if progress is None:
            return WAITING, None
        if progress.state == "running" and not pid_alive(progress.pid):
            return "interrupted", f"the training process (pid {progress.pid}) ended without saying so"
        return progress.state, progress.error


def _committed_history(report: HistoryReport) -> tuple[History, str]:
    return report_history(report), report.timing


def committed_seed(seed: int, found: tuple[History, str] | None) -> SeedRun:
    """A seed shown from its committed history: as many epochs as the run that was committed, and
    how its times were found (its own, or a share of its stack's)."""
    history, timing = found if found is not None else (empty_history(), None)
    done = history.epoch[-1] if history.epoch else 0
    return SeedRun(seed, None, history, COMMITTED_RUN, None, max(done, 1), COMMITTED, timing)
