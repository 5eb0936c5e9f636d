"""Data sets and batching: toy problems, MNIST, Fashion-MNIST, text."""

from .batching import minibatches, num_batches, one_hot, train_val_test_split

__all__ = ["minibatches", "num_batches", "one_hot", "train_val_test_split"]
