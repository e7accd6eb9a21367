"""Testing trained models on the test set: predictions, loss, and the per-model report.

Keras is imported inside `test_model`, after the caller has chosen the backend
(`mnist_dvc.training.model.select_backend`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_dvc.analysis.confusion import confusion_counts, per_class
from mnist_dvc.analysis.predictions import top_two
from mnist_dvc.core.records.evaluation import Evaluation, SeedEvaluation
from mnist_dvc.data.prepared import one_hot

BATCH = 2000


@dataclass(frozen=True)
class TestResult:
    top2: np.ndarray  # (N, 2) the two most probable digits per test image, in test-set order
    p_top2: np.ndarray  # (N, 2) their softmax probabilities
    loss: float

    @property
    def predictions(self) -> np.ndarray:
        """The predicted digit per test image (the most probable one)."""
        return self.top2[:, 0]


def test_model(path: Path, x_test: np.ndarray, y_test: np.ndarray) -> TestResult:
    import keras

    net = keras.saving.load_model(path)
    scores = net.evaluate(x_test, one_hot(y_test), batch_size=BATCH, verbose=0, return_dict=True)
    top2, p_top2 = top_two(net.predict(x_test, batch_size=BATCH, verbose=0))
    return TestResult(top2, p_top2, float(scores["loss"]))


def seed_record(result: TestResult, y_test: np.ndarray) -> SeedEvaluation:
    """One seed's final model on the test set: accuracy, loss, error, per-digit scores, confusion matrix."""
    counts = confusion_counts(y_test, result.predictions)
    return SeedEvaluation(
        test_accuracy=float(np.mean(result.predictions == y_test)),
        test_loss=result.loss,
        test_error=float(np.mean(result.predictions != y_test)),
        per_class=per_class(counts),
        confusion_matrix=counts.tolist(),
    )


def evaluation_report(model: str, params: int, records: Mapping[int, SeedEvaluation]) -> Evaluation:
    """`reports/eval/<model>.json`: the parameter count and each seed's `seed_record`, by seed."""
    return Evaluation(model=model, params=params, seeds={seed: records[seed] for seed in sorted(records)})
