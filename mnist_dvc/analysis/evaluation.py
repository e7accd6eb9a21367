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
from mnist_dvc.core.contracts import CONFUSION_COLUMNS
from mnist_dvc.data.prepared import one_hot

BATCH = 2000


@dataclass(frozen=True)
class TestResult:
    predictions: np.ndarray  # predicted digit per test image, in test-set order
    loss: float


def test_model(path: Path, x_test: np.ndarray, y_test: np.ndarray) -> TestResult:
    import keras

    net = keras.saving.load_model(path)
    scores = net.evaluate(x_test, one_hot(y_test), batch_size=BATCH, verbose=0, return_dict=True)
    predictions = np.argmax(net.predict(x_test, batch_size=BATCH, verbose=0), axis=1)
    return TestResult(predictions, float(scores["loss"]))


def seed_record(result: TestResult, y_test: np.ndarray) -> dict:
    """One seed's final model on the test set: accuracy, loss, error, per-digit scores, confusion matrix."""
    counts = confusion_counts(y_test, result.predictions)
    return {
        "test_accuracy": float(np.mean(result.predictions == y_test)),
        "test_loss": result.loss,
        "test_error": float(np.mean(result.predictions != y_test)),
        "per_class": per_class(counts),
        "confusion_matrix": counts.tolist(),
    }


def evaluation_report(model: str, params: int, records: Mapping[int, dict]) -> dict:
    """`reports/eval/<model>.json`: the parameter count and each seed's `seed_record`, by seed."""
    return {"model": model, "params": params, "seeds": {str(seed): records[seed] for seed in sorted(records)}}


def predictions_csv(y_test: np.ndarray, predictions: np.ndarray) -> str:
    """`reports/predictions/<model>/seed_<s>.csv`: an `actual,predicted` row per test image, in test order."""
    rows = "".join(f"{a},{p}\n" for a, p in zip(y_test.tolist(), predictions.tolist(), strict=True))
    return ",".join(CONFUSION_COLUMNS) + "\n" + rows
