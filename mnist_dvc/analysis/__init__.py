"""Analysis of finished runs: the training-log reader, evaluation, comparison and statistics, figures."""
