"""Pipeline tab: the stages of dvc.yaml with their status, and `dvc repro` in the background.

Statuses come from the real `dvc status --json` (run in a worker, never on the UI
thread) plus dvc.lock, which tells a stage that never ran from one that changed. A
repro is started through tui.repro, detached from the dashboard, and its log file is
followed here; while it runs, the stage lines DVC prints mark what is running, since
`dvc status` would wait on the repro's lock.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import ClassVar

import yaml
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Log, Static
from textual.worker import get_current_worker

from tui import repro
from tui.data import stamp

NEVER_RUN, CHANGED, UP_TO_DATE = "never run", "changed", "up to date"
STATUS_STYLES = {
    NEVER_RUN: "yellow", CHANGED: "yellow", UP_TO_DATE: "green", "running": "bold cyan",
    "done": "green", "restored from run-cache": "green", "failed": "bold red",
}
STAGE_LINES = (
    (re.compile(r"Running stage '([^']+)'"), "running"),
    (re.compile(r"Stage '([^']+)' didn't change, skipping"), UP_TO_DATE),
    (re.compile(r"Stage '([^']+)' is cached - skipping run"), "restored from run-cache"),
    (re.compile(r"failed to reproduce '([^']+)'"), "failed"),
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DVC_TIMEOUT_S = 120


def describe(entries: list) -> str:
    """One line from `dvc status --json`'s entries for a stage."""
    parts = []
    for entry in entries:
        if isinstance(entry, dict):
            for kind, items in entry.items():
                label = kind.removeprefix("changed ")
                if isinstance(items, dict):
                    parts.append(f"{label}: " + ", ".join(f"{path} ({what})" for path, what in items.items()))
                else:
                    parts.append(f"{label}: {items}")
        else:
            parts.append(str(entry))
    return "; ".join(parts)


def locked_stages(root: Path) -> set[str]:
    """Stages recorded in dvc.lock, i.e. that ran at least once."""
    try:
        lock = yaml.safe_load((root / "dvc.lock").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return set()
    stages = lock.get("stages") if isinstance(lock, dict) else None
    return set(stages) if isinstance(stages, dict) else set()


def run_dvc(root: Path, *args: str) -> tuple[int, str]:
    """The real dvc CLI (the venv's): (exit code, stdout+stderr). Blocking: call it from a thread."""
    try:
        proc = subprocess.run(
            repro.dvc_command(*args), cwd=root, env=repro.tool_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=DVC_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return 124, f"dvc {' '.join(args)} took over {DVC_TIMEOUT_S} s"
    except (OSError, repro.ReproError) as exc:
        return 127, str(exc)
    return proc.returncode, proc.stdout.decode(errors="replace")


def check_stages(root: Path) -> dict[str, tuple[str, str]]:
    """stage -> (status, details) from `dvc stage list` and `dvc status --json` plus dvc.lock.

    Raises ReproError with dvc's last line when dvc cannot tell (a broken dvc.yaml, a lock
    held by another dvc process).
    """
    code, listing = run_dvc(root, "stage", "list", "--name-only")
    if code != 0:
        raise repro.ReproError(f"dvc stage list failed: {last_line(listing)}")
    names = [line.strip() for line in listing.splitlines() if line.strip()]
    code, out = run_dvc(root, "status", "--json")
    try:
        changed = json.loads(out[out.index("{"):]) if code == 0 else None
    except ValueError:
        changed = None
    if not isinstance(changed, dict):
        raise repro.ReproError(f"dvc status failed: {last_line(out)}")
    ran = locked_stages(root)
    statuses = {}
    for name in names:
        if name not in ran:
            statuses[name] = (NEVER_RUN, "")
        elif name in changed:
            statuses[name] = (CHANGED, describe(changed[name]))
        else:
            statuses[name] = (UP_TO_DATE, "")
    return statuses


def last_line(text: str) -> str:
    """What to show of dvc's failure: its ERROR line if any, else its last line."""
    lines = [line.strip() for line in ANSI.sub("", text).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors and "is busy, it is being blocked by" in errors[0]:
        blocker = next((line for line in lines if line.startswith("(PID ")), "another dvc process")
        return f"another dvc command is running: {blocker}; press u once it has ended"
    return errors[0] if errors else lines[-1] if lines else "no output"


class PipelinePane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "repro", "Repro all"),
        Binding("s", "repro_stage", "Repro stage"),
        Binding("x", "stop", "Stop repro"),
        Binding("u", "refresh_status", "Refresh"),
    ]

    running: reactive[bool] = reactive(False)
    statuses: reactive[dict[str, tuple[str, str]]] = reactive(dict, always_update=True, layout=False)

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root = root
        self.run: repro.ReproRun | None = None
        self._process: subprocess.Popen | None = None
        self._log_started: str | None = None
        self._log_offset = 0
        self._log_tail = ""
        self._watch_stamps: tuple = ()
        self._check_note: str | None = "checking stages with `dvc status`…"
        self._shown = False

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

    def shown(self) -> None:
        """The tab was opened: statuses are checked from now on (dvc costs a second of CPU)."""
        self._shown = True
        if not self.running:
            self.refresh_status()

    def action_refresh_status(self) -> None:
        if self.running:
            self.notify("dvc status waits for the running repro; statuses follow its log meanwhile")
            return
        self.refresh_status()

    @work(exclusive=True, group="dvc-status", thread=True)
    def refresh_status(self) -> None:
        """dvc takes about a second: a thread keeps the UI responsive meanwhile."""
        worker = get_current_worker()
        try:
            statuses, problem = check_stages(self.root), None
        except repro.ReproError as exc:
            statuses, problem = None, str(exc)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_check, statuses, problem)

    def _show_check(self, statuses: dict[str, tuple[str, str]] | None, problem: str | None) -> None:
        if statuses is not None:
            self.statuses = statuses
        self._note(problem)

    def watch_statuses(self, statuses: dict[str, tuple[str, str]]) -> None:
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

    def _mark(self, stage: str, status: str) -> None:
        statuses = dict(self.statuses)
        for name, (old, _) in statuses.items():
            if old == "running" and status == "running" and name != stage:
                statuses[name] = ("done", "")
        statuses[stage] = (status, "")
        self.statuses = statuses

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
            self._process = repro.start(self.root, stage)
        except repro.ReproError as exc:
            self.notify(str(exc), severity="warning")
            return
        self._tick()

    def action_stop(self) -> None:
        if self.run is None or not self.running:
            self.notify("no repro is running")
            return
        repro.stop(self.run)
        self.notify("sent Ctrl-C to the repro; training saves a checkpoint and stops")

    def _tick(self) -> None:
        """Follow the repro's files; re-check statuses when the pipeline's files change."""
        if self._process is not None and self._process.poll() is not None:
            self._process = None
        self.run = repro.current(self.root)
        was_running = self.running
        self.running = self.run is not None and self.run.running
        self._follow_log()
        watched = tuple(stamp(self.root / name) for name in ("dvc.yaml", "dvc.lock", "params.yaml"))
        if self._shown and not self.running and (was_running or watched != self._watch_stamps):
            self._watch_stamps = watched
            self.refresh_status()
        self._say_repro()

    def _follow_log(self) -> None:
        if self.run is None:
            return
        log = self.query_one("#repro-log", Log)
        if self.run.started_at != self._log_started:
            self._log_started, self._log_offset, self._log_tail = self.run.started_at, 0, ""
            log.clear()
        try:
            with open(self.root / repro.LOG, "rb") as handle:
                handle.seek(self._log_offset)
                chunk = handle.read()
        except OSError:
            return
        if not chunk:
            return
        self._log_offset += len(chunk)
        text = self._log_tail + chunk.decode(errors="replace")
        lines = text.split("\n")
        self._log_tail = lines.pop()
        cleaned = [ANSI.sub("", line).split("\r")[-1] for line in lines]
        log.write_lines(cleaned)
        for line in cleaned:
            for pattern, status in STAGE_LINES:
                match = pattern.search(line)
                if match:
                    self._mark(match.group(1), status)

    def _note(self, problem: str | None) -> None:
        """A problem with reading the statuses (shown until the next successful check)."""
        self._check_note = problem
        self._say_repro()

    def _say_repro(self) -> None:
        if self.run is None:
            line = "No repro started from the dashboard yet. r: dvc repro · s: the selected stage"
        elif self.running:
            line = f"{self.run.label}: running (pid {self.run.pid}, started {self.run.started}); x: stop"
        else:
            line = (f"{self.run.label}: {self.run.outcome} (started {self.run.started})"
                    " · r: dvc repro · s: the selected stage")
        status = self.query_one("#pipeline-status", Static)
        status.update(line if self._check_note is None else f"{self._check_note}\n{line}")
        status.set_class(self.run is not None and not self.running and self.run.returncode != 0, "-error")
