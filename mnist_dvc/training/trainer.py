"""Training every seed of one of the assignment's dense networks on MNIST: the `train@<model>`
stage's work.

For each seed it computes what a plain `model.fit(x, y, batch_size=64, shuffle=True,
validation_data=(x_test, y_test))` computes — same model, optimizer, batch size,
a fresh shuffle every epoch, same number of updates, validation on the test set
after every epoch — but fast: the data stays in memory and each epoch runs as
compiled calls (epoch.py), so Python only runs between epochs. The seeds of the
model (`train.seeds`) train together, one epoch of all of them at a time, through
the runner of seeds.py. The shuffle of seed s in epoch k is drawn from `(s, k)`, so
the batch order never depends on what ran before: a run resumed from a checkpoint
replays exactly the epochs an uninterrupted run would, and seed s of a multi-seed
run is the run a single-seed training with `train.seed = s` makes.

Between epochs it logs each seed with DVCLive (`metrics/train/<model>/seed_<s>/`): its
losses, accuracies and its own time (seeds.py says how each seed's time is found), replaces
each seed's `progress.json` (which also keeps the model's wall time), and every
`train.checkpoint_every` epochs, after the last epoch, and on SIGINT or SIGTERM writes a
checkpoint of all seeds that a later `dvc repro` resumes from (or, after the last epoch,
finishes from without training).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import sys
import time

import numpy as np

from mnist_dvc.core.atomic import atomic_path
from mnist_dvc.core.contracts import (
    PREPARED_DIR,
    SERIES_METRICS,
    model_dir,
    model_file,
    progress_file,
    run_dir,
    seed_dir,
)
from mnist_dvc.core.errors import ProjectError, StorageError
from mnist_dvc.core.params import ModelParams, Params
from mnist_dvc.data.prepared import load_split, one_hot
from mnist_dvc.training.checkpoint import Checkpoints, checkpoint_key, loaded_sources, resume_promise
from mnist_dvc.training.model import parameter_count, select_backend
from mnist_dvc.training.model_file import save_model
from mnist_dvc.training.progress import EpochTime, Progress
from mnist_dvc.training.seeds import SeedsRunner, SeedState, seeds_runner

# Test hook: simulate a crash (SIGKILL, no clean-up) right after this epoch is logged and
# checkpointed, or with `end`, right after the finished run's outputs are written (the moment
# before DVC would record the stage).
KILL_AFTER_ENV = "MNIST_TRAIN_KILL_AFTER_EPOCH"
KILL_AT_END = "end"


class TrainingFailed(ProjectError):
    """Training cannot go on (NaN loss, out of memory): progress.json says `failed`."""


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived; the current epoch finished and a checkpoint was written."""

    def __init__(self, signum: int, epoch: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.epoch = epoch


def epoch_permutation(seed: int, epoch: int, n: int) -> np.ndarray:
    """The shuffle of one epoch, a function of (seed, epoch) only."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def _kill_point() -> str:
    return os.environ.get(KILL_AFTER_ENV, "")


class Trainer:
    """One model's run, all its seeds: state between epochs, logging, checkpoints and signals."""

    def __init__(self, params: Params, model: ModelParams) -> None:
        self.params, self.model = params, model
        self.train = params.train
        self.seeds = self.train.seed_list
        self.run_dir = run_dir(model.name)
        self.progress = {seed: Progress(progress_file(model.name, seed), model.name, seed,
                                        self.train.epochs, self.train.backend) for seed in self.seeds}
        self.stop_signal: int | None = None

    def write_progress(self, state: str, error: str | None = None) -> None:
        """The seeds share this process, so they change state together."""
        for progress in self.progress.values():
            progress.write(state, error)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stop_signal is not None:  # a second Ctrl-C: stop now, the last checkpoint stays
            raise KeyboardInterrupt
        self.stop_signal = signum
        print(f"\n{signal.Signals(signum).name}: finishing epoch, then saving a checkpoint", file=sys.stderr)

    def _start(self, checkpoints: Checkpoints) -> tuple[int, dict[int, SeedState] | None]:
        """Lay out the outputs for a fresh run, or restore the latest checkpoint's log and
        progress (no framework needed yet); returns (epochs done, each seed's state or None)."""
        name = self.model.name
        latest = checkpoints.latest()
        # The outputs start empty or as the checkpoint left them, whoever ran before: `dvc repro`
        # empties them, a direct run may find another seed list's files.
        shutil.rmtree(self.run_dir, ignore_errors=True)
        shutil.rmtree(model_dir(name), ignore_errors=True)
        if latest is None:
            return 0, None
        state, seeds, log_dir = Checkpoints.load(latest)
        shutil.copytree(log_dir, self.run_dir)
        start_epoch = state["epoch"]
        for seed, progress in self.progress.items():
            progress.restore(start_epoch, state["progress"][str(seed)])
        if start_epoch == self.train.epochs:
            print(f"{name}: the checkpoint after the last epoch ({start_epoch}/{self.train.epochs}) "
                  f"holds the finished run; writing its outputs without training", file=sys.stderr)
        else:
            so_far = next(iter(self.progress.values())).model_elapsed_s
            print(f"{name}: resuming from the checkpoint after epoch {start_epoch}"
                  f"/{self.train.epochs} ({so_far:.1f} s of training so far)", file=sys.stderr)
        return start_epoch, seeds

    def run(self) -> None:
        x, y = load_split("train")
        x_test, y_test = load_split("test")
        inputs = sorted(PREPARED_DIR.glob("*.npy"))
        key = checkpoint_key(self.params.data, self.train, self.model, inputs, loaded_sources())
        checkpoints = Checkpoints(self.model.name, key)
        checkpoints.discard_stale()
        start_epoch, restored = self._start(checkpoints)
        self.write_progress("running")
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

        select_backend(self.train.backend)
        runner = seeds_runner(self.model, self.train, x, one_hot(y), x_test, one_hot(y_test))
        if restored is not None:
            runner.restore([restored[seed] for seed in self.seeds])
        if start_epoch < self.train.epochs:
            self._train_epochs(runner, checkpoints, start_epoch, len(x))

        for index, seed in enumerate(self.seeds):
            with atomic_path(model_file(self.model.name, seed), suffix=".keras") as tmp_path:
                save_model(runner.model(index), tmp_path)
        self.write_progress("finished")
        if _kill_point() == KILL_AT_END:
            os.kill(os.getpid(), signal.SIGKILL)

    def _train_epochs(self, runner: SeedsRunner, checkpoints: Checkpoints, start_epoch: int, n: int) -> None:
        """Epochs start_epoch+1 .. epochs of every seed, logged and checkpointed."""
        from dvclive import Live

        train, name = self.train, self.model.name
        lives = {}
        for seed in self.seeds:
            live = Live(str(seed_dir(name, seed)), resume=start_epoch > 0, dvcyaml=False, save_dvc_exp=False)
            if start_epoch == 0:
                live.log_params({"model": name, "hidden": list(self.model.hidden),
                                 "activation": self.model.activation, "params": parameter_count(self.model),
                                 "epochs": train.epochs, "batch_size": train.batch_size,
                                 "optimizer": train.optimizer, "learning_rate": train.learning_rate,
                                 "seed": seed, "backend": train.backend})
            lives[seed] = live

        kill_after = _kill_point()
        for epoch in range(start_epoch + 1, train.epochs + 1):
            orders = [epoch_permutation(seed, epoch, n) for seed in self.seeds]
            began = time.perf_counter()
            epochs = runner.epoch(orders)
            model_s = time.perf_counter() - began
            results = {}
            for seed, one in zip(self.seeds, epochs, strict=True):
                (train_loss, train_accuracy), (test_loss, test_accuracy) = one.train, one.test
                metrics = {"train_loss": train_loss, "train_accuracy": train_accuracy,
                           "test_loss": test_loss, "test_accuracy": test_accuracy}
                if not all(math.isfinite(v) for v in metrics.values()):
                    raise TrainingFailed(f"{name} seed {seed}: loss became {train_loss} at epoch {epoch}; "
                                         f"lower train.learning_rate in params.yaml")
                results[seed] = metrics, EpochTime(one.seconds, model_s, runner.timing)
            for seed, (metrics, took) in results.items():
                progress = self.progress[seed]
                progress.record_epoch(epoch, metrics, took)
                live = lives[seed]
                live.step = epoch
                logged = {**metrics, "epoch_s": round(took.seed_s, 4),
                          "train_time_s": round(progress.elapsed_s, 4)}
                for column, metric in SERIES_METRICS.items():
                    live.log_metric(metric, float(logged[column]))
                live.make_summary()
                progress.write("running")
            # After the last epoch too: that checkpoint is the finished run, so a kill from here
            # until DVC records the stage costs no training (checkpoint.py).
            if self.stop_signal is not None or epoch % train.checkpoint_every == 0 or epoch == train.epochs:
                self._save_checkpoint(checkpoints, runner, epoch)
            if self.stop_signal is not None:
                raise StopRequested(self.stop_signal, epoch)
            if kill_after == str(epoch):
                os.kill(os.getpid(), signal.SIGKILL)
        for live in lives.values():
            live.end()

    def _save_checkpoint(self, checkpoints: Checkpoints, runner: SeedsRunner, epoch: int) -> None:
        snapshots = {str(seed): progress.snapshot() for seed, progress in self.progress.items()}
        checkpoints.save(epoch, dict(zip(self.seeds, runner.state(), strict=True)), {"progress": snapshots},
                         self.run_dir)


def _out_of_memory(model: str) -> str:
    return f"{model}: out of memory; lower train.batch_size or the widths in models.{model}.hidden"


def train_model(params: Params, model: ModelParams) -> dict[int, Progress]:
    """Run `Trainer` and make every seed's progress.json say how it ended, whatever happens.

    Returns the finished run's progress per seed; raises StopRequested (a checkpoint was
    written), TrainingFailed (one line: NaN loss, out of memory) or the project error that
    stopped it.
    """
    trainer = Trainer(params, model)
    try:
        trainer.run()
    except StopRequested as stop:
        trainer.write_progress("interrupted",
                               f"stopped by {stop}; {resume_promise(stop.epoch)}")
        raise
    except KeyboardInterrupt:
        trainer.write_progress("interrupted",
                               "stopped by a second interrupt; resumes from the last checkpoint")
        raise
    except ProjectError as exc:
        _say_failed(trainer, str(exc))
        raise
    except OSError as exc:  # a full disk, a read-only or unwritable output folder
        message = f"{model.name}: {StorageError(exc)}"
        _say_failed(trainer, message)
        raise TrainingFailed(message) from None
    except MemoryError:
        _say_failed(trainer, _out_of_memory(model.name))
        raise TrainingFailed(_out_of_memory(model.name)) from None
    except Exception as exc:
        if type(exc).__name__ != "ResourceExhaustedError":  # TensorFlow's out-of-memory error
            _say_failed(trainer, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            raise
        _say_failed(trainer, _out_of_memory(model.name))
        raise TrainingFailed(_out_of_memory(model.name)) from None
    return trainer.progress


def _say_failed(trainer: Trainer, message: str) -> None:
    """progress.json says `failed` and why if its folder can still be written at all; if not, the
    dashboard's check of the dead pid tells the rest, and the stage's own line is what counts."""
    with contextlib.suppress(OSError):
        trainer.write_progress("failed", message)
