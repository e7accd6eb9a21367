"""Benchmarks (scripts that print measured ratios; not tests)."""
