"""Helpers run by `make` that are neither DVC stages nor library code (the offline plots page)."""
