"""What the Training tab says, as plain data and text: each model's state, progress, metrics
and seeds. The tab's panels style these lines; `python -m tui --once` prints them as they are,
so a CI log and the dashboard can never disagree. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass

from mnist_dvc.analysis.formats import duration, loss, pct
from mnist_dvc.core.contracts import STACK_SHARE
from tui.ground.runs import Run
from tui.ground.snapshot import COMMITTED_RUN, WAITING, Dashboard, ModelRun, SeedRun
from tui.ground.text import architecture

METRICS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss")
METRIC_LABELS = {
    "train_accuracy": "train accuracy",
    "test_accuracy": "test accuracy",
    "train_loss": "train loss",
    "test_loss": "test loss",
}
START_HINT = (
    "No training run yet. Start one with `dvc repro` in the project folder, "
    "or press 4 and then r to run it from the Pipeline tab."
)
COMMITTED_LABEL = "the committed run"
COMMITTED_HINT = (
    "Showing the committed run, not a live one: this clone has no training log (metrics/train/ is a "
    "DVC output, not in git), so these are the per-epoch numbers evaluate committed in reports/history/. "
    "`dvc repro` trains again and shows it live."
)


def training_hint(data: Dashboard) -> str | None:
    """The line above the panels: how to start a run, or that a model shows the committed run."""
    if not data.has_training:
        return START_HINT
    return COMMITTED_HINT if data.committed else None


def run_title(run: ModelRun) -> str:
    seeds = f"  {len(run.seeds)} seeds" if len(run.seeds) > 1 else ""
    return f"{run.name}  {architecture(run.spec)}{seeds}"


def status_text(run: ModelRun | SeedRun) -> str:
    if run.status == WAITING and not run.reason:
        return "waiting: not started yet"
    if run.status == COMMITTED_RUN:
        return COMMITTED_LABEL
    return f"{run.status}: {run.reason}" if run.reason else run.status


Metrics = dict[str, tuple[float | None, float | None]]


def seed_metrics(seed: SeedRun) -> Metrics:
    """metric -> (latest, best) of one seed; from progress.json, else from the per-epoch log."""
    result: Metrics = {}
    history = seed.history
    for metric in METRICS:
        pick = min if metric.endswith("loss") else max
        if seed.progress is not None and seed.progress.epoch > 0:
            result[metric] = (getattr(seed.progress.last, metric), getattr(seed.progress.best, metric))
        elif len(history):
            column = getattr(history, metric)
            result[metric] = (column[-1], pick(column))
        else:
            result[metric] = (None, None)
    return result


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


def run_metrics(run: ModelRun) -> Metrics:
    """metric -> (latest, best), each the mean over the seeds that have it."""
    per_seed = [seed_metrics(seed) for seed in run.seeds]
    return {metric: (_mean([m[metric][0] for m in per_seed]), _mean([m[metric][1] for m in per_seed]))
            for metric in METRICS}


def best_spread(run: ModelRun, metric: str) -> tuple[float, float] | None:
    """The lowest and highest seed's best value of a metric, when two or more seeds have one."""
    bests = [best for seed in run.seeds if (best := seed_metrics(seed)[metric][1]) is not None]
    return (min(bests), max(bests)) if len(bests) > 1 else None


@dataclass(frozen=True)
class MetricRow:
    """One metric of a run: its latest and best values, and where the best test accuracy was
    (one seed) or how far the seeds' best values spread (several)."""

    label: str
    latest: str
    best: str
    note: str


def metric_rows(run: ModelRun) -> list[MetricRow]:
    metrics = run_metrics(run)
    rows = []
    for metric in METRICS:
        last, best = metrics[metric]
        number = loss if metric.endswith("loss") else pct
        note = ""
        if len(run.seeds) > 1:
            spread = best_spread(run, metric)
            note = f"{number(spread[0])}–{number(spread[1])}" if spread else ""
        elif metric == "test_accuracy" and best is not None:
            at = best_test_epoch(run.seeds[0])
            note = f"at epoch {at}" if at is not None else ""
        rows.append(MetricRow(METRIC_LABELS[metric], number(last), number(best), note))
    return rows


def metrics_heading(run: ModelRun) -> str:
    """What the columns of `metric_rows` are: the seeds' means and spread when there are several."""
    if len(run.seeds) > 1:
        return f"{f'mean of {len(run.seeds)} seeds':<15} {'latest':>8} {'best':>8}  best: lowest–highest seed"
    return f"{'':<15} {'latest':>8} {'best':>8}"


def best_test_epoch(seed: SeedRun) -> int | None:
    if seed.progress is not None and seed.progress.best.test_accuracy_epoch is not None:
        return seed.progress.best.test_accuracy_epoch
    history = seed.history
    if not len(history):
        return None
    top = max(range(len(history)), key=lambda i: history.test_accuracy[i])
    return history.epoch[top]


def progress_line(run: ModelRun) -> str:
    """Epochs done and the times: no clock is read here, only what the run wrote: with several seeds
    the model's wall time for all of them, then the furthest seed's own elapsed time and last epoch
    (its share of a stacked epoch, as its progress.json's `timing` says; files written before seeds
    were timed on their own hold the model's times)."""
    parts = [f"epoch {run.epochs_done}/{run.epochs_total}"]
    lead = max(run.seeds, key=lambda seed: (seed.progress is not None, seed.epochs_done), default=None)
    progress = lead.progress if lead else None
    history = lead.history if lead else run.history
    elapsed = progress.elapsed_s if progress else (history.train_time_s or [None])[-1]
    epoch_s = progress.epoch_s if progress else (history.epoch_s or [None])[-1]
    together = progress.model_elapsed_s if progress else None
    if together is not None and len(run.seeds) > 1:
        # several seeds: the model's wall time, then the furthest seed's own (or its stack share)
        parts.append(f"elapsed {duration(together)} for {len(run.seeds)} seeds")
        if elapsed is not None and lead is not None:
            share = ", stack share" if progress.timing == STACK_SHARE else ""
            parts.append(f"seed {lead.seed} {duration(elapsed)}{share}")
    elif elapsed is not None and progress is None and lead is not None and len(run.seeds) > 1:
        # a committed run: the furthest seed's own time, or its share of the stack's
        share = ", stack share" if lead.timing == STACK_SHARE else ""
        parts.append(f"seed {lead.seed} {duration(elapsed)}{share}")
    elif elapsed is not None:
        parts.append(f"elapsed {duration(elapsed)}")
    if progress is not None and progress.state == "running" and run.status == "running":
        parts.append(f"ETA {duration(progress.eta_s)}" if progress.eta_s is not None else "ETA after epoch 1")
    if epoch_s is not None:
        parts.append(f"last epoch {duration(epoch_s)}")
    if progress is not None and progress.backend:
        parts.append(progress.backend)
    return " · ".join(parts)


@dataclass(frozen=True)
class SeedLine:
    """One seed's state in a model with several: status word, epochs, best test accuracy, reason."""

    seed: str
    status: str
    epochs: str
    best: str
    reason: str

    def text(self) -> str:
        parts = (self.seed, self.status, self.epochs, self.best, self.reason)
        return "  ".join(part for part in parts if part)


def seed_lines(run: ModelRun) -> list[SeedLine]:
    """Per seed, aligned in columns; none for a one-seed model (its panel says it all)."""
    if len(run.seeds) < 2:
        return []
    seed_width = max(len(str(seed.seed)) for seed in run.seeds)
    status_width = max(len(seed.status) for seed in run.seeds)
    done_width = len(str(run.epochs_total))
    lines = []
    for seed in run.seeds:
        best = seed_metrics(seed)["test_accuracy"][1]
        at = best_test_epoch(seed)
        lines.append(SeedLine(
            seed=f"seed {seed.seed:<{seed_width}}",
            status=f"{seed.status:<{status_width}}",
            epochs=f"epoch {seed.epochs_done:>{done_width}}/{seed.epochs_total}",
            best=f"best test {pct(best)} at epoch {at}" if best is not None and at is not None else "",
            reason=seed.reason if seed.reason and seed.reason != run.reason else "",  # said once above
        ))
    return lines


def training_lines(data: Dashboard) -> list[str]:
    lines = ["TRAINING"]
    if not data.runs:
        return [*lines, "  no models in params.yaml"]
    hint = training_hint(data)
    if hint:
        lines.append(f"  {hint}")
    width = max(len(run.name) for run in data.runs)
    for run in data.runs:
        seeds = f"  {len(run.seeds)} seeds" if len(run.seeds) > 1 else ""
        lines.append(f"  {run.name:<{width}}  {architecture(run.spec)}{seeds}  {status_text(run)}")
        lines.append(f"  {'':<{width}}  {progress_line(run)}")
        if run_metrics(run)["test_accuracy"][0] is not None:
            several = len(run.seeds) > 1
            cells = [f"mean {row.label} {row.latest} (best {row.best}, seeds {row.note})" if several
                     else f"{row.label} {row.latest} (best {row.best})" for row in metric_rows(run)]
            lines.append(f"  {'':<{width}}  " + ", ".join(cells[:2]))
            lines.append(f"  {'':<{width}}  " + ", ".join(cells[2:]))
        lines += [f"  {'':<{width}}  {line.text()}" for line in seed_lines(run)]
    return lines


def following_line(run: Run) -> str:
    """The Training tab's note while it follows an experiment outside the workspace."""
    return (f"Following experiment {run.name}, running in {run.folder} (a queue worker's copy). "
            "Move the cursor on the Experiments tab (5) to another run to see the workspace again.")
