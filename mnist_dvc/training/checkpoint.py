"""Resumable training checkpoints, kept outside DVC's view.

A checkpoint lives in `.checkpoints/<model>/<key>/epoch-NNNNN/` (git-ignored,
not a declared output): declaring it `persist: true` or `cache: false` would
switch off DVC's run-cache for the stage. It holds every seed of the model: each
seed's weights and optimizer variables, the training log folder of all seeds, and
what the progress files must remember. `<key>` hashes everything the stage
depends on (its params, the prepared data, the training code), so a changed
param, data or code never resumes a stale run. A checkpoint directory is
assembled under a temporary name and renamed into place, so the newest
`epoch-*` directory is always complete, even after a SIGKILL.

The checkpoint written after the last epoch is the finished run itself: it stays
after the run, so a run killed after its last epoch but before DVC recorded the
stage finishes from it at once on the next `dvc repro` instead of training again.
It goes when the model's next run has another key (`discard_stale`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mnist_dvc.core.params import TRAIN_RESULT_KEYS, DataParams, ModelParams, TrainParams
from mnist_dvc.training.seeds import SeedState

CHECKPOINT_ROOT = Path(".checkpoints")
STATE_FILE = "state.json"
ARRAYS_FILE = "arrays.npz"
LOG_DIR = "log"


# The folder holding the project's packages: code outside it (Keras, numpy) is pinned by the venv.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("mnist_dvc", "stages")


def resume_promise(epoch: int, here: Path | None = None) -> str:
    """What a stopped run may promise about its checkpoint. DVC's queue (and `dvc exp run --temp`)
    trains in a copy under `.dvc/tmp/exps/` that DVC deletes when the experiment ends, checkpoint
    and all, so only a run in the workspace can say that `dvc repro` resumes it."""
    parts = (here or Path.cwd()).resolve().parts
    in_temp_copy = any(parts[i:i + 3] == (".dvc", "tmp", "exps") for i in range(len(parts)))
    if in_temp_copy:
        return ("it ran in DVC's temporary copy, which DVC deletes with its checkpoint: "
                "the experiment run again starts from epoch 1")
    return f"checkpoint saved, `dvc repro` resumes from epoch {epoch + 1}"


def loaded_sources() -> list[Path]:
    """The project's source files this process has imported (the entry script too).

    The train stage runs as a fresh `python -m stages.train`, so this is exactly the
    import closure that dvc.yaml lists as the stage's code deps.
    """
    roots = [PROJECT_ROOT / package for package in PROJECT_PACKAGES]
    files = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and any(root in Path(file).resolve().parents for root in roots):
            files.add(Path(file).resolve())
    return sorted(files)


def _hash_file(digest: hashlib._Hash, path: Path) -> None:
    digest.update(path.name.encode())
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)


def checkpoint_key(
    data: DataParams, train: TrainParams, model: ModelParams, inputs: list[Path], code: list[Path]
) -> str:
    """A digest of the params that change results, data files and code: equal keys mean resuming
    is exact."""
    digest = hashlib.sha256()
    result_params = {key: value for key, value in asdict(train).items() if key in TRAIN_RESULT_KEYS}
    config = {"data": asdict(data), "train": result_params, "model": asdict(model)}
    digest.update(json.dumps(config, sort_keys=True).encode())
    for path in [*inputs, *code]:
        _hash_file(digest, path)
    return digest.hexdigest()[:16]


class Checkpoints:
    """The checkpoints of one model's run with one key."""

    def __init__(self, model: str, key: str, root: Path = CHECKPOINT_ROOT) -> None:
        self.model_dir = root / model
        self.dir = self.model_dir / key

    def discard_stale(self) -> None:
        """Remove this model's checkpoints made for other params, data or code."""
        if self.model_dir.is_dir():
            for other in self.model_dir.iterdir():
                if other != self.dir:
                    shutil.rmtree(other, ignore_errors=True)

    def latest(self) -> Path | None:
        if not self.dir.is_dir():
            return None
        complete = sorted(p for p in self.dir.iterdir() if p.name.startswith("epoch-"))
        return complete[-1] if complete else None

    def save(self, epoch: int, seeds: dict[int, SeedState], state: dict, log_dir: Path) -> Path:
        """Write one checkpoint of every seed atomically, then drop the older ones."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.dir))
        try:
            arrays = {}
            for seed, seed_state in seeds.items():
                arrays.update({f"s{seed}_w{i}": w for i, w in enumerate(seed_state.weights)})
                arrays.update({f"s{seed}_o{i}": v for i, v in enumerate(seed_state.optimizer)})
            np.savez(tmp / ARRAYS_FILE, **arrays)
            counts = {str(seed): [len(s.weights), len(s.optimizer)] for seed, s in seeds.items()}
            (tmp / STATE_FILE).write_text(json.dumps({**state, "epoch": epoch, "arrays": counts}))
            shutil.copytree(log_dir, tmp / LOG_DIR)
            final = self.dir / f"epoch-{epoch:05d}"
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for older in self.dir.iterdir():
            if older != final:
                shutil.rmtree(older, ignore_errors=True)
        return final

    @staticmethod
    def load(path: Path) -> tuple[dict, dict[int, SeedState], Path]:
        """(state, seed -> its weights and optimizer variables, saved log dir) of a checkpoint."""
        state = json.loads((path / STATE_FILE).read_text())
        seeds = {}
        with np.load(path / ARRAYS_FILE) as arrays:
            for seed, (n_weights, n_optimizer) in state["arrays"].items():
                seeds[int(seed)] = SeedState([arrays[f"s{seed}_w{i}"] for i in range(n_weights)],
                                             [arrays[f"s{seed}_o{i}"] for i in range(n_optimizer)])
        return state, seeds, path / LOG_DIR
