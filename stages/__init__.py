"""DVC pipeline stages: one module per stage (`python -m stages.<name>`) plus shared helpers."""
