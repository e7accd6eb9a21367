"""Stage `evaluate`: test every trained model and compare them as the assignment does.

Writes, per model, `metrics/eval/<model>.json` (final-model test metrics, per-class
precision/recall/F1, confusion matrix) and `metrics/confusion/<model>.csv` (one
`actual,predicted` row per test image, DVC's confusion-plot data), then
`metrics/comparison.json`: the assignment's criteria from the per-epoch logs,
a verdict per criterion, and McNemar's exact test on the first two models'
test predictions.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np

from stages.atomic import write_json, write_text
from stages.cli import StageError, run_stage
from stages.comparison import mcnemar, mcnemar_sentence, run_summary, verdicts
from stages.history import TRAIN_DIR, load_history
from stages.model import parameter_count, select_backend
from stages.params import load_params
from stages.prepared import CLASSES, load_split, one_hot

MODELS_DIR = Path("models")
EVAL_DIR = Path("metrics/eval")
CONFUSION_DIR = Path("metrics/confusion")
COMPARISON_FILE = Path("metrics/comparison.json")
BATCH = 2000


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Rows: actual digit; columns: predicted digit."""
    matrix = np.zeros((CLASSES, CLASSES), dtype=np.int64)
    np.add.at(matrix, (y_true.astype(np.int64), y_pred.astype(np.int64)), 1)
    return matrix


def per_class(matrix: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 of each digit (0 where undefined: no predictions or no samples)."""
    result = {}
    for digit in range(CLASSES):
        hit = matrix[digit, digit]
        predicted, actual = matrix[:, digit].sum(), matrix[digit, :].sum()
        precision = hit / predicted if predicted else 0.0
        recall = hit / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[str(digit)] = {"precision": float(precision), "recall": float(recall),
                              "f1": float(f1), "support": int(actual)}
    return result


def main() -> int:
    params = load_params()
    x_test, y_test = load_split("test")
    names = list(params.models)
    for name in names:
        if not (MODELS_DIR / f"{name}.keras").is_file():
            raise StageError(f"{MODELS_DIR / name}.keras not found; run `dvc repro train@{name}` first")
        if not len(load_history(TRAIN_DIR / name)):
            raise StageError(f"{TRAIN_DIR / name} has no training log; run `dvc repro train@{name}` first")

    select_backend(params.train.backend)
    import keras

    predictions, summaries = {}, {}
    for name in names:
        net = keras.saving.load_model(MODELS_DIR / f"{name}.keras")
        scores = net.evaluate(x_test, one_hot(y_test), batch_size=BATCH, verbose=0, return_dict=True)
        pred = np.argmax(net.predict(x_test, batch_size=BATCH, verbose=0), axis=1)
        predictions[name] = pred
        matrix = confusion_matrix(y_test, pred)
        count = parameter_count(params.models[name])
        write_json(EVAL_DIR / f"{name}.json", {
            "model": name,
            "test_accuracy": float(np.mean(pred == y_test)),
            "test_loss": float(scores["loss"]),
            "test_error": float(np.mean(pred != y_test)),
            "params": count,
            "per_class": per_class(matrix),
            "confusion_matrix": matrix.tolist(),
        })
        rows = "".join(f"{a},{p}\n" for a, p in zip(y_test.tolist(), pred.tolist(), strict=True))
        write_text(CONFUSION_DIR / f"{name}.csv", "actual,predicted\n" + rows)
        summaries[name] = run_summary(load_history(TRAIN_DIR / name), count)
        print(f"{name}: test accuracy {np.mean(pred == y_test):.4f}, loss {scores['loss']:.4f}")

    comparison: dict = {"models": summaries, "verdicts": verdicts(summaries)}
    pairs = []
    for first, second in combinations(names, 2):
        test = mcnemar(y_test, predictions[first], predictions[second])
        pairs.append({"models": [first, second], **test,
                      "sentence": mcnemar_sentence(first, second, test)})
    if pairs:
        comparison["mcnemar"] = pairs[0]
        comparison["mcnemar_pairs"] = pairs
    write_json(COMPARISON_FILE, comparison)
    for verdict in comparison["verdicts"].values():
        print(verdict["sentence"])
    if pairs:
        print(pairs[0]["sentence"])
    return 0


if __name__ == "__main__":
    run_stage(main)
