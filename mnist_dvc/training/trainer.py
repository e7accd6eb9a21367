"""Training one of the assignment's dense networks on MNIST: the `train@<model>` stage's work.

It computes what a plain `model.fit(x, y, batch_size=64, shuffle=True,
validation_data=(x_test, y_test))` computes — same model, optimizer, batch size,
a fresh shuffle every epoch, same number of updates, validation on the test set
after every epoch — but fast: the data stays in memory and each epoch runs as
one compiled call (epoch.py), so Python only runs between epochs. The
shuffle of epoch k is drawn from `(seed, k)`, so the batch order of epoch k
never depends on what ran before: a run resumed from a checkpoint replays
exactly the epochs an uninterrupted run would.

Between epochs it logs with DVCLive (`metrics/train/<model>/`), replaces
`progress.json`, and every `train.checkpoint_every` epochs (and on SIGINT or
SIGTERM) writes a checkpoint that a later `dvc repro` resumes from.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import sys
import time

import numpy as np

from mnist_dvc.core.atomic import atomic_path
from mnist_dvc.core.contracts import PREPARED_DIR, SERIES_METRICS, model_file, progress_file, run_dir
from mnist_dvc.core.errors import ProjectError
from mnist_dvc.core.params import ModelParams, Params, ParamsError
from mnist_dvc.data.prepared import load_split, one_hot
from mnist_dvc.training.checkpoint import Checkpoints, checkpoint_key, loaded_sources
from mnist_dvc.training.epoch import epoch_runner
from mnist_dvc.training.model import build_model, compile_model, parameter_count, select_backend
from mnist_dvc.training.progress import Progress

# Test hook: simulate a crash (SIGKILL, no clean-up) right after this epoch is logged.
KILL_AFTER_ENV = "MNIST_TRAIN_KILL_AFTER_EPOCH"


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


class Trainer:
    """One model's run: state between epochs, logging, checkpoints and signals."""

    def __init__(self, params: Params, model: ModelParams) -> None:
        self.params, self.model = params, model
        self.train = params.train
        self.run_dir = run_dir(model.name)
        self.model_path = model_file(model.name, params.train.seed)
        self.progress = Progress(progress_file(model.name), model.name,
                                 self.train.epochs, self.train.backend)
        self.stop_signal: int | None = None

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stop_signal is not None:  # a second Ctrl-C: stop now, the last checkpoint stays
            raise KeyboardInterrupt
        self.stop_signal = signum
        print(f"\n{signal.Signals(signum).name}: finishing epoch, then saving a checkpoint", file=sys.stderr)

    def run(self) -> None:
        x, y = load_split("train")
        x_test, y_test = load_split("test")
        inputs = sorted(PREPARED_DIR.glob("*.npy"))
        key = checkpoint_key(self.params.data, self.train, self.model, inputs, loaded_sources())
        checkpoints = Checkpoints(self.model.name, key)
        checkpoints.discard_stale()
        self.progress.write("running")
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

        select_backend(self.train.backend)
        import keras
        from dvclive import Live

        keras.utils.set_random_seed(self.train.seed)
        net = build_model(self.model, self.train)
        compile_model(net, self.train)
        runner = epoch_runner(net, self.train.loss, self.train.batch_size, x, one_hot(y),
                              x_test, one_hot(y_test))

        start_epoch, elapsed = 0, 0.0
        latest = checkpoints.latest()
        if latest is not None:
            state, weights, opt_vars, log_dir = Checkpoints.load(latest)
            net.set_weights(weights)
            for variable, value in zip(net.optimizer.variables, opt_vars, strict=True):
                variable.assign(value)
            start_epoch, elapsed = state["epoch"], state["train_time_s"]
            self.progress.restore(start_epoch, elapsed, state["progress"])
            shutil.rmtree(self.run_dir, ignore_errors=True)
            shutil.copytree(log_dir, self.run_dir)
            print(f"{self.model.name}: resuming from the checkpoint after epoch {start_epoch}"
                  f"/{self.train.epochs} ({elapsed:.1f} s of training so far)", file=sys.stderr)
        self.progress.write("running")

        live = Live(str(self.run_dir), resume=start_epoch > 0, dvcyaml=False, save_dvc_exp=False)
        if start_epoch == 0:
            live.log_params({"model": self.model.name, "hidden": list(self.model.hidden),
                             "activation": self.model.activation, "params": parameter_count(self.model),
                             "epochs": self.train.epochs, "batch_size": self.train.batch_size,
                             "optimizer": self.train.optimizer, "learning_rate": self.train.learning_rate,
                             "seed": self.train.seed, "backend": self.train.backend})

        def save_checkpoint(epoch: int) -> None:
            checkpoints.save(epoch, net.get_weights(), [np.asarray(v) for v in net.optimizer.variables],
                             {"train_time_s": elapsed, "progress": self.progress.snapshot()}, self.run_dir)

        kill_after = int(os.environ.get(KILL_AFTER_ENV, "0"))
        for epoch in range(start_epoch + 1, self.train.epochs + 1):
            order = epoch_permutation(self.train.seed, epoch, len(x))
            began = time.perf_counter()
            train_loss, train_accuracy = runner.train(order)
            test_loss, test_accuracy = runner.evaluate()
            epoch_s = time.perf_counter() - began
            elapsed += epoch_s
            metrics = {"train_loss": train_loss, "train_accuracy": train_accuracy,
                       "test_loss": test_loss, "test_accuracy": test_accuracy}
            if not all(math.isfinite(v) for v in metrics.values()):
                raise TrainingFailed(f"{self.model.name}: loss became {metrics['train_loss']} at epoch "
                                     f"{epoch}; lower train.learning_rate in params.yaml")
            live.step = epoch
            logged = {**metrics, "epoch_s": round(epoch_s, 4), "train_time_s": round(elapsed, 4)}
            for column, name in SERIES_METRICS.items():
                live.log_metric(name, float(logged[column]))
            live.make_summary()
            self.progress.record_epoch(epoch, epoch_s, elapsed, metrics)
            self.progress.write("running")
            if self.stop_signal is not None:
                save_checkpoint(epoch)
                raise StopRequested(self.stop_signal, epoch)
            if epoch % self.train.checkpoint_every == 0 and epoch < self.train.epochs:
                save_checkpoint(epoch)
            if epoch == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

        live.end()
        with atomic_path(self.model_path, suffix=".keras") as tmp_path:
            net.save(tmp_path)
        self.progress.write("finished")
        checkpoints.clear()


def _out_of_memory(model: str) -> str:
    return f"{model}: out of memory; lower train.batch_size or the widths in models.{model}.hidden"


def train_model(params: Params, model: ModelParams) -> Progress:
    """Run `Trainer` and make progress.json say how it ended, whatever happens.

    Returns the finished run's progress; raises StopRequested (a checkpoint was written),
    TrainingFailed (one line: NaN loss, out of memory) or the project error that stopped it.
    """
    trainer = Trainer(params, model)
    progress = trainer.progress
    try:
        trainer.run()
    except StopRequested as stop:
        progress.write("interrupted", f"stopped by {stop}; `dvc repro` resumes from epoch {progress.epoch}")
        raise
    except KeyboardInterrupt:
        progress.write("interrupted", "stopped by a second interrupt; resumes from the last checkpoint")
        raise
    except ProjectError as exc:
        progress.write("failed", str(exc))
        raise
    except MemoryError:
        progress.write("failed", _out_of_memory(model.name))
        raise TrainingFailed(_out_of_memory(model.name)) from None
    except Exception as exc:
        if type(exc).__name__ != "ResourceExhaustedError":  # TensorFlow's out-of-memory error
            progress.write("failed", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            raise
        progress.write("failed", _out_of_memory(model.name))
        raise TrainingFailed(_out_of_memory(model.name)) from None
    return progress


def record_params_failure(model: str, error: ParamsError) -> None:
    """A bad params.yaml stops the run before it starts; the dashboard still learns why."""
    Progress(progress_file(model), model, 0, "").write("failed", str(error))
