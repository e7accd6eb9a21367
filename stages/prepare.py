"""Stage `prepare`: verified IDX files -> normalized arrays the trainers memory-map.

    python -m stages.prepare

It depends on data/raw and the `data` params only, so changing a training param never
re-runs it. The work is in mnist_dvc/data/normalize.py.
"""

from __future__ import annotations

from mnist_dvc.core.contracts import PREPARED_DIR
from mnist_dvc.core.params import load_params
from mnist_dvc.data.normalize import prepare
from stages.cli import run_stage


def main() -> int:
    params = load_params()
    report = prepare(params.data)
    print(f"prepared {report.train.count} training and {report.test.count} test images "
          f"({params.data.normalize}) in {PREPARED_DIR}")
    return 0


if __name__ == "__main__":
    run_stage(main)
