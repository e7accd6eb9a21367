"""Seeds trained together against single-seed runs, in one process per Keras backend.

    python tests/unit/seeds_vs_single.py BACKEND

Prints one JSON line of largest absolute differences (tests/unit/test_seeds.py reads it), per
model and way of training the seeds ("model_a-stacked", "model_b-sequential", ...):
- `initial`: each seed's starting weights in a 3-seed runner against
  `keras.utils.set_random_seed(s)` + `build_model`, built afterwards in another order;
- `log`, `weights`: the last seed s of the 3-seed runner (built after the others) against a
  1-seed run with `train.seed = s` on the single-seed compiled epoch (the one equal to `fit`),
  two epochs on the same permutations (per-epoch loss/accuracy, then the final weights);
- `restore`: an epoch replayed after `restore` of the state taken before it, against the
  first time through (weights and optimizer state carried over exactly);
- `between_seeds`: how different two seeds' starting weights are (must not be 0);
- `one_seed_with_stack_seeds`: which runner one seed gets with `stack_seeds: true`, per model.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mnist_dvc.core.params import load_params  # noqa: E402
from mnist_dvc.training.model import build_model, select_backend  # noqa: E402

SEEDS = (5, 3, 9)
MODELS = ("model_a", "model_b")
SAMPLES, TEST_SAMPLES, BATCH, EPOCHS = 300, 100, 64, 2


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[labels]


def main(backend: str) -> None:
    select_backend(backend)
    import keras

    from mnist_dvc.training.seeds import seeds_runner
    from mnist_dvc.training.trainer import epoch_permutation

    params = load_params(ROOT / "params.yaml")
    train = replace(params.train, seeds=SEEDS, batch_size=BATCH)
    rng = np.random.default_rng(0)
    data = (rng.random((SAMPLES, 784), dtype=np.float32), one_hot(rng.integers(0, 10, SAMPLES)),
            rng.random((TEST_SAMPLES, 784), dtype=np.float32), one_hot(rng.integers(0, 10, TEST_SAMPLES)))

    def orders(seeds: tuple[int, ...], epoch: int) -> list[np.ndarray]:
        return [epoch_permutation(seed, epoch, SAMPLES) for seed in seeds]

    # The reference: seed s alone, one seed after another's path (the compiled epoch equal to fit).
    seed = SEEDS[-1]
    reference, one_seed_stacked = {}, {}
    for name in MODELS:
        single = replace(train, seed=seed, seeds=1)
        alone = seeds_runner(replace(params.models[name], stack_seeds=False), single, *data)
        assert alone.seeds == (seed,)
        lone = seeds_runner(replace(params.models[name], stack_seeds=True), single, *data)
        one_seed_stacked[name] = type(lone).__name__
        log = []
        for epoch in range(1, EPOCHS + 1):
            log.append((*alone.train(orders((seed,), epoch))[0], *alone.evaluate()[0]))
        reference[name] = (log, alone.state()[0].weights)

    result = {}
    for name, stacked in ((m, s) for m in MODELS for s in (False, True)):
        model = replace(params.models[name], stack_seeds=stacked)
        together = seeds_runner(model, train, *data)
        assert type(together).__name__ == ("StackedSeeds" if stacked else "SequentialSeeds")
        start = together.state()
        built = {}
        for s in sorted(SEEDS, reverse=True):
            keras.utils.set_random_seed(s)
            built[s] = build_model(model, train).get_weights()
        logs, before_last = [], None
        for epoch in range(1, EPOCHS + 1):
            if epoch == EPOCHS:
                before_last = together.state()
            logs.append([(*t, *e) for t, e in zip(together.train(orders(SEEDS, epoch)), together.evaluate(),
                                                  strict=True)])
        final = together.state()
        log, weights = reference[name]
        together.restore(before_last)
        replayed = [(*t, *e) for t, e in zip(together.train(orders(SEEDS, EPOCHS)), together.evaluate(),
                                             strict=True)]
        again = together.state()
        saved = together.model(1)
        result[f"{name}-{'stacked' if stacked else 'sequential'}"] = {
            "initial": max(max_diff(state.weights, built[s]) for s, state in zip(SEEDS, start, strict=True)),
            "log": max(abs(a - b) for epoch, row in enumerate(log) for a, b in zip(row, logs[epoch][-1],
                                                                                     strict=True)),
            "weights": max_diff(weights, final[-1].weights),
            "restore": max(
                max(abs(a - b) for row, first in zip(replayed, logs[-1], strict=True)
                    for a, b in zip(row, first, strict=True)),
                *(max_diff(x.weights + x.optimizer, y.weights + y.optimizer)
                  for x, y in zip(again, final, strict=True)),
            ),
            "between_seeds": max_diff(start[0].weights, start[1].weights),
            "saved_model_is_seed": max_diff(saved.get_weights(), final[1].weights),
            "seeds": list(together.seeds),
        }
    result["one_seed_with_stack_seeds"] = one_seed_stacked
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
