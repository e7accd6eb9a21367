"""Errors tab (key 6): which digits a model confuses, and what those images look like."""
