"""Experiments tab: every run (workspace, recent commits, their experiments) in one table,
compared, launched, queued, followed and kept from here.

The rows come from DVC's Python API in a child process (tui.experiments.collect), collected when
the tab opens and again whenever git's refs, the queue's task files or the workspace's
params and metrics change (a `stat` walk each second); the last table is shown at once
from .dvc/tmp/tui-experiments.json meanwhile. A running experiment's progress cell is read
from its working folder's progress.json twice a second, not from DVC. The runs' curves
and predictions are read in a thread worker (tui.experiments.compare), the dvc commands too
(tui.experiments.control); nothing slow runs on the UI thread. The run under the cursor is
posted up (`RunSelected`): the app hands it down to the tabs that follow it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from mnist_dvc.core.records.progress import Progress
from tui.experiments import control as expctl
from tui.experiments import table as exptable
from tui.experiments.collect import (
    QUEUE_LOG,
    ExperimentsError,
    ExpTable,
    collect_in_child,
    git_dirs,
    load_cached,
    save_cached,
    watched_paths,
)
from tui.experiments.compare import build_comparison
from tui.experiments.screens import Confirm, ExperimentForm, Launch, LogScreen, Prompt
from tui.experiments.sweeps.widgets import SweepsPanel
from tui.experiments.table import Column
from tui.experiments.widgets import RunComparison
from tui.ground.dvc import DvcError
from tui.ground.runs import DONE, EXPERIMENT, FAILED, QUEUED, RUNNING, WORKSPACE, Run, RunFiles, training_now
from tui.ground.watch import Watch

TICK_S = 0.5
CHECK_EVERY = 2  # ticks between two looks at what DVC would list (the fingerprint)
MARK = Column("mark", "", "mark")
INTERVAL = "interval"
SEEDS_COLUMN = Column("seed-group", "seeds (same group: pairable)", "seed-group")
STATE_STYLES = {RUNNING: "bold cyan", QUEUED: "yellow", FAILED: "bold red", DONE: "green"}
HINT = "space select · / filter · s sort · a all · h hide · p pin · i CI · ? keys"


class ExperimentsPane(Vertical):
    class RunSelected(Message):
        """The run under the cursor changed (or its state did): the app's selected run."""

        def __init__(self, run: Run | None) -> None:
            super().__init__()
            self.run = run

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_select", "Select", key_display="space"),
        Binding("slash", "focus_filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("a", "all_columns", "All columns"),
        Binding("h", "hide_column", "Hide column", show=False),
        Binding("H", "show_hidden", "Show hidden", show=False),
        Binding("p", "pin_column", "Pin column", show=False),
        Binding("b", "baseline", "Baseline", show=False),
        Binding("m", "next_model", "Model", show=False),
        Binding("c", "next_criterion", "Criterion", show=False),
        Binding("i", "intervals", "Intervals"),
        Binding("n", "new", "New"),
        Binding("w", "workers", "Workers"),
        Binding("Q", "queue_status", "Queue status", show=False),
        Binding("l", "log", "Log"),
        Binding("x", "kill", "Kill"),
        Binding("A", "apply", "Apply", show=False),
        Binding("B", "branch", "Branch", show=False),
        Binding("D", "remove", "Remove", show=False),
        Binding("u", "refresh", "Refresh", show=False),
    ]

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root = Path(root).resolve()
        self.table: ExpTable | None = load_cached(self.root)
        self.from_cache = self.table is not None
        self.problem: str | None = None
        self.collecting = False
        self.selected: list[str] = []
        self.sort: tuple[str, bool] | None = None
        self.filter_text = ""
        self.everything = False  # every column, those equal in every listed row too
        self.hidden_keys: list[str] = []  # columns hidden with h
        self.pinned: list[str] = []  # columns pinned with p, beside the run's name
        self.baseline_key: str | None = None
        self.model: str | None = None
        self.criterion = "final_test_accuracy"  # drawn against the param the compared runs differ in
        self.intervals = False  # `i`: each run's metrics as mean ± 95% CI over its seeds (comparison.json)
        self.interval_columns: list[Column] = []
        self.interval_cells: dict[str, dict[str, str]] = {}  # column key -> run key -> cell
        self.interval_groups: dict[str, str] = {}  # run key -> its seed group
        self.interval_scope = ""  # what the intervals cover, said under the table while they show
        self.progress: dict[str, dict[str, Progress]] = {}
        self.files = RunFiles(self.root)
        self._git: tuple[Path, ...] | None = None
        self._changes = Watch(skip=(QUEUE_LOG,))
        self._ticks = 0
        self._shown = False
        self._posted: tuple | None = None
        self._rows: list[str] = []
        self._columns: list[Column] = []
        self._process: subprocess.Popen | None = None

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter: words of the name, state or key=value", id="exp-filter",
                    compact=True)
        yield DataTable(id="exp-table", cursor_type="cell", zebra_stripes=True, fixed_columns=2)
        yield Static(id="exp-status")
        yield SweepsPanel(self.root, id="exp-sweeps")  # each point of a sweep under its baseline
        yield RunComparison(id="exp-compare")

    def focus_default(self) -> None:
        """The table: its keys select, sort and act on the run under the cursor."""
        self.query_one("#exp-table", DataTable).focus()

    def on_mount(self) -> None:
        self.query_one("#exp-compare").display = False
        self._show_table()
        self.set_interval(TICK_S, self._tick)

    def on_show(self) -> None:
        """The tab was opened: the runs are collected from now on (DVC costs a second or more)."""
        if not self._shown:
            self._shown = True
            self.call_after_refresh(self._check, True)  # the rows on screen first, then DVC

    # --- collecting ----------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._check(force=True)

    def _check(self, force: bool = False) -> None:
        """Collect again when what DVC would list has changed (or when asked)."""
        if self.collecting:
            return
        if self._git is None:
            self._git = git_dirs(self.root)
        if self._changes.changed(watched_paths(self.root, self._git, self.table)) or force:
            self.collecting = True
            self._say()
            self._collect()

    @work(exclusive=True, group="exp-collect", thread=True)
    def _collect(self) -> None:
        worker = get_current_worker()
        try:
            table, problem = collect_in_child(self.root), None
            save_cached(self.root, table)
        except ExperimentsError as exc:
            table, problem = None, str(exc)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._collected, table, problem)

    def _collected(self, table: ExpTable | None, problem: str | None) -> None:
        self.collecting = False
        self.problem = problem
        if table is not None:
            if self.table is None or table.metric_files != self.table.metric_files:
                # the metrics files DVC read are watched too: a new list, a new baseline
                self._changes.changed(watched_paths(self.root, self._git or (), table))
            self.table, self.from_cache = table, False
            self.selected = [key for key in self.selected if table.run(key) is not None]
            if self.baseline_key not in self.selected:
                self.baseline_key = None
        self._read_progress()
        if self.intervals and table is not None:
            self._load_intervals(tuple(table.runs))
        self._show_table()
        self._compare()

    def _tick(self) -> None:
        """Live cells twice a second; a look at DVC's state every CHECK_EVERY ticks."""
        if self._process is not None and self._process.poll() is not None:
            self._process = None
        if self._read_progress():
            self._show_table()
            if any(self.table and (run := self.table.run(key)) and run.running for key in self.selected):
                self._compare()
        self._ticks += 1
        if self._shown and self._ticks % CHECK_EVERY == 0:
            self._check()

    def _read_progress(self) -> bool:
        """The trainings running now in every running run's folder, and in the workspace; True if
        that changed. A finished model's progress.json left from the run a copy started from, or
        a killed training's, is not a live one."""
        progress = {}
        for run in self.table.runs if self.table else ():
            if run.running and run.folder:
                progress[run.key] = training_now(Path(run.folder))
        if workspace := training_now(self.root):
            progress[WORKSPACE] = workspace
        changed = progress != self.progress
        self.progress = progress
        return changed

    # --- the table -------------------------------------------------------------------------

    def listed(self) -> list[Run]:
        """The rows as shown: filtered, then sorted (or in DVC's order)."""
        if self.table is None:
            return []
        shown = [run for run in self.table.runs if exptable.matches(run, self.filter_text)]
        if self.sort is None:
            return shown
        column = next((c for c in self._all_columns(shown) if c.key == self.sort[0]), None)
        return shown if column is None else exptable.sort_runs(shown, column, self.sort[1])

    def _all_columns(self, shown: list[Run]) -> list[Column]:
        assert self.table is not None
        found = exptable.columns(self.table, shown, self.everything, live=bool(self.progress))
        found = [column for column in found if column.key not in self.hidden_keys]
        if self.intervals:
            # the intervals replace DVC's metric columns (means only): mean ± 95% CI over the seeds, n
            rest = [column for column in found if column.kind != exptable.METRIC]
            cut = len(exptable.FIXED) - 1
            found = [*rest[:cut], SEEDS_COLUMN, *self.interval_columns, *rest[cut:]]
        pinned = [column for key in self.pinned for column in found if column.key == key]
        rest = [column for column in found if column.key not in self.pinned]
        return [rest[0], *pinned, *rest[1:]]  # the run's name, the pinned columns, the others

    def _show_table(self) -> None:
        table = self.query_one("#exp-table", DataTable)
        shown = self.listed()
        columns = [MARK, *self._all_columns(shown)] if self.table else []
        keys = [run.key for run in shown]
        if [c.key for c in columns] != [c.key for c in self._columns] or keys != self._rows:
            self._rebuild(table, shown, columns)
        else:
            for run in shown:
                for column in columns:
                    cell = self._cell(run, column)
                    if table.get_cell(run.key, column.key) != cell:
                        table.update_cell(run.key, column.key, cell, update_width=True)
        self._say()
        self._post_selected()

    def _rebuild(self, table: DataTable, shown: list[Run], columns: list[Column]) -> None:
        """New rows or columns: the table is rebuilt and the cursor put back on the same run and column."""
        at_row, at_column = self._cursor_keys()
        table.clear(columns=True)
        # the mark, the run's name and the pinned columns stay while the table scrolls sideways
        table.fixed_columns = 2 + sum(column.key in self.pinned for column in columns)
        for column in columns:
            table.add_column(self._heading(column), key=column.key)
        for run in shown:
            table.add_row(*(self._cell(run, column) for column in columns), key=run.key)
        self._rows, self._columns = [run.key for run in shown], columns
        if shown:
            row = self._rows.index(at_row) if at_row in self._rows else 0
            keys = [c.key for c in columns]
            col = keys.index(at_column) if at_column in keys else min(1, len(keys) - 1)
            table.move_cursor(row=row, column=col, animate=False)

    def _heading(self, column: Column) -> Text:
        label = column.label
        if self.sort is not None and self.sort[0] == column.key:
            label += " ▼" if self.sort[1] else " ▲"
        style = "bold" if column.kind == exptable.METRIC else ""
        return Text(label, style=style)

    def _cell(self, run: Run, column: Column) -> Text:
        if column.kind == "mark":
            mark = "◆" if run.key == self.baseline_key else "✓" if run.key in self.selected else ""
            return Text(mark, style="bold green")
        if column.kind == exptable.NAME:
            indent = "  " if run.kind == EXPERIMENT and self.sort is None else ""
            return Text(indent + run.name, style="bold" if run.kind != EXPERIMENT else "")
        if column.kind == exptable.STATE:
            # DVC says "done" for the workspace; a training in it (a live progress.json) says otherwise
            state = RUNNING if run.kind == WORKSPACE and self.progress.get(WORKSPACE) else run.state
            return Text(state, style=STATE_STYLES.get(state, ""))
        if column.kind == INTERVAL:
            return Text(self.interval_cells.get(column.key, {}).get(run.key, ""), justify="right")
        if column.kind == SEEDS_COLUMN.kind:
            return Text(self.interval_groups.get(run.key, ""))
        if column.kind == exptable.LIVE:
            progress = self.progress.get(run.key)
            return Text(exptable.live_text(progress) if progress is not None else "", style="cyan")
        text = exptable.cell(run, column)
        numeric = column.kind == exptable.METRIC or isinstance(exptable.value(run, column), (int, float))
        return Text(text, justify="right" if numeric else "left")

    def _cursor_keys(self) -> tuple[str | None, str | None]:
        table = self.query_one("#exp-table", DataTable)
        if not table.row_count:
            return None, None
        key = table.coordinate_to_cell_key(table.cursor_coordinate)
        return key.row_key.value, key.column_key.value

    def cursor_run(self) -> Run | None:
        row, _ = self._cursor_keys()
        return self.table.run(row) if self.table and row else None

    def _say(self) -> None:
        """The status line: counts, sort, filter, what is happening, and the run under the cursor."""
        lines = []
        if self.table is None:
            lines.append(self.problem or "collecting the runs with DVC…")
        else:
            parts = [exptable.summary_line(self.table, len(self._rows), len(self.selected))]
            if self.sort is not None:
                column = next((c for c in self._columns if c.key == self.sort[0]), None)
                if column is not None:
                    parts.append(f"sorted by {column.label} {'descending' if self.sort[1] else 'ascending'}")
            if self.collecting:
                parts.append("refreshing…" if not self.from_cache else "from the last session, refreshing…")
            lines.append(" · ".join(parts))
            if columns := self._hidden_line():
                lines.append(columns)
            if self.problem:
                lines.append(f"⚠ {self.problem}")
            lines += [f"⚠ {warning}" for warning in self.table.warnings]
            run = self.cursor_run()
            if run is not None:
                lines.append(self._run_line(run))
            if self.intervals and self.interval_scope:
                lines.append(self.interval_scope)
        lines.append(HINT)
        status = self.query_one("#exp-status", Static)
        status.update("\n".join(lines))
        status.set_class(self.problem is not None or bool(self.table and self.table.warnings), "-error")

    def _hidden_line(self) -> str:
        """The columns not shown: equal in every row listed (a shows them), hidden with h (H)."""
        parts = []
        rows = [run for run in self.table.runs if run.key in self._rows] if self.table else []
        same = len(exptable.hidden(self.table, rows)) if self.table and not self.everything else 0
        if same:
            parts.append(f"{same} column{'s' * (same != 1)} equal in every row hidden (a shows them)")
        if self.hidden_keys:
            parts.append(f"{len(self.hidden_keys)} hidden with h (H shows them)")
        if self.pinned:
            parts.append("pinned: " + ", ".join(key.split(":", 1)[-1] for key in self.pinned))
        return " · ".join(parts)

    def _run_line(self, run: Run) -> str:
        if run.kind == WORKSPACE:
            return "workspace: the project folder as it is now, uncommitted changes included"
        parts = [f"{run.name}: {run.kind} {run.short_rev}"]
        if run.kind == EXPERIMENT:
            parts.append(f"of {run.baseline[:7]}")
        if run.created:
            parts.append(f"created {run.created.replace('T', ' ')[:16]}")
        if run.running and run.folder:
            where = "the workspace" if Path(run.folder) == self.root else run.folder
            parts.append(f"running in {where}")
        if not exptable.finished(run):
            parts.append("no results (✗)" if run.state == FAILED else "no results yet (…)")
        if run.error:
            parts.append(run.error)
        return " · ".join(parts)

    # --- the cursor and the selection ------------------------------------------------------

    @on(DataTable.CellHighlighted, "#exp-table")
    def _moved(self) -> None:
        self._say()
        self._post_selected()

    def _post_selected(self) -> None:
        run = self.cursor_run()
        mark = None if run is None else (run.key, run.state, run.folder)
        if mark != self._posted:
            self._posted = mark
            self.post_message(self.RunSelected(run))

    def action_toggle_select(self) -> None:
        run = self.cursor_run()
        if run is None:
            return
        if run.key in self.selected:
            self.selected.remove(run.key)
            if self.baseline_key == run.key:
                self.baseline_key = None
        else:
            self.selected.append(run.key)
        self._show_table()
        self._compare()

    def action_baseline(self) -> None:
        run = self.cursor_run()
        if run is None:
            return
        if run.key not in self.selected:
            self.selected.append(run.key)
        self.baseline_key = run.key
        self._show_table()
        self._compare()

    def action_next_model(self) -> None:
        models = exptable.models_of(self.selected_runs())
        if models:
            at = models.index(self.model) + 1 if self.model in models else 0
            self.model = models[at % len(models)]
            self._compare()

    def action_next_criterion(self) -> None:
        from tui.experiments.between import CRITERIA

        self.criterion = CRITERIA[(CRITERIA.index(self.criterion) + 1) % len(CRITERIA)]
        self._compare()

    def action_intervals(self) -> None:
        """Each run's metrics as the mean and 95% CI over its seeds, from its comparison.json (read in
        a worker), or DVC's metric columns again."""
        self.intervals = not self.intervals
        if self.intervals and self.table is not None:
            self._load_intervals(tuple(self.table.runs))
        self._show_table()

    @work(exclusive=True, group="exp-intervals", thread=True)
    def _load_intervals(self, runs: tuple[Run, ...]) -> None:
        from tui.experiments import between

        worker = get_current_worker()
        found = between.intervals(self.files, runs)
        models = list(dict.fromkeys(m for item in found.values() for m in item.estimates))
        columns = between.interval_columns(models)
        cells = {key: between.interval_cells(found, *which.split(":")) for key, _, which in columns}
        groups = {key: item.group or (item.problem or "") for key, item in found.items()}
        if not worker.is_cancelled:
            self.app.call_from_thread(self._intervals_loaded, [Column(key, label, INTERVAL)
                                                               for key, label, _ in columns], cells, groups,
                                      between.SCOPE)

    def _intervals_loaded(self, columns: list[Column], cells: dict[str, dict[str, str]],
                          groups: dict[str, str], scope: str) -> None:
        self.interval_columns, self.interval_cells, self.interval_groups = columns, cells, groups
        self.interval_scope = scope
        self._columns = []  # new columns: rebuild
        self._show_table()

    def selected_runs(self) -> list[Run]:
        return [run for key in self.selected if self.table and (run := self.table.run(key)) is not None]

    # --- filter, sort, columns ---------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#exp-filter", Input).focus()

    @on(Input.Changed, "#exp-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._show_table()

    @on(Input.Submitted, "#exp-filter")
    def _filter_done(self) -> None:
        self.focus_default()

    def key_escape(self) -> None:
        if self.query_one("#exp-filter", Input).has_focus:
            self.focus_default()

    def action_sort(self) -> None:
        _, column = self._cursor_keys()
        if column is not None:
            self._sort_by(column)

    @on(DataTable.HeaderSelected, "#exp-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        self._sort_by(event.column_key.value)

    def _sort_by(self, key: str | None) -> None:
        """Ascending, then descending, then DVC's order again."""
        if key is None or key == MARK.key:
            return
        if self.sort is None or self.sort[0] != key:
            self.sort = (key, False)
        elif not self.sort[1]:
            self.sort = (key, True)
        else:
            self.sort = None
        self._columns = []  # headings show the sort: rebuild
        self._show_table()

    def action_all_columns(self) -> None:
        self.everything = not self.everything
        self._show_table()

    def action_hide_column(self) -> None:
        """Hide the column under the cursor (H shows every hidden column again)."""
        _, key = self._cursor_keys()
        if key is not None and key not in (MARK.key, exptable.NAME):
            self.hidden_keys.append(key)
            self.pinned = [pin for pin in self.pinned if pin != key]
            self._show_table()

    def action_show_hidden(self) -> None:
        self.hidden_keys = []
        self._show_table()

    def action_pin_column(self) -> None:
        """Pin the column under the cursor beside the run's name, where it stays while the table
        scrolls sideways; again: unpin it."""
        _, key = self._cursor_keys()
        if key is None or key in (MARK.key, exptable.NAME):
            return
        pinned = [pin for pin in self.pinned if pin != key]
        self.pinned = pinned if key in self.pinned else [*pinned, key]
        self._show_table()

    # --- comparing ---------------------------------------------------------------------------

    def _compare(self) -> None:
        chosen = self.selected_runs()
        box = self.query_one("#exp-compare", RunComparison)
        box.display = len(chosen) >= 2
        if len(chosen) < 2 or self.table is None:
            return
        models = exptable.models_of(chosen)
        if self.model not in models:
            self.model = models[0] if models else None
        baseline = next((run for run in chosen if run.key == self.baseline_key), chosen[0])
        self._load_comparison(tuple(chosen), self.model, baseline, self.table)

    @work(exclusive=True, group="exp-compare", thread=True)
    def _load_comparison(self, chosen: tuple[Run, ...], model: str | None, baseline: Run,
                         table: ExpTable) -> None:
        """Curves and predictions of each run: DVC reads a revision's files in a fraction of a second,
        once per revision (tui.ground.runs caches finished ones)."""
        worker = get_current_worker()
        view = build_comparison(self.files, chosen, model, baseline, table, self.criterion)
        if not worker.is_cancelled:
            self.app.call_from_thread(self.query_one("#exp-compare", RunComparison).show, view)

    # --- launching and acting on runs ---------------------------------------------------------

    def action_new(self) -> None:
        try:
            fields = expctl.param_fields(expctl.read_params(self.root))
        except expctl.OverrideError as exc:
            self.notify(str(exc), severity="error")
            return
        self.app.push_screen(ExperimentForm(self.root, fields, self.table), self._launch)

    def _launch(self, launch: Launch | None) -> None:
        if launch is None:
            return
        if launch.queue:
            self._act(f"queued {' '.join(launch.overrides) or 'the workspace params'}",
                      expctl.queue, self.root, list(launch.overrides), launch.name)
            return
        try:
            self._process = expctl.run_now(self.root, list(launch.overrides), launch.name)
        except DvcError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify("experiment started in the workspace; it keeps running if you quit (l: its log)")
        self._check(force=True)

    def action_workers(self) -> None:
        def start(answer: str | None) -> None:
            if answer is None:
                return
            if not answer.isdigit() or int(answer) < 1:
                self.notify(f"workers: {answer!r} is not a whole number >= 1", severity="error")
                return
            self._act(f"dvc queue start -j {answer}", expctl.start_workers, self.root, int(answer))

        queued = self.table.count(QUEUED) if self.table else 0
        self.app.push_screen(Prompt(f"Start queue workers (`dvc queue start -j N`); {queued} queued. "
                                    "How many at once?", "1"), start)

    def action_queue_status(self) -> None:
        def show(text: str) -> None:
            self.app.push_screen(LogScreen("dvc queue status", text=text))

        self._act("", expctl.queue_status, self.root, then=show)

    def action_log(self) -> None:
        run = self.cursor_run()
        if run is None:
            return
        path = expctl.log_file(self.root, run)
        if path is not None:
            self.app.push_screen(LogScreen(f"{run.name}: {path}", path=path))
        else:
            self.notify(f"{run.name}: no log ({run.kind}, {run.state}); logs exist for queued runs and "
                        "experiments started from here", severity="warning")

    def action_kill(self) -> None:
        run = self.cursor_run()
        if run is None or not run.running:
            self.notify("x stops a running experiment: put the cursor on one", severity="warning")
            return
        self._confirm(expctl.kill_question(run), f"stopped {run.name}", expctl.kill, self.root, run)

    def action_apply(self) -> None:
        run = self._experiment("apply")
        if run is not None:
            self._confirm(f"Apply `{run.name}` to the workspace (`dvc exp apply`)? Its params, code and "
                          "results replace the workspace's; uncommitted changes there are overwritten.",
                          f"applied {run.name}", expctl.apply, self.root, run)

    def action_branch(self) -> None:
        run = self._experiment("branch")
        if run is None:
            return

        def make(name: str | None) -> None:
            if name:
                self._act(f"branch {name} made from {run.name}", expctl.branch, self.root, run, name)

        question = f"New git branch from `{run.name}` (`dvc exp branch`):"
        self.app.push_screen(Prompt(question, f"exp-{run.name}",
                                    lambda name: expctl.branch_problem(self.root, name)), make)

    def action_remove(self) -> None:
        run = self._experiment("remove")
        if run is not None:
            self._confirm(f"Remove `{run.name}` ({run.state})? Its git ref goes; this cannot be undone.",
                          f"removed {run.name}", expctl.remove, self.root, run)

    def _experiment(self, verb: str) -> Run | None:
        run = self.cursor_run()
        if run is None or run.kind != EXPERIMENT:
            self.notify(f"{verb}: put the cursor on an experiment", severity="warning")
            return None
        if verb != "remove" and run.state != DONE:
            self.notify(f"{verb}: {run.name} is {run.state}; only a finished experiment can be used",
                        severity="warning")
            return None
        return run

    def _confirm(self, question: str, done: str, call: Callable, *args: object) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._act(done, call, *args)

        self.app.push_screen(Confirm(question), answered)

    def _act(self, done: str, call: Callable, *args: object, then: Callable | None = None) -> None:
        """A dvc command in a thread worker; its result (or its one-line error) as a notification."""

        def work() -> None:
            try:
                result = call(*args)
            except DvcError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error")
            else:
                if then is not None:
                    self.app.call_from_thread(then, result)
                elif done:
                    self.app.call_from_thread(self.notify, f"{done}: {result}" if result else done)
            self.app.call_from_thread(self._check, True)

        self.run_worker(work, thread=True, group="exp-action")



