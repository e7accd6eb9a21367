"""The JSON files stages write, as typed records: one class per file, read and written by it.

Every contract file of docs/contracts.md that holds JSON has one record: the stage that
writes the file builds the record and calls `write`, and every reader (the stages, the
plots, the dashboard, scripts) gets the same record back from `read` (a path) or
`from_text` (text read elsewhere, e.g. at another git revision through DVC). A file that
does not match is one `BadInput` line naming the file and the key, and the stage that
writes it again:

    reports/comparison.json: `models.model_a.stats.best_test_accuracy.mean` is missing; run ...

One module per writing stage, so that DVC, which re-runs a stage when a module it imports
changes, re-runs only the stage whose file changed shape: `progress` (train), `data`
(prepare), `evaluation` and `comparison` (evaluate), `backprop` (backprop); `base` holds
what they share. This file imports nothing, so importing one record loads only its module.
"""
