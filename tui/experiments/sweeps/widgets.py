"""The sweeps panel of the Experiments tab: each point of every sweep as a row under its baseline.

Its rows are read (tui.experiments.sweeps.rows, in a thread worker) when one of the files they
come from changes, which a `Watch` (tui.ground.watch) looks for twice a second: a Ray sweep's
sweep.json is rewritten within a second of each epoch a job reports, so a running point's epoch,
ETA and test accuracy show within about two seconds of it. Its keys act on the row under the
cursor: `l` follows the point's log, `x` stops the point, `X` the whole sweep (both after a
question saying what will happen), `p` pulls a Ray sweep's done points (`dvc exp pull`), which
then are ordinary rows of the runs table above.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from mnist_dvc.core.errors import ProjectError
from sweeps import state as st
from sweeps.reader import PointView, SweepView
from tui.experiments.collect import git_dirs
from tui.experiments.screens import Confirm, LogScreen
from tui.experiments.sweeps.rows import (
    COLUMNS,
    WATCH_SKIP,
    Found,
    SweepRow,
    pull,
    read,
    rows,
    stop,
    stop_question,
    to_pull,
    watched_paths,
)
from tui.ground.dvc import DvcError
from tui.ground.watch import Watch

TICK_S = 0.5
STYLES = {st.RUNNING: "bold cyan", st.QUEUED: "yellow", st.FAILED: "bold red", st.DONE: "green"}
KEYS = "tab: here · l the point's log · x stop the point · X stop the sweep · p pull done points"


class SweepsPanel(Vertical):
    DEFAULT_CSS = """
    SweepsPanel { height: auto; max-height: 50%; border-top: hkey $primary; display: none; }
    SweepsPanel.-shown { display: block; }
    #sweep-table { height: auto; max-height: 14; }
    #sweep-heading, #sweep-status { height: auto; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "log", "Point's log"),
        Binding("x", "stop_point", "Stop point"),
        Binding("X", "stop_sweep", "Stop sweep", key_display="X"),
        Binding("p", "pull", "Pull"),
    ]

    def __init__(self, root: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root = Path(root)
        self.found: Found | None = None
        self.problem: str | None = None
        self.reading = False
        self._watch = Watch(skip=WATCH_SKIP)
        self._git: tuple[Path, ...] | None = None
        self._rows: dict[str, SweepRow] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"[b]Sweeps[/b] · {KEYS}", id="sweep-heading")
        yield DataTable(id="sweep-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="sweep-status")

    def on_mount(self) -> None:
        table = self.query_one("#sweep-table", DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.poll()
        self.set_interval(TICK_S, self.poll)

    # --- reading ---------------------------------------------------------------------------------

    def poll(self, force: bool = False) -> None:
        """Read the sweeps again when a file they come from changed (or when asked)."""
        if self.reading:
            return
        if self._git is None:
            self._git = git_dirs(self.root)
        if self._watch.changed(watched_paths(self.root, self._git, self.found)) or force:
            self.reading = True
            self._read()

    @work(exclusive=True, group="sweeps-read", thread=True)
    def _read(self) -> None:
        worker = get_current_worker()
        try:
            found, problem = read(self.root), None
        except (ProjectError, OSError) as exc:
            found, problem = None, str(exc)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, found, problem)

    def _show(self, found: Found | None, problem: str | None) -> None:
        self.reading = False
        self.problem = problem
        if found is not None:
            before = watched_paths(self.root, self._git or (), self.found)
            self.found = found
            paths = watched_paths(self.root, self._git or (), found)
            if paths != before:
                self._watch.changed(paths)  # new running folders to watch: the read just done is current
        listed = rows(self.found) if self.found else []
        self.set_class(bool(listed) or problem is not None, "-shown")
        table = self.query_one("#sweep-table", DataTable)
        if [row.key for row in listed] != list(self._rows):
            at = self._cursor_key()
            table.clear()
            for row in listed:
                table.add_row(*self._cells(row), key=row.key)
            keys = [row.key for row in listed]
            if at in keys:
                table.move_cursor(row=keys.index(at), animate=False)
        else:
            for row in listed:
                for column, cell in zip(COLUMNS, self._cells(row), strict=True):
                    if table.get_cell(row.key, column) != cell:
                        table.update_cell(row.key, column, cell, update_width=True)
        self._rows = {row.key: row for row in listed}
        self._say()

    @staticmethod
    def _cells(row: SweepRow) -> list[Text]:
        if row.point is None:
            return [Text(cell, style="bold") for cell in row.cells]
        cells = [Text(cell) for cell in row.cells]
        cells[2].stylize(STYLES.get(row.state or "", ""))
        for cell in cells[3:]:
            cell.justify = "right"
        return cells

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._say()

    def _say(self) -> None:
        """The row under the cursor in full (a failed point's reason, a sweep's note), or the problem."""
        lines = [f"⚠ {self.problem}"] if self.problem else []
        view, point = self.current()
        if view is not None and point is None and view.note:
            lines.append(f"sweep {view.id}: {view.note}")
        if point is not None:
            lines.append(f"{point.name}: {point.label}" + (f" · {point.error}" if point.error else ""))
        self.query_one("#sweep-status", Static).update("\n".join(lines))

    # --- the row under the cursor ------------------------------------------------------------------

    def _cursor_key(self) -> str | None:
        table = self.query_one("#sweep-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def current(self) -> tuple[SweepView | None, PointView | None]:
        """The sweep of the row under the cursor, and its point (None on the sweep's heading row)."""
        row = self._rows.get(self._cursor_key() or "")
        if row is None or self.found is None:
            return None, None
        view = next(v for v in self.found.views if v.id == row.sweep)
        return view, view.point(row.point) if row.point else None

    # --- acting ------------------------------------------------------------------------------------

    def action_log(self) -> None:
        view, point = self.current()
        if view is None or point is None:
            self.notify("l: put the cursor on a point of a sweep", severity="warning")
            return
        if point.log is None or not point.log.is_file():
            self.notify(f"{point.name} is {point.state}: it has no output yet", severity="warning")
            return
        title = f"{point.name} of sweep {view.id}: {point.log}"
        if point.attempts > 1:
            title += f" (attempt {point.attempts}; all: python -m sweeps log {view.id} {point.name})"
        self.app.push_screen(LogScreen(title, path=point.log))

    def action_stop_point(self) -> None:
        view, point = self.current()
        if view is None or point is None:
            self.notify("x stops the point under the cursor (X: the whole sweep)", severity="warning")
            return
        self._confirm(view, point)

    def action_stop_sweep(self) -> None:
        view, _ = self.current()
        if view is None:
            return
        self._confirm(view, None)

    def _confirm(self, view: SweepView, point: PointView | None) -> None:
        question = stop_question(view, point)
        if question is None:
            what = f"{point.name} is {point.state}" if point else f"sweep {view.id} has no point left to run"
            self.notify(f"{what}: nothing to stop", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._act(stop, self.root, view.id, point.name if point else None)

        self.app.push_screen(Confirm(question), answered)

    def action_pull(self) -> None:
        view, point = self.current()
        if view is None or self.found is None:
            return
        if view.executor == st.LOCAL:
            self.notify("a local sweep's points are experiments of this repository already",
                        severity="warning")
            return
        names = to_pull(view, self.found.here.get(view.id, frozenset()), point)
        if not names:
            self.notify("nothing to pull: no done point that is not here yet", severity="warning")
            return
        self.notify(f"dvc exp pull {', '.join(names)}…")
        self._act(pull, self.root, view.id, names)

    def _act(self, call: Callable[..., str], *args: object) -> None:
        """A stop or a pull in a thread worker; its result (or its one-line error) as a notification."""

        def work() -> None:
            try:
                said = call(*args)
            except (ProjectError, DvcError, OSError) as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error")
            else:
                self.app.call_from_thread(self.notify, said)
            self.app.call_from_thread(self.poll, True)

        self.run_worker(work, thread=True, group="sweeps-act")
