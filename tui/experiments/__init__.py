"""Experiments tab (key 5): every run in one table, compared, launched, queued, followed and kept."""
