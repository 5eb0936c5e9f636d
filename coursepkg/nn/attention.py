"""Attention: a weighted average of encoder states, with weights that sum to 1.

For a query ``q`` (e.g. a decoder state) and the encoder states ``k_1 … k_T`` (the keys; also
the values ``v_j`` unless other values are given), attention computes

    e_j = score(q, k_j)                    how well key j matches the query
    α_j = e^{e_j} / Σ_l e^{e_l}            softmax over the T positions: α_j ≥ 0, Σ_j α_j = 1
    context = Σ_j α_j v_j                  a "soft look-up" of the positions the query focuses on

Two scores: :class:`DotAttention` (``e_j = q·k_j / √d``, Luong et al.; no parameters) and
:class:`AdditiveAttention` (``e_j = vᵀ tanh(q W_q + k_j W_k + b)``, Bahdanau et al.; a small
one-hidden-layer net). Both take batches of queries, ``(batch, T_q, d_q)``, and keys
``(batch, T_k, d_k)``, return contexts ``(batch, T_q, d_v)`` and keep the weights of the last call
in ``.weights`` (``(batch, T_q, T_k)``, each row sums to 1) to draw as a heat map. A 2-D query
``(batch, d_q)`` is one query per sequence: then the context is ``(batch, d_v)`` and the weights
``(batch, T_k)``.

Backward, with ``g = ∂C/∂context``: ``∂C/∂v_j = Σ_q α_qj g_q``, ``∂C/∂α_qj = g_q·v_j`` and through
the softmax ``∂C/∂e_qj = α_qj (∂C/∂α_qj − Σ_l α_ql ∂C/∂α_ql)``, then through the score.
``backward`` returns a tuple with one gradient per input of ``forward``: ``(∂C/∂queries,
∂C/∂keys)``, or ``(…, ∂C/∂values)`` when values were given (when the keys are also the values,
their gradient is the sum of both roles).
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array
from . import functional as F
from .module import DEFAULT_DTYPE, Module, Parameter


class Attention(Module):
    """Shared plumbing of the attention modules; subclasses define the score.

    Subclasses implement ``_scores(Q, K) -> e`` (``(batch, T_q, T_k)``; cache what is needed)
    and ``_scores_backward(de) -> (dQ, dK)`` and may set ``_dtype`` for their parameters.
    """

    _dtype = None
    weights = None

    def _check(self, x, what: str, ndim=(3,), last=None) -> np.ndarray:
        x = as_float_array(x, self, self._dtype)
        if x.ndim not in ndim or (last is not None and x.shape[-1] != last):
            want = f"(batch, T, {'d' if last is None else last})"
            if 2 in ndim:
                want += f" or (batch, {'d' if last is None else last})"
            raise ShapeError(f"{self!r}: expected {what} of shape {want}, received shape {x.shape}.")
        return x

    def forward(self, queries, keys, values=None):
        q = self._check(queries, "queries", (2, 3), self._query_dim())
        single = q.ndim == 2
        if single:
            q = q[:, None, :]
        k = self._check(keys, "keys", (3,), self._key_dim(q))
        v = k if values is None else self._check(values, "values", (3,))
        if len(q) != len(k) or len(v) != len(k) or v.shape[1] != k.shape[1]:
            raise ShapeError(f"{self!r}: queries, keys and values need the same batch size and keys and "
                             f"values the same length T_k; received shapes {q.shape}, {k.shape}, {v.shape}.")
        e = self._scores(q, k)
        alpha = F.softmax(e)  # over the keys
        self._alpha, self._v, self._single, self._shared = alpha, v, single, values is None
        context = alpha @ v
        self.weights = alpha[:, 0] if single else alpha
        return context[:, 0] if single else context

    def backward(self, grad_out):
        if getattr(self, "_alpha", None) is None:
            raise RuntimeError(f"{self!r}.backward called before forward: run the forward pass first.")
        alpha, v = self._alpha, self._v
        g = np.asarray(grad_out, dtype=alpha.dtype)
        if self._single:
            g = g[:, None, :]
        expected = alpha.shape[:2] + (v.shape[2],)
        if g.shape != expected:
            raise ShapeError(f"{self!r}.backward: expected grad_out of the context's shape {expected}, "
                             f"received {np.shape(grad_out)}.")
        dv = alpha.transpose(0, 2, 1) @ g
        dalpha = g @ v.transpose(0, 2, 1)
        de = F.softmax_backward(alpha, dalpha)
        dq, dk = self._scores_backward(de)
        if self._single:
            dq = dq[:, 0]
        return (dq, dk + dv) if self._shared else (dq, dk, dv)

    def _query_dim(self):
        return None

    def _key_dim(self, q):
        return None


class DotAttention(Attention):
    """Dot-product attention: ``e_qj = q·k_j / √d`` (``scale=False``: without the ``1/√d``).

    Queries and keys need the same size ``d``. The scaling keeps the scores' spread independent
    of ``d`` (a dot product of ``d`` unit-variance terms has variance ``d``), so the softmax does not
    saturate. No parameters. Gradients: ``∂C/∂q = s Σ_j δ_j k_j``, ``∂C/∂k_j = s Σ_q δ_qj q`` with
    ``δ = ∂C/∂e`` and ``s`` the scale.
    """

    def __init__(self, scale: bool = True):
        self.scale = bool(scale)

    def _key_dim(self, q):
        return q.shape[-1]

    def _scores(self, q, k):
        self._s = 1.0 / np.sqrt(q.shape[-1]) if self.scale else 1.0
        self._q, self._k = q, k
        return (q @ k.transpose(0, 2, 1)) * self._s

    def _scores_backward(self, de):
        de = de * self._s
        return de @ self._k, de.transpose(0, 2, 1) @ self._q

    def extra_repr(self) -> str:
        return "" if self.scale else "scale=False"


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: ``e_qj = vᵀ tanh(q W_q + k_j W_k + b)``.

    A one-hidden-layer net of ``attn_dim`` tanh units scores every (query, key) pair, so queries
    and keys may have different sizes. Parameters ``W_q`` ``(query_dim, attn_dim)``, ``W_k``
    ``(key_dim, attn_dim)``, ``b`` ``(attn_dim,)`` and ``v`` ``(attn_dim,)``. With
    ``u_qj = tanh(q W_q + k_j W_k + b)`` and ``δ_qj = ∂C/∂e_qj``:

        ∂C/∂v = Σ δ_qj u_qj,    γ_qj = δ_qj v ⊙ (1 − u_qj²),    ∂C/∂b = Σ γ_qj,
        ∂C/∂W_q = Σ_q qᵀ (Σ_j γ_qj),   ∂C/∂q = (Σ_j γ_qj) W_qᵀ   (and likewise for the keys).

    Memory grows as ``batch·T_q·T_k·attn_dim``: fine for the course's short sequences.
    """

    def __init__(self, query_dim: int, key_dim: int, attn_dim: int, init="xavier", rng=None,
                 dtype=DEFAULT_DTYPE):
        if min(int(query_dim), int(key_dim), int(attn_dim)) <= 0:
            raise ValueError(f"AdditiveAttention: sizes must be positive, received {query_dim}, {key_dim}, "
                             f"{attn_dim}.")
        self.query_dim, self.key_dim, self.attn_dim = int(query_dim), int(key_dim), int(attn_dim)
        rng = initializers.make_rng(rng)
        make = initializers.get(init)
        A = self.attn_dim
        self.W_q = Parameter(make((self.query_dim, A), self.query_dim, A, rng, dtype))
        self.W_k = Parameter(make((self.key_dim, A), self.key_dim, A, rng, dtype))
        self.b = Parameter(np.zeros(A, dtype=dtype))
        self.v = Parameter(make((A,), A, 1, rng, dtype))

    @property
    def _dtype(self):
        return self.W_q.data.dtype

    def _query_dim(self):
        return self.query_dim

    def _key_dim(self, q):
        return self.key_dim

    def _scores(self, q, k):
        u = (q @ self.W_q.data)[:, :, None, :] + (k @ self.W_k.data)[:, None, :, :]
        u += self.b.data
        np.tanh(u, out=u)
        self._q, self._k, self._u = q, k, u
        return u @ self.v.data

    def _scores_backward(self, de):
        u = self._u
        self.v.grad += np.einsum("bqk,bqka->a", de, u)
        gamma = (1 - u * u) * self.v.data
        gamma *= de[..., None]
        self.b.grad += gamma.sum(axis=(0, 1, 2))
        gq, gk = gamma.sum(axis=2), gamma.sum(axis=1)  # (batch, T_q, A), (batch, T_k, A)
        self.W_q.add_grad_matmul(self._q.reshape(-1, self.query_dim).T, gq.reshape(-1, self.attn_dim))
        self.W_k.add_grad_matmul(self._k.reshape(-1, self.key_dim).T, gk.reshape(-1, self.attn_dim))
        return gq @ self.W_q.data.T, gk @ self.W_k.data.T

    def extra_repr(self) -> str:
        return f"{self.query_dim}, {self.key_dim}, {self.attn_dim}"
