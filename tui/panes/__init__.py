"""The dashboard's tabs, one pane per module: training, compare, backprop, pipeline.

A pane shows what it is given (the app binds `data` down to it) and posts messages up;
the widgets it is built from live in tui/widgets/, the words it shows in tui/report.py.
"""
