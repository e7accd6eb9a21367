"""Stage `evaluate`: test every trained model on every seed, and compare the models.

    python -m stages.evaluate

Finds each model's seeds on disk (`metrics/train/<model>/seed_<s>/`, `models/<model>/seed_<s>.keras`)
and writes:
- `metrics/summary.json`, the only DVC metric: per model, the headline numbers (means over seeds);
- `reports/eval/<model>.json`: each seed's final-model test figures, per-digit scores, confusion matrix;
- `reports/predictions/<model>/seed_<s>.csv`: one `actual,predicted,p_predicted,second,p_second` row
  per test image (DVC's confusion-plot data, and the dashboard's Errors tab's);
- `reports/comparison.json`: each seed's run summary, each criterion's spread over the seeds, the
  models' differences with their test across seeds, McNemar's test per seed, the better model on
  each criterion, how each model's training time was measured, and the verdicts;
- `reports/history/<model>/seed_<s>.tsv`: each seed's per-epoch history (the training log's values and
  its timing label), committed so that a clone without the DVC cache has the curves;
- `metrics/error/<model>.tsv`: per epoch, the training and testing error over the model's seeds, for
  DVC's error-vs-time plots.
"""

from __future__ import annotations

from mnist_dvc.analysis.comparison import compare, headline, run_summary
from mnist_dvc.analysis.evaluation import evaluation_report, seed_record, test_model
from mnist_dvc.analysis.history import (
    error_table,
    history_report,
    load_trained_history,
    seed_timing,
    trained_seeds,
)
from mnist_dvc.analysis.predictions import predictions_csv
from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.contracts import (
    COMPARISON_FILE,
    SUMMARY_FILE,
    error_file,
    eval_file,
    history_file,
    model_file,
    predictions_file,
    time_kind,
)
from mnist_dvc.core.errors import MissingInput
from mnist_dvc.core.params import load_params
from mnist_dvc.core.records.base import write_record
from mnist_dvc.data.prepared import load_split
from mnist_dvc.training.model import parameter_count, select_backend
from stages.cli import run_stage


def main() -> int:
    params = load_params()
    x_test, y_test = load_split("test")
    seeds = {name: trained_seeds(name) for name in params.models}
    histories = {name: {seed: load_trained_history(name, seed) for seed in by_model}
                 for name, by_model in seeds.items()}
    labels = {name: {seed: seed_timing(name, seed) for seed in by_model} for name, by_model in seeds.items()}
    timings = {name: time_kind(labels[name].values()) for name in params.models}
    for name in params.models:
        for seed in seeds[name]:
            if not model_file(name, seed).is_file():
                raise MissingInput(model_file(name, seed), f"run `dvc repro train@{name}` first")

    for name in params.models:
        for seed in seeds[name]:
            history_report(histories[name][seed], labels[name][seed]).write(history_file(name, seed))
        write_text(error_file(name), error_table(list(histories[name].values())))

    select_backend(params.train.backend)
    predictions: dict = {}
    runs: dict = {}
    for name, spec in params.models.items():
        count = parameter_count(spec)
        predictions[name], runs[name], records = {}, {}, {}
        for seed in seeds[name]:
            result = test_model(model_file(name, seed), x_test, y_test)
            predictions[name][seed] = result.predictions
            records[seed] = seed_record(result, y_test)
            write_text(predictions_file(name, seed), predictions_csv(y_test, result.top2, result.p_top2))
            runs[name][seed] = run_summary(histories[name][seed], count)
            print(f"{name} seed {seed}: test accuracy {records[seed].test_accuracy:.4f}, "
                  f"loss {result.loss:.4f}")
        evaluation_report(name, count, records).write(eval_file(name))

    comparison = compare(runs, y_test, predictions, timings)
    comparison.write(COMPARISON_FILE)
    write_record(SUMMARY_FILE, headline(comparison))
    print(comparison.seeds_note)
    for verdict in comparison.verdicts.values():
        print(verdict.sentence)
    for line in comparison.mcnemar_summary or [t.sentence for t in comparison.mcnemar]:
        print(line)
    return 0


if __name__ == "__main__":
    run_stage(main)
