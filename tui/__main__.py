"""`python -m tui`: open the dashboard; `--once` prints its Training and Compare screens
as plain text and exits, for scripts and CI logs (Textual is not even imported then);
`--once --experiments` prints the Experiments table instead (`--format md` for a pull
request, `csv` for a spreadsheet), or with `--vs PARAM` a criterion of every finished run
against that param, mean and 95% CI over its seeds (text or csv); `--once --errors MODEL`
prints that model's top confusions and first misclassified digits."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from mnist_dvc.core.errors import ProjectError
from tui.compare.text import compare_lines
from tui.experiments.collect import ExperimentsError, collect
from tui.experiments.table import FORMATS, TEXT, export, summary_line
from tui.ground.runs import RUNNING, WORKSPACE, training_now
from tui.ground.snapshot import Dashboard, DataSource
from tui.training.text import training_lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tui",
        description="Dashboard of the MNIST pipeline: live training, comparison, backprop, pipeline.",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="project folder holding params.yaml and dvc.yaml (default: current folder)")
    parser.add_argument("--once", action="store_true",
                        help="print a plain-text summary of the Training and Compare screens and exit")
    parser.add_argument("--experiments", action="store_true",
                        help="with --once: print the Experiments table (every run, its metrics, the params "
                             "that differ) instead")
    parser.add_argument("--format", choices=FORMATS, default=TEXT,
                        help="with --experiments: text (aligned columns), md (a Markdown table) or csv")
    parser.add_argument("--all", action="store_true", dest="everything",
                        help="with --experiments: every column (the params and metrics equal in every run "
                             "too), however wide; by default the text fits 120 columns")
    parser.add_argument("--vs", metavar="PARAM",
                        help="with --experiments: a criterion of every finished run against this numeric "
                             "param (e.g. train.learning_rate): per model and run the mean over its seeds, "
                             "the 95%% CI and each seed's value, from each run's reports/comparison.json")
    parser.add_argument("--criterion", default="final_test_accuracy", metavar="KEY",
                        help="with --vs: best_test_accuracy, final_test_accuracy (default), min_test_loss or "
                             "generalization_gap")
    parser.add_argument("--errors", metavar="MODEL",
                        help="with --once: print MODEL's top confusions and first misclassified digits")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="with --errors: the seed whose predictions to read (default: the first on disk)")
    args = parser.parse_args(argv)
    if (args.experiments or args.format != TEXT or args.everything) and not args.once:
        parser.error("--experiments, --format and --all go with --once")
    if (args.format != TEXT or args.everything) and not args.experiments:
        parser.error("--format and --all go with --experiments")
    if args.vs is not None and not args.experiments:
        parser.error("--vs PARAM goes with --once --experiments")
    if args.vs is not None and args.format == "md":
        parser.error("--vs writes text or csv")
    if args.criterion != "final_test_accuracy" and args.vs is None:
        parser.error("--criterion goes with --vs PARAM")
    if args.errors is None and args.seed is not None:
        parser.error("--seed goes with --errors MODEL")
    if args.errors is not None and not args.once:
        parser.error("--errors MODEL goes with --once")
    if args.errors is not None and args.experiments:
        parser.error("--errors and --experiments are two reports: choose one")
    return args


def summary(data: Dashboard) -> str:
    """The plain-text `--once` report: the Training tab's lines, then Compare's, then any warnings."""
    lines = [*training_lines(data), "", *compare_lines(data)]
    if data.warnings:
        lines += ["", *(f"warning: {warning}" for warning in data.warnings)]
    return "\n".join(lines) + "\n"


def print_errors(root: Path, model: str, seed: int | None) -> int:
    """The --once --errors report, or one `error:` line (exit 2) when there is nothing to report."""
    from tui.errors.data import load_once
    from tui.errors.text import errors_report

    source = DataSource(root)
    source.poll()
    known = [run.name for run in source.snapshot.runs]
    if model not in known:
        has = ", ".join(known) or "none"
        print(f"error: no model {model!r} in this project; it has {has}", file=sys.stderr)
        return 2
    params = source.snapshot.params
    planned = params.train.seed_list if params else ()
    try:
        where, errors, images, problem = load_once(root, model, seed, planned)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(errors_report(model, str(where.path), errors,
                                   images.x if images is not None else None, problem))
    return 0


# A shell's exit status for a writer stopped by a closed pipe (128 + SIGPIPE).
CLOSED_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    """The dashboard, or a report; a report piped into a reader that stops early (`| head -3`)
    ends quietly with the status a shell gives a command stopped by its closed pipe."""
    try:
        code = run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would flush stdout again at exit and fail once more: point it at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    return code


def run(argv: list[str] | None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    if not (root / "params.yaml").is_file():
        print(f"error: {root}: no params.yaml here; run from the project root or pass --root DIR",
              file=sys.stderr)
        return 2
    if args.once and args.experiments and args.vs is not None:
        return print_vs(root, args.vs, args.criterion, args.format)
    if args.once and args.experiments:
        return print_experiments(root, args.format, args.everything)
    if args.errors is not None:
        return print_errors(root, args.errors, args.seed)
    if args.once:
        source = DataSource(root)
        source.poll()
        sys.stdout.write(summary(source.snapshot))
        return 0
    from tui.app import DashboardApp

    DashboardApp(root).run()
    return 0


# The text table's width by default: a terminal beside another, a CI log, a pull request's code block.
REPORT_WIDTH = 120


def print_experiments(root: Path, fmt: str, everything: bool) -> int:
    """The Experiments table, collected with DVC's Python API in this process."""
    try:
        table = collect(root)
    except ExperimentsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if training_now(root):  # DVC says "done" for the workspace; a training in it says otherwise
        table = replace(table, runs=tuple(replace(run, state=RUNNING) if run.kind == WORKSPACE else run
                                          for run in table.runs))
    sys.stdout.write(export(table, fmt, everything, width=None if everything else REPORT_WIDTH))
    for warning in table.warnings:  # on stderr: a Markdown or CSV export stays valid
        print(f"warning: {warning}", file=sys.stderr)
    if fmt == TEXT:
        sys.stdout.write(summary_line(table, len(table.runs), 0) + "\n")
    from tui.experiments.sweeps.rows import once as sweeps_once

    sys.stdout.write(sweeps_once(root, fmt))  # every sweep's points (text or md), after the runs
    return 0


def print_vs(root: Path, param: str, criterion: str, fmt: str) -> int:
    """`--vs PARAM`: every finished run's criterion against the param, from its comparison.json."""
    from mnist_dvc.analysis.vs_param import vs_csv, vs_text
    from tui.experiments.between import CRITERIA, vs_of, vs_runs
    from tui.ground.runs import RunFiles

    if criterion not in CRITERIA:
        print(f"error: --criterion {criterion!r}: one of {', '.join(CRITERIA)}", file=sys.stderr)
        return 2
    try:
        table = collect(root)
    except ExperimentsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runs, values, skipped = vs_runs(RunFiles(root), table.runs)
    runs = [run for run in runs if param in run.params]
    if not runs:
        print(f"error: no finished run with a reports/comparison.json has the param {param!r}",
              file=sys.stderr)
        return 2
    found, problem = vs_of(runs, values, criterion, param)
    if found is None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    for line in skipped:
        print(f"skipped: {line}", file=sys.stderr)
    sys.stdout.write(vs_csv(found) if fmt == "csv" else vs_text(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
