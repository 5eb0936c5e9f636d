"""The memory operations of a neural Turing machine (NTM), each with its forward and backward pass.

A batch of memories ``M`` has shape ``(n, N, W)``: ``n`` examples, ``N`` locations (rows) of
width ``W``. (The course notes call the width ``M`` too; we write ``W`` to keep ``M`` for the
memory.) A head focuses on the locations with a *weighting* ``w`` of shape ``(n, N)``, a
probability distribution over the rows, produced in four differentiable stages:

    w^c   = softmax_i(β K(k, M_i))                    content addressing (key k, strength β ≥ 0)
    w^g   = g w^c + (1 − g) w_{t−1}                   interpolation with the last weighting, g ∈ (0, 1)
    w̃(i)  = Σ_j w^g(j) s((i − j) mod N)              circular shift by a distribution s over offsets
    w(i)  = w̃(i)^γ / Σ_j w̃(j)^γ                     sharpening, γ ≥ 1

and then read or written:

    r     = Σ_i w(i) M_i                              read vector (n, W)
    M'_i  = M_i ⊙ (1 − w(i) e) + w(i) a               write: erase e ∈ (0, 1)^W, then add a

Every stage is a parameter-free :class:`~coursepkg.nn.Module` whose ``forward`` takes several
arrays and whose ``backward(∂C/∂output)`` returns the tuple of ∂C/∂(each input), in the same
order, so ``coursepkg.gradcheck.check_module`` checks it directly. All of them work on the whole
batch at once; the shift loops over its few offsets only.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, as_float_array, check_finite, check_shape
from ..nn import functional as F
from ..nn.module import Module

#: ε of the smoothed norm ``‖v‖_ε = sqrt(‖v‖² + ε²)`` in the cosine similarity
COSINE_EPS = 1e-6


def _batch_array(x, who: str, what: str, shape: tuple, dtype=None) -> np.ndarray:
    """``x`` as a finite float array of ``shape`` (``None`` entries match any size)."""
    x = as_float_array(x, who, dtype)
    check_shape(x, who, shape, what)
    check_finite(x, who, what)
    return x


def _check_batch(who: str, n: int, **arrays) -> None:
    for what, x in arrays.items():
        if len(x) != n:
            raise ShapeError(f"{who}: {what} has {len(x)} rows but the memory holds {n} examples; "
                             "give every argument the same batch size n.")


class _Stage(Module):
    """A differentiable piece of the addressing pipeline: ``forward`` saves what ``backward`` needs."""

    _cache = None

    def _saved(self) -> tuple:
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: run the forward pass first.")
        return self._cache


class ContentAddressing(_Stage):
    """Content weighting ``w^c_i = exp(β K(k, M_i)) / Σ_j exp(β K(k, M_j))``.

    ``K`` is the cosine similarity with smoothed norms, ``K(k, m) = k·m / (‖k‖_ε ‖m‖_ε)`` with
    ``‖v‖_ε = sqrt(‖v‖² + ε²)`` and ``ε = COSINE_EPS``: it equals the usual cosine whenever the
    vectors are not tiny, and it stays differentiable (= 0) at an all-zero key or row, where the
    plain cosine is 0/0. ``β = 0`` gives the uniform weighting; a large ``β`` puts almost all the
    weight on the most similar row. The softmax subtracts its maximum first (no overflow).

    ``forward(M, k, beta)``: ``M`` ``(n, N, W)``, ``k`` ``(n, W)``, ``beta`` ``(n,)`` → ``w^c`` ``(n, N)``.
    ``backward(∂C/∂w^c)`` → ``(∂C/∂M, ∂C/∂k, ∂C/∂β)``.
    """

    def forward(self, M, k, beta):
        who = "ContentAddressing"
        M = _batch_array(M, who, "memory M", (None, None, None))
        n, _, W = M.shape
        k = _batch_array(k, who, "key k", (None, W), M.dtype)
        beta = _batch_array(beta, who, "key strength beta", (None,), M.dtype)
        _check_batch(who, n, **{"key k": k, "key strength beta": beta})
        if np.any(beta < 0):
            raise ValueError(f"{who}: the key strength beta must be ≥ 0, received a minimum of {beta.min()}. "
                             "Squash the controller's output with softplus.")
        eps2 = COSINE_EPS ** 2
        k_norm = np.sqrt(np.sum(k * k, axis=-1) + eps2)          # (n,)
        m_norm = np.sqrt(np.sum(M * M, axis=-1) + eps2)          # (n, N)
        dots = np.einsum("niw,nw->ni", M, k)
        K = dots / (k_norm[:, None] * m_norm)
        w = F.softmax(beta[:, None] * K)
        self._cache = (M, k, beta, k_norm, m_norm, K, w)
        return w

    def backward(self, grad_out):
        M, k, beta, k_norm, m_norm, K, w = self._saved()
        dz = F.softmax_backward(w, grad_out)                      # ∂C/∂(β K)
        dbeta = np.sum(dz * K, axis=-1)
        dK = dz * beta[:, None]
        ddots = dK / (k_norm[:, None] * m_norm)                  # K = dots / (‖k‖ ‖M_i‖)
        dk_norm = -np.sum(dK * K, axis=-1) / k_norm
        dm_norm = -dK * K / m_norm
        dk = np.einsum("ni,niw->nw", ddots, M) + (dk_norm / k_norm)[:, None] * k
        dM = ddots[:, :, None] * k[:, None, :] + (dm_norm / m_norm)[:, :, None] * M
        return dM, dk, dbeta


def content_weights(M, k, beta) -> np.ndarray:
    """Content weighting of a batch of memories: ``w_i = exp(β K(k, M_i)) / Σ_j exp(β K(k, M_j))``.

    ``M`` ``(n, N, W)``, ``k`` ``(n, W)``, ``beta`` ``(n,)`` → ``w`` ``(n, N)``, each row summing to 1.
    ``K`` is the cosine similarity with norms smoothed by ``ε`` (see :class:`ContentAddressing`).
    """
    return ContentAddressing().forward(M, k, beta)


class Interpolation(_Stage):
    """Gated weighting ``w^g = g w^c + (1 − g) w_{t−1}``: ``g = 1`` uses the content weighting,
    ``g = 0`` keeps the previous one (so a head can walk from where it was).

    ``forward(w_c, w_prev, g)``: ``(n, N)``, ``(n, N)``, ``(n,)`` → ``(n, N)``;
    ``backward`` → ``(∂C/∂w^c, ∂C/∂w_{t−1}, ∂C/∂g)`` with ``∂C/∂g = Σ_i ∂C/∂w^g_i (w^c_i − w_{t−1,i})``.
    """

    def forward(self, w_c, w_prev, g):
        who = "Interpolation"
        w_c = _batch_array(w_c, who, "content weighting w_c", (None, None))
        w_prev = _batch_array(w_prev, who, "previous weighting w_prev", w_c.shape, w_c.dtype)
        g = _batch_array(g, who, "gate g", (len(w_c),), w_c.dtype)
        if np.any((g < 0) | (g > 1)):
            raise ValueError(f"{who}: the gate g must lie in [0, 1], received values in [{g.min()}, {g.max()}]. "
                             "Squash the controller's output with a sigmoid.")
        self._cache = (w_c, w_prev, g)
        return g[:, None] * w_c + (1 - g[:, None]) * w_prev

    def backward(self, grad_out):
        w_c, w_prev, g = self._saved()
        return g[:, None] * grad_out, (1 - g[:, None]) * grad_out, np.sum(grad_out * (w_c - w_prev), axis=-1)


def shift_offsets(n_shifts: int) -> np.ndarray:
    """The integer offsets a shift distribution of ``n_shifts`` (odd) entries covers:
    ``3 → [−1, 0, 1]``, ``5 → [−2, …, 2]``."""
    if int(n_shifts) != n_shifts or n_shifts < 1 or n_shifts % 2 == 0:
        raise ValueError(f"shift_offsets: the number of shifts must be a positive odd integer (offsets "
                         f"−m … m), received {n_shifts!r}.")
    m = int(n_shifts) // 2
    return np.arange(-m, m + 1)


class CircularShift(_Stage):
    """Rotation by a distribution over offsets: ``w̃(i) = Σ_j w(j) s((i − j) mod N)``.

    ``s`` has one entry per offset ``o ∈ {−m, …, m}`` (three, ``{−1, 0, +1}``, by default), so
    ``w̃ = Σ_o s_o · roll(w, o)`` where ``roll(w, o)(i) = w(i − o)``: ``s = [0, 0, 1]`` moves the
    focus from location ``i`` to ``i + 1`` (wrapping around), ``s = [0.1, 0.8, 0.1]`` blurs it.

    ``forward(w, s)``: ``(n, N)``, ``(n, 2m+1)`` → ``(n, N)``; ``backward`` → ``(∂C/∂w, ∂C/∂s)`` with
    ``∂C/∂w = Σ_o s_o roll(∂C/∂w̃, −o)`` and ``∂C/∂s_o = Σ_i ∂C/∂w̃(i) w(i − o)``.
    """

    def forward(self, w, s):
        who = "CircularShift"
        w = _batch_array(w, who, "weighting w", (None, None))
        s = _batch_array(s, who, "shift distribution s", (len(w), None), w.dtype)
        offsets = shift_offsets(s.shape[1])
        if len(offsets) > w.shape[1]:
            raise ShapeError(f"{who}: {len(offsets)} shift offsets need at least as many memory locations, "
                             f"received N = {w.shape[1]}. Use fewer shifts or a larger memory.")
        self._cache = (w, s, offsets)
        out = np.zeros_like(w)
        for j, o in enumerate(offsets):
            out += s[:, j:j + 1] * np.roll(w, o, axis=1)
        return out

    def backward(self, grad_out):
        w, s, offsets = self._saved()
        dw = np.zeros_like(w)
        ds = np.empty_like(s)
        for j, o in enumerate(offsets):
            dw += s[:, j:j + 1] * np.roll(grad_out, -o, axis=1)
            ds[:, j] = np.sum(grad_out * np.roll(w, o, axis=1), axis=1)
        return dw, ds


class Sharpening(_Stage):
    """Sharpening ``w(i) = w̃(i)^γ / Σ_j w̃(j)^γ`` with ``γ ≥ 1``: undoes the blur of the shift.

    ``γ = 1`` is the identity (``w̃`` already sums to 1); ``γ → ∞`` tends to a one-hot at the
    largest entry. Computed as ``softmax(γ ln w̃)``, stable for any γ; entries of ``w̃`` are
    clipped at the dtype's smallest positive number so that ``ln 0`` never occurs.

    ``forward(w, gamma)``: ``(n, N)``, ``(n,)`` → ``(n, N)``; with ``u = γ ln w̃`` and
    ``δ = ∂C/∂u``: ``∂C/∂w̃ = γ δ / w̃``, ``∂C/∂γ = Σ_i δ_i ln w̃(i)``.
    """

    def forward(self, w, gamma):
        who = "Sharpening"
        w = _batch_array(w, who, "weighting w", (None, None))
        gamma = _batch_array(gamma, who, "exponent gamma", (len(w),), w.dtype)
        if np.any(gamma < 1):
            raise ValueError(f"{who}: gamma must be ≥ 1, received a minimum of {gamma.min()}. "
                             "Use gamma = 1 + softplus(controller output).")
        if np.any(w < 0):
            raise ValueError(f"{who}: the weighting must be non-negative, received a minimum of {w.min()}.")
        safe = np.maximum(w, np.finfo(w.dtype).tiny)
        log_w = np.log(safe)
        out = F.softmax(gamma[:, None] * log_w)
        self._cache = (safe, log_w, gamma, out)
        return out

    def backward(self, grad_out):
        safe, log_w, gamma, out = self._saved()
        du = F.softmax_backward(out, grad_out)
        return gamma[:, None] * du / safe, np.sum(du * log_w, axis=-1)


class Addressing(Module):
    """The whole addressing pipeline of one head: content → interpolation → shift → sharpening.

    ``forward(M, k, beta, g, s, gamma, w_prev) -> w`` (shapes as in the stages above);
    ``backward(∂C/∂w)`` returns the seven gradients in the same order. The intermediate
    weightings of the last call are kept in ``self.stages`` (``content``, ``gated``, ``shifted``,
    ``sharpened``) for plots.
    """

    def __init__(self):
        self.content, self.interpolation = ContentAddressing(), Interpolation()
        self.shift, self.sharpening = CircularShift(), Sharpening()
        self.stages = {}

    def forward(self, M, k, beta, g, s, gamma, w_prev):
        w_c = self.content.forward(M, k, beta)
        w_g = self.interpolation.forward(w_c, w_prev, g)
        w_s = self.shift.forward(w_g, s)
        w = self.sharpening.forward(w_s, gamma)
        self.stages = {"content": w_c, "gated": w_g, "shifted": w_s, "sharpened": w}
        return w

    def backward(self, grad_out):
        dw_s, dgamma = self.sharpening.backward(grad_out)
        dw_g, ds = self.shift.backward(dw_s)
        dw_c, dw_prev, dg = self.interpolation.backward(dw_g)
        dM, dk, dbeta = self.content.backward(dw_c)
        return dM, dk, dbeta, dg, ds, dgamma, dw_prev


class MemoryRead(_Stage):
    """Read vector ``r = Σ_i w(i) M_i``: a weighted average of the rows.

    ``forward(M, w)``: ``(n, N, W)``, ``(n, N)`` → ``(n, W)``; ``backward(∂C/∂r)`` →
    ``(∂C/∂M_i = w(i) ∂C/∂r, ∂C/∂w(i) = M_i · ∂C/∂r)``.
    """

    def forward(self, M, w):
        M = _batch_array(M, "MemoryRead", "memory M", (None, None, None))
        w = _batch_array(w, "MemoryRead", "weighting w", M.shape[:2], M.dtype)
        self._cache = (M, w)
        return np.einsum("ni,niw->nw", w, M)

    def backward(self, grad_out):
        M, w = self._saved()
        return w[:, :, None] * grad_out[:, None, :], np.einsum("niw,nw->ni", M, grad_out)


class MemoryWrite(_Stage):
    """Erase then add: ``M'_i = M_i ⊙ (1 − w(i) e) + w(i) a``.

    A row is cleared only where both ``w(i)`` and ``e`` are 1; ``w(i) = 0`` or ``e = 0`` leaves it
    as it was before the add. With ``P = 1 − w eᵀ`` and ``G = ∂C/∂M'``:
    ``∂C/∂M = G ⊙ P``, ``∂C/∂w(i) = Σ_j G_ij (a_j − M_ij e_j)``, ``∂C/∂e_j = −Σ_i G_ij M_ij w(i)``,
    ``∂C/∂a_j = Σ_i G_ij w(i)``.

    ``forward(M, w, e, a)``: ``(n, N, W)``, ``(n, N)``, ``(n, W)``, ``(n, W)`` → ``(n, N, W)``.
    """

    def forward(self, M, w, e, a):
        who = "MemoryWrite"
        M = _batch_array(M, who, "memory M", (None, None, None))
        n, N, W = M.shape
        w = _batch_array(w, who, "weighting w", (n, N), M.dtype)
        e = _batch_array(e, who, "erase vector e", (n, W), M.dtype)
        a = _batch_array(a, who, "add vector a", (n, W), M.dtype)
        if np.any((e < 0) | (e > 1)):
            raise ValueError(f"{who}: the erase vector must lie in [0, 1], received values in "
                             f"[{e.min()}, {e.max()}]. Squash it with a sigmoid.")
        keep = 1 - w[:, :, None] * e[:, None, :]
        self._cache = (M, w, e, a, keep)
        return M * keep + w[:, :, None] * a[:, None, :]

    def backward(self, grad_out):
        M, w, e, a, keep = self._saved()
        GM = grad_out * M
        dw = np.einsum("nij,nj->ni", grad_out, a) - np.einsum("nij,nj->ni", GM, e)
        de = -np.einsum("nij,ni->nj", GM, w)
        da = np.einsum("nij,ni->nj", grad_out, w)
        return grad_out * keep, dw, de, da
