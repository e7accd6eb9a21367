"""Sweeps: a grid of experiments in DVC's `-S` sweep syntax, run by DVC's queue or on a Ray cluster.

`python -m sweeps run -S 'train.learning_rate=0.001,0.0005' ...` expands the grid with DVC's
own sweep code, checks every point with the project's params loader, and runs the points:
`local` queues them in DVC's experiment queue; `ray` gives each point a Ray job that trains
in its own clone of the git remote and pushes its experiment to the git and DVC remotes.
What a sweep is doing is kept in `.dvc/tmp/sweeps/<id>/` (sweeps/state.py) and read by
sweeps/reader.py, the module the dashboard and `python -m sweeps status` use. docs/sweeps.md
tells the whole story.
"""
