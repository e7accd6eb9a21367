"""Pipeline tab: the stages of dvc.yaml with their status, and `dvc repro` in the background.

Statuses come from tui.pipeline.stages (the real `dvc status --json` plus dvc.lock), called in
a thread worker, never on the UI thread. A repro is started through tui.ground.jobs, detached
from the dashboard, and its log file is followed here; while it runs, the stage lines
DVC prints mark what is running, since `dvc status` would wait on the repro's lock.
While a dvc command started elsewhere (a repro in a terminal, an experiment in the
workspace) holds the lock, its lock file names the stage it runs and that stage's
progress.json how far it is; both are read twice a second until the lock is released.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Log, Static
from textual.worker import get_current_worker

from tui.ground import jobs
from tui.ground.dvc import DvcError
from tui.ground.runs import progress_under
from tui.ground.text import progress_brief
from tui.ground.watch import Watch
from tui.pipeline import stages
from tui.pipeline.text import NO_REPRO, lock_line, repro_line

REPRO_KEYS = "r: dvc repro · s: the selected stage"
STATUS_STYLES = {
    stages.NEVER_RUN: "yellow", stages.CHANGED: "yellow", stages.UP_TO_DATE: "green",
    stages.RUNNING: "bold cyan", stages.DONE: "green", stages.FROM_RUN_CACHE: "green",
    stages.FAILED: "bold red",
}


class PipelinePane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "repro", "Repro all"),
        Binding("s", "repro_stage", "Repro stage"),
        Binding("x", "stop", "Stop repro"),
        Binding("u", "refresh_status", "Refresh"),
    ]

    running: reactive[bool] = reactive(False)
    statuses: reactive[stages.Statuses] = reactive(dict, always_update=True, layout=False)

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root = root
        self.run: jobs.ReproRun | None = None
        self._process: subprocess.Popen | None = None
        self._log = jobs.LogFollower(root)
        self._files = Watch([root / name for name in ("dvc.yaml", "dvc.lock", "params.yaml")])
        self._check_note: str | None = "checking stages with `dvc status`…"
        self._shown = False
        self.holder: stages.LockHolder | None = None

    def focus_default(self) -> None:
        """The stage table: s runs the stage under its cursor."""
        self.query_one("#stages", DataTable).focus()

    def compose(self) -> ComposeResult:
        yield DataTable(id="stages", cursor_type="row", zebra_stripes=True)
        yield Static(id="pipeline-status")
        yield Log(id="repro-log", max_lines=5000, highlight=False)

    def on_mount(self) -> None:
        table = self.query_one("#stages", DataTable)
        table.add_column("stage", key="stage")
        table.add_column("status", key="status")
        table.add_column("details", key="details")
        self._tick()
        self.set_interval(0.5, self._tick)

    # --- statuses -------------------------------------------------------------------

    def on_show(self) -> None:
        """The tab was opened: statuses are checked from now on (dvc costs a second of CPU)."""
        self._shown = True
        if not self.running:
            self.refresh_status()

    def action_refresh_status(self) -> None:
        if self.running or self.holder is not None:
            self.notify("dvc status waits for the running dvc command; statuses follow it meanwhile")
            return
        self.refresh_status()

    @work(exclusive=True, group="dvc-status", thread=True)
    def refresh_status(self) -> None:
        """dvc takes about a second: a thread keeps the UI responsive meanwhile."""
        worker = get_current_worker()
        try:
            statuses, problem = stages.check_stages(self.root), None
        except stages.DvcBusy as exc:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._show_busy, exc.stages, str(exc))
            return
        except DvcError as exc:
            statuses, problem = None, str(exc)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_check, statuses, problem)

    def _show_check(self, statuses: stages.Statuses | None, problem: str | None) -> None:
        self.holder = None
        if statuses is not None:
            self.statuses = statuses
        self._note(problem)

    def _show_busy(self, names: list[str], problem: str) -> None:
        """Another dvc process holds the lock: list the stages, then follow what it runs."""
        self.statuses = {name: self.statuses.get(name, ("", "")) for name in names}
        self.holder = stages.lock_holder(self.root)
        if self.holder is None:  # released meanwhile, or not readable: say what dvc said
            self._note(problem)
            return
        self._follow_lock()

    def _follow_lock(self) -> None:
        """The stage the other dvc process runs, with its training progress; a check once it is done."""
        holder = stages.lock_holder(self.root)
        if holder is None:
            self.holder = None
            self.refresh_status()
            self._say_repro()
            return
        self.holder = holder
        statuses = {name: (stages.DONE if status == stages.RUNNING else status, details)
                    for name, (status, details) in self.statuses.items()}
        progress = "; ".join(progress_brief(p) for p in progress_under(self.root, holder.writes))
        for stage in holder.stages:
            statuses[stage] = (stages.RUNNING, progress)
        if statuses != self.statuses:
            self.statuses = statuses
        self._note(None)

    def watch_statuses(self, statuses: stages.Statuses) -> None:
        table = self.query_one("#stages", DataTable)
        for key in [key for key in table.rows if key.value not in statuses]:
            table.remove_row(key)
        for name, (status, details) in statuses.items():
            cell = Text(status, style=STATUS_STYLES.get(status, ""))
            if name not in table.rows:
                table.add_row(name, cell, details, key=name)
                continue
            if table.get_cell(name, "status") != cell:
                table.update_cell(name, "status", cell, update_width=True)
            if table.get_cell(name, "details") != details:
                table.update_cell(name, "details", details, update_width=True)

    # --- repro ----------------------------------------------------------------------

    def action_repro(self) -> None:
        self._start(None)

    def action_repro_stage(self) -> None:
        table = self.query_one("#stages", DataTable)
        if not table.row_count:
            self.notify("no stages listed yet", severity="warning")
            return
        stage = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self._start(stage)

    def _start(self, stage: str | None) -> None:
        try:
            self._process = jobs.start(self.root, stage)
        except DvcError as exc:
            self.notify(str(exc), severity="warning")
            return
        self._tick()

    def action_stop(self) -> None:
        if self.run is None or not self.running:
            self.notify("no repro is running")
            return
        jobs.stop(self.run)
        self.notify("sent Ctrl-C to the repro; training saves a checkpoint and stops")

    def _tick(self) -> None:
        """Follow the repro's files; re-check statuses when the pipeline's files change."""
        if self._process is not None and self._process.poll() is not None:
            self._process = None
        self.run = jobs.current(self.root)
        was_running = self.running
        self.running = self.run is not None and self.run.running
        self._follow_log()
        # a dvc command started elsewhere, or an experiment run in the workspace, once the tab was opened
        if not self.running and (self.holder is not None or (self._shown and stages.lock_holder(self.root))):
            self._follow_lock()
            return
        if self._shown and not self.running and (self._files.changed() or was_running):
            self.refresh_status()
        self._say_repro()

    def _follow_log(self) -> None:
        if self.run is None:
            return
        log = self.query_one("#repro-log", Log)
        restarted, lines = self._log.read(self.run)
        if restarted:
            log.clear()
        if not lines:
            return
        log.write_lines(lines)
        events = stages.stage_events(lines)
        if events:
            self.statuses = stages.follow(self.statuses, events)

    def _note(self, problem: str | None) -> None:
        """A problem with reading the statuses (shown until the next successful check)."""
        self._check_note = problem
        self._say_repro()

    def _say_repro(self) -> None:
        if self.run is not None and self.running:
            line = f"{repro_line(self.run, running=True)}; x: stop"
        elif self.holder is not None:
            line = lock_line(self.holder)
        elif self.run is None:
            line = f"{NO_REPRO}. {REPRO_KEYS}"
        else:
            line = f"{repro_line(self.run, running=False)} · {REPRO_KEYS}"
        status = self.query_one("#pipeline-status", Static)
        status.update(line if self._check_note is None else f"{self._check_note}\n{line}")
        status.set_class(self.run is not None and not self.running and self.run.returncode != 0, "-error")
