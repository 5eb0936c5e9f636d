"""Data sets and batching: toy problems, MNIST, Fashion-MNIST, text."""

from .batching import k_fold_splits, minibatches, num_batches, one_hot, train_val_test_split
from .download import REGISTRY, ChecksumError, DataNotFoundError, RemoteFile, cache_dir, fetch, fetch_many
from .mixtures import GaussianMixture, ring_of_gaussians
from .mnist import FASHION_MNIST_CLASSES, IDXFormatError, load_fashion_mnist, load_mnist, read_idx
from .preprocessing import PCA, Standardizer
from .sequences import adding_problem, bptt_batches, copy_task, num_bptt_batches, sequence_pairs
from .text import CharVocab, load_tiny_shakespeare
from .toy import blobs, circles, logic_gate, moons, regression_1d, spirals

__all__ = ["k_fold_splits", "minibatches", "num_batches", "one_hot", "train_val_test_split",
    "REGISTRY", "ChecksumError", "DataNotFoundError", "RemoteFile", "cache_dir", "fetch", "fetch_many",
    "GaussianMixture", "ring_of_gaussians",
    "PCA", "Standardizer",
    "FASHION_MNIST_CLASSES", "IDXFormatError", "load_fashion_mnist", "load_mnist", "read_idx",
    "adding_problem", "bptt_batches", "copy_task", "num_bptt_batches", "sequence_pairs",
    "CharVocab", "load_tiny_shakespeare",
    "blobs", "circles", "logic_gate", "moons", "regression_1d", "spirals",
]
