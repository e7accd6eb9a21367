"""`python -m tui`: open the dashboard; `--once` prints its Training and Compare screens
as plain text and exits, for scripts and CI logs (Textual is not even imported then);
`--once --errors MODEL` prints that model's top confusions and first misclassified digits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mnist_dvc.core.errors import ProjectError
from tui.data import DataSource
from tui.report import errors_report, summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tui",
        description="Dashboard of the MNIST pipeline: live training, comparison, backprop, pipeline.",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="project folder holding params.yaml and dvc.yaml (default: current folder)")
    parser.add_argument("--once", action="store_true",
                        help="print a plain-text summary of the Training and Compare screens and exit")
    parser.add_argument("--errors", metavar="MODEL",
                        help="with --once: print MODEL's top confusions and first misclassified digits")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="with --errors: the seed whose predictions to read (default: the first on disk)")
    args = parser.parse_args(argv)
    if args.errors is None and args.seed is not None:
        parser.error("--seed goes with --errors MODEL")
    if args.errors is not None and not args.once:
        parser.error("--errors MODEL goes with --once")
    return args


def print_errors(root: Path, model: str, seed: int | None) -> int:
    """The --once --errors report, or one `error:` line (exit 2) when there is nothing to report."""
    from tui.errors_data import load_once

    source = DataSource(root)
    source.poll()
    known = [run.name for run in source.snapshot.runs]
    if model not in known:
        has = ", ".join(known) or "none"
        print(f"error: no model {model!r} in this project; it has {has}", file=sys.stderr)
        return 2
    try:
        where, errors, images, problem = load_once(root, model, seed)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(errors_report(model, where.seed, str(where.path), errors,
                                   images.x if images is not None else None, problem))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    if not (root / "params.yaml").is_file():
        print(f"error: {root}: no params.yaml here; run from the project root or pass --root DIR",
              file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    sys.exit(main())
