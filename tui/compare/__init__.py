"""Compare tab (key 2): the assignment's comparison of the models, from evaluate's reports/comparison.json."""
