"""Stage `train@<model>`: train one of the assignment's dense networks on MNIST.

    python -m stages.train model_a

Each epoch runs as one compiled call; every epoch is logged with DVCLive into
metrics/train/<model>/ with a live progress.json, and an interrupted run resumes
from its checkpoint on the next `dvc repro` (mnist_dvc/training/trainer.py).
"""

from __future__ import annotations

import argparse
import sys

from mnist_dvc.core.params import ParamsError, load_params
from mnist_dvc.training.trainer import StopRequested, record_params_failure, train_model
from stages.cli import run_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stages.train", description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model name from params.yaml `models` (e.g. model_a)")
    args = parser.parse_args(argv)
    try:
        params = load_params()
        model = params.model(args.model)
    except ParamsError as exc:
        record_params_failure(args.model, exc)
        raise
    try:
        progress = train_model(params, model)
    except StopRequested as stop:
        print(f"{args.model}: interrupted after epoch {stop.epoch}; checkpoint saved, `dvc repro` resumes",
              file=sys.stderr)
        return 128 + stop.signum
    print(f"{args.model}: {progress.epochs} epochs in {progress.elapsed_s:.1f} s, "
          f"final test accuracy {progress.last['test_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    run_stage(main)
