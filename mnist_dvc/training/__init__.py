"""Training: the Keras models, one epoch as one compiled call, checkpoints, progress, the trainer.

Keras and the frameworks are imported inside functions, after the backend is chosen.
"""
