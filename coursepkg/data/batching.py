"""Mini-batch iteration, one-hot encoding, train/validation/test splitting and k-fold cross-validation."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..init import make_rng


def minibatches(X, y=None, batch_size: int = 32, shuffle: bool = True, rng=None):
    """Yield ``(X_batch, y_batch)`` pairs that cover the data set once (one epoch).

    With ``shuffle`` the examples are permuted first (one copy per epoch, so every batch is a
    contiguous, cheap slice). The last batch is smaller when ``batch_size`` does not divide
    the number of examples. ``y`` may be ``None`` (unsupervised data): then ``y_batch`` is None.
    """
    n = len(X)
    if y is not None and len(y) != n:
        raise ShapeError(
            f"minibatches: X has {n} examples but y has {len(y)}; they must have the same length."
        )
    if batch_size <= 0:
        raise ValueError(f"minibatches: batch_size must be positive, received {batch_size}.")
    if shuffle:
        order = make_rng(rng).permutation(n)
        X = X[order]
        y = None if y is None else y[order]
    for start in range(0, n, batch_size):
        stop = start + batch_size
        yield X[start:stop], (None if y is None else y[start:stop])


def num_batches(n: int, batch_size: int) -> int:
    """⌈n / batch_size⌉, the number of mini-batches in one epoch."""
    return -(-n // batch_size)


def one_hot(labels, num_classes: int | None = None, dtype=np.float32) -> np.ndarray:
    """Encode integer labels ``y`` as rows of the identity: ``Y[i, y_i] = 1``, zeros elsewhere."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, received {labels.dtype}.")
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"one_hot: labels must lie in [0, {num_classes - 1}], received values from "
            f"{labels.min()} to {labels.max()}."
        )
    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


def train_val_test_split(X, y, val: float = 0.1, test: float = 0.1, rng=None):
    """Shuffle and split into ``((X_tr, y_tr), (X_val, y_val), (X_te, y_te))`` by fractions."""
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"train_val_test_split: need 0 ≤ val, test and val + test < 1, received {val}, {test}.")
    n = len(X)
    order = make_rng(rng).permutation(n)
    n_test, n_val = int(round(test * n)), int(round(val * n))
    te, va, tr = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return (X[tr], y[tr]), (X[va], y[va]), (X[te], y[te])


def k_fold_splits(n: int, k: int = 5, rng=None):
    """Yield ``k`` pairs ``(train_idx, val_idx)`` of index arrays for k-fold cross-validation.

    A random permutation of ``range(n)`` is cut into ``k`` folds ``F_1, …, F_k`` whose sizes differ by at
    most one (⌊n/k⌋ or ⌈n/k⌉). Pair ``j`` validates on ``F_j`` and trains on all the other folds, so every
    index is a validation example exactly once and never in its own training set. With ``s_j`` the
    validation score of the model trained on pair ``j``, the cross-validation estimate is the mean
    ``s̄ = (1/k) Σ_j s_j``; the spread of the ``s_j`` (their standard deviation) shows how much a single
    hold-out split could have been off. It costs ``k`` trainings instead of one.

    Use as ``for tr, va in k_fold_splits(len(X), 5, rng=0): fit(..., (X[tr], y[tr]), val=(X[va], y[va]))``.
    The arguments are checked at the call, before the first pair is drawn.
    """
    for name, value in (("n", n), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"k_fold_splits: {name} must be an integer, received {value!r} "
                            f"({type(value).__name__}).")
    if k < 2:
        raise ValueError(f"k_fold_splits: need k ≥ 2 folds (one to validate, the rest to train), received k = {k}.")
    if k > n:
        raise ValueError(f"k_fold_splits: need k ≤ n so that every fold holds an example, received k = {k} "
                         f"for n = {n}. Use fewer folds.")
    folds = np.array_split(make_rng(rng).permutation(int(n)), int(k))
    return ((np.concatenate(folds[:j] + folds[j + 1:]), folds[j]) for j in range(len(folds)))
