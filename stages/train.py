"""Stage `train@<model>`: train every seed of one of the assignment's dense networks on MNIST.

    python -m stages.train model_a

The seeds (`train.seeds`) train together, an epoch of all of them at a time, each epoch
as compiled calls; every epoch of seed s is logged with DVCLive into
metrics/train/<model>/seed_<s>/ with a live progress.json, the trained networks go to
models/<model>/seed_<s>.keras, and an interrupted run resumes from its checkpoint on the
next `dvc repro` (mnist_dvc/training/trainer.py).
"""

from __future__ import annotations

import argparse
import sys

from mnist_dvc.core.params import load_params
from mnist_dvc.training.checkpoint import resume_promise
from mnist_dvc.training.trainer import StopRequested, train_model
from stages.cli import run_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stages.train", description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model name from params.yaml `models` (e.g. model_a)")
    args = parser.parse_args(argv)
    # A bad params.yaml stops here in one line, before any seed's folder is touched; the
    # dashboard reports the same problem from its own check of params.yaml.
    params = load_params()
    model = params.model(args.model)
    try:
        progress = train_model(params, model)
    except StopRequested as stop:
        print(f"{args.model}: interrupted after epoch {stop.epoch}; {resume_promise(stop.epoch)}",
              file=sys.stderr)
        return 128 + stop.signum
    first = next(iter(progress.values()))
    accuracies = ", ".join(f"seed {seed} {p.last['test_accuracy']:.4f}" for seed, p in progress.items())
    print(f"{args.model}: {first.epochs} epochs of {len(progress)} seed(s) in {first.model_elapsed_s:.1f} s; "
          f"final test accuracy {accuracies}")
    return 0


if __name__ == "__main__":
    run_stage(main)
