"""Pipeline tab (key 4): the stages of dvc.yaml with their status, and `dvc repro` in the background."""
