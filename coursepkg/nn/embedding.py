"""Turning token ids into vectors: a learned ``Embedding`` and a fixed ``OneHot`` encoding.

A token (a character, a word) is an integer id in ``0 … V−1``. The one-hot code of id ``k`` is
the ``k``-th row of the ``V×V`` identity; multiplying it by a weight matrix ``W`` (``V×d``)
selects row ``k`` of ``W``. An embedding layer does that selection directly, without building
the one-hot matrix: ``Embedding(V, d)`` *is* a dense layer without bias on one-hot inputs, only
cheaper, and it learns a ``d``-dimensional vector for every token.
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import DTypeError, ShapeError, as_float_array
from .module import DEFAULT_DTYPE, Module, Parameter


def as_token_ids(ids, num_classes: int, who: object) -> np.ndarray:
    """``ids`` as an int64 array, checked to lie in ``0 … num_classes−1``.

    Integral floats (e.g. ``2.0``) are accepted, so a gradient check may pass float64 copies.
    """
    arr = np.asarray(ids)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise DTypeError(f"{who}: expected integer token ids, received non-integer floats "
                             f"({arr.dtype}). Encode the text first, e.g. vocab.encode(text).")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise DTypeError(f"{who}: expected integer token ids, received {arr.dtype}. "
                         "Encode the text first, e.g. vocab.encode(text).")
    if arr.ndim == 0:
        raise ShapeError(f"{who}: expected a batch of ids (batch first), received a 0-d scalar. "
                         "Use np.array([[k]]) for one token.")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"{who}: token ids must lie in [0, {num_classes - 1}], received values from "
                         f"{arr.min()} to {arr.max()}. Is the vocabulary size right?")
    return arr.astype(np.int64, copy=False)


class Embedding(Module):
    """Look-up table ``a = W[k]``: token id ``k`` → row ``k`` of ``W`` (shape ``(vocab, dim)``).

    Input: integer ids of any shape, e.g. ``(batch, time)``; output: that shape plus ``(dim,)``.
    Equivalent to ``one_hot(k) W``, so the gradient of the row of ``W`` for token ``k`` is the sum
    of ``∂C/∂a`` over every position where ``k`` occurs: ``∂C/∂W[k] = Σ_{positions with id k} ∂C/∂a``.
    ``backward`` returns ``None``: ids are not differentiable. ``W`` starts as N(0, 1) draws.
    """

    def __init__(self, vocab: int, dim: int, init="normal", rng=None, dtype=DEFAULT_DTYPE):
        if int(vocab) <= 0 or int(dim) <= 0:
            raise ValueError(f"Embedding: vocab and dim must be positive, received {vocab}, {dim}.")
        self.vocab, self.dim = int(vocab), int(dim)
        rng = initializers.make_rng(rng)
        self.W = Parameter(initializers.get(init)((self.vocab, self.dim), self.vocab, self.dim, rng, dtype))
        self._ids = None

    def forward(self, ids):
        self._ids = as_token_ids(ids, self.vocab, self)
        return self.W.data[self._ids]

    def backward(self, grad_out):
        if self._ids is None:
            raise RuntimeError("Embedding.backward called before forward: run the forward pass first.")
        g = as_float_array(grad_out, f"{self!r}.backward", self.W.data.dtype)
        if g.shape != self._ids.shape + (self.dim,):
            raise ShapeError(f"{self!r}.backward: expected grad_out of shape {self._ids.shape + (self.dim,)}, "
                             f"received {g.shape}.")
        np.add.at(self.W.grad, self._ids.reshape(-1), g.reshape(-1, self.dim))
        return None

    def extra_repr(self) -> str:
        return f"{self.vocab}, {self.dim}"


class OneHot(Module):
    """Fixed one-hot encoding: id ``k`` → the ``k``-th unit vector of length ``num_classes``.

    ``(batch, time)`` ids become ``(batch, time, num_classes)`` floats, the input a character-level
    RNN reads. No parameters; ``backward`` returns ``None``.
    """

    def __init__(self, num_classes: int, dtype=DEFAULT_DTYPE):
        if int(num_classes) <= 0:
            raise ValueError(f"OneHot: num_classes must be positive, received {num_classes}.")
        self.num_classes, self.dtype = int(num_classes), dtype

    def forward(self, ids):
        ids = as_token_ids(ids, self.num_classes, self)
        out = np.zeros(ids.shape + (self.num_classes,), dtype=self.dtype)
        np.put_along_axis(out, ids[..., None], 1, axis=-1)
        return out

    def backward(self, grad_out):
        return None

    def extra_repr(self) -> str:
        return str(self.num_classes)
