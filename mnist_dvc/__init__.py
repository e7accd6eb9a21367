"""The library behind the MNIST pipeline: data, training, analysis and backprop, by area.

The DVC stages (`stages/`) and the dashboard (`tui/`) are thin layers over it; it
imports neither of them. Heavy frameworks (TensorFlow, Keras, JAX, matplotlib) are
imported inside the functions that need them or by modules the dashboard never loads.
"""
