"""Stage `evaluate`: test every trained model and compare them as the assignment does.

    python -m stages.evaluate

Writes, per model, `metrics/eval/<model>.json` (final-model test metrics, per-class
precision/recall/F1, confusion matrix) and `metrics/confusion/<model>.csv` (one
`actual,predicted,p_predicted,second,p_second` row per test image: DVC's confusion-plot
data and the dashboard's Errors tab's), then
`metrics/comparison.json`: the assignment's criteria from the per-epoch logs, a
verdict per criterion, and McNemar's exact test on each pair of models' test predictions.
"""

from __future__ import annotations

from mnist_dvc.analysis.comparison import compare, run_summary
from mnist_dvc.analysis.evaluation import evaluation_record, test_model
from mnist_dvc.analysis.history import load_trained_history
from mnist_dvc.analysis.predictions import predictions_csv
from mnist_dvc.core.atomic import write_json, write_text
from mnist_dvc.core.contracts import COMPARISON_FILE, eval_file, model_file, predictions_file
from mnist_dvc.core.errors import MissingInput
from mnist_dvc.core.params import load_params
from mnist_dvc.data.prepared import load_split
from mnist_dvc.training.model import parameter_count, select_backend
from stages.cli import run_stage


def main() -> int:
    params = load_params()
    x_test, y_test = load_split("test")
    histories = {name: load_trained_history(name) for name in params.models}
    for name in params.models:
        if not model_file(name).is_file():
            raise MissingInput(model_file(name), f"run `dvc repro train@{name}` first")

    select_backend(params.train.backend)
    predictions, summaries = {}, {}
    for name, spec in params.models.items():
        result = test_model(model_file(name), x_test, y_test)
        predictions[name] = result.predictions
        record = evaluation_record(name, result, y_test, parameter_count(spec))
        write_json(eval_file(name), record)
        write_text(predictions_file(name), predictions_csv(y_test, result.top2, result.p_top2))
        summaries[name] = run_summary(histories[name], record["params"])
        print(f"{name}: test accuracy {record['test_accuracy']:.4f}, loss {result.loss:.4f}")

    comparison = compare(summaries, y_test, predictions)
    write_json(COMPARISON_FILE, comparison)
    for verdict in comparison["verdicts"].values():
        print(verdict["sentence"])
    if "mcnemar" in comparison:
        print(comparison["mcnemar"]["sentence"])
    return 0


if __name__ == "__main__":
    run_stage(main)
