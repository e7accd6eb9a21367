"""What the Pipeline tab says besides its stage table: the last repro started from a dashboard,
and who holds DVC's lock meanwhile. No Textual here."""

from __future__ import annotations

from tui.ground.jobs import ReproRun
from tui.pipeline.stages import LockHolder

NO_REPRO = "No repro started from the dashboard yet"


def lock_line(holder: LockHolder) -> str:
    """Who holds the workspace's lock, while `dvc status` has to wait for it."""
    who = f"pid {holder.pid}: {holder.command}" if holder.pid else holder.command or "another dvc process"
    what = ", ".join(holder.stages) if holder.stages else "no stage yet (reading)"
    return f"Another dvc command runs here ({who}); running: {what}. Statuses are checked once it ends."


def repro_line(run: ReproRun, running: bool) -> str:
    """The last repro started from a dashboard: running (with its pid) or how it ended."""
    if running:
        return f"{run.label}: running (pid {run.pid}, started {run.started})"
    return f"{run.label}: {run.outcome} (started {run.started})"
