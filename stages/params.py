"""`python -m stages.params`: check params.yaml and say so (every stage runs the same check first)."""

from __future__ import annotations

from mnist_dvc.core.params import load_params
from stages.cli import run_stage


def main() -> int:
    params = load_params()
    print(f"params.yaml is valid: models {', '.join(params.models)}, {params.train.epochs} epochs")
    return 0


if __name__ == "__main__":
    run_stage(main)
