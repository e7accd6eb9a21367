"""`python -m tui`: open the dashboard; `--once` prints its Training and Compare screens
as plain text and exits, for scripts and CI logs (Textual is not even imported then)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.data import DataSource
from tui.report import summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tui",
        description="Dashboard of the MNIST pipeline: live training, comparison, backprop, pipeline.",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="project folder holding params.yaml and dvc.yaml (default: current folder)")
    parser.add_argument("--once", action="store_true",
                        help="print a plain-text summary of the Training and Compare screens and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    if not (root / "params.yaml").is_file():
        print(f"error: {root}: no params.yaml here; run from the project root or pass --root DIR",
              file=sys.stderr)
        return 2
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
