"""Question 1: backpropagation by a small reverse-mode autodiff engine, its hand-calculation
notation and walkthrough, and its check against TensorFlow and finite differences, all
reading one registry of operations (ops.py)."""
