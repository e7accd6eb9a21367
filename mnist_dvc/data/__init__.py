"""MNIST data: the IDX format, the verified download sources, normalization, the prepared arrays."""
