"""Naive loop implementations of convolution and pooling: the definitions, written out.

These functions loop over every example, filter, output pixel and kernel entry, exactly as
the equations read, so they are easy to check by eye and far too slow to train with. The tests
compare :class:`~coursepkg.nn.Conv2D` and the pooling layers against them on tiny inputs, and
notebook 11 times them against the vectorized layers. Nothing else in the package uses them.

Arguments follow the layers: ``x`` is ``(n, c, h, w)``, ``W`` is ``(c_out, c_in, kh, kw)``,
``stride`` and ``padding`` are ints (the same in both directions; ``padding`` may also be a
border mode such as ``"same"``).
"""

from __future__ import annotations

import numpy as np

from .conv import conv_output_size, padding_for


def _pad(x, p: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def conv2d_naive(x, W, b=None, stride: int = 1, padding=0) -> np.ndarray:
    """``z[n, f, i, j] = b[f] + Σ_c Σ_k Σ_l W[f, c, k, l] · x_pad[n, c, s·i + k, s·j + l]``, by loops."""
    x, W = np.asarray(x, dtype=np.float64), np.asarray(W, dtype=np.float64)
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = W.shape
    p = padding_for(padding, kh)
    xp = _pad(x, p)
    oh, ow = conv_output_size(h, kh, stride, p), conv_output_size(w, kw, stride, p)
    z = np.zeros((n, c_out, oh, ow))
    for e in range(n):
        for f in range(c_out):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if b is None else float(b[f])
                    for c in range(c_in):
                        for k in range(kh):
                            for l in range(kw):
                                total += W[f, c, k, l] * xp[e, c, stride * i + k, stride * j + l]
                    z[e, f, i, j] = total
    return z


def conv2d_backward_naive(x, W, delta, stride: int = 1, padding=0):
    """``(∂C/∂x, ∂C/∂W, ∂C/∂b)`` for ``δ = ∂C/∂z``, by the chain rule applied term by term.

    Each product ``W[f, c, k, l] · x_pad[n, c, s·i + k, s·j + l]`` in ``z[n, f, i, j]`` sends
    ``δ[n, f, i, j] · x_pad[…]`` to ``∂C/∂W[f, c, k, l]`` and ``δ[n, f, i, j] · W[f, c, k, l]`` to
    ``∂C/∂x_pad[…]``; the padding's share is then cut off.
    """
    x, W, delta = (np.asarray(a, dtype=np.float64) for a in (x, W, delta))
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = W.shape
    p = padding_for(padding, kh)
    xp = _pad(x, p)
    grad_xp, grad_W = np.zeros_like(xp), np.zeros_like(W)
    grad_b = np.zeros(c_out)
    for e in range(n):
        for f in range(c_out):
            for i in range(delta.shape[2]):
                for j in range(delta.shape[3]):
                    d = delta[e, f, i, j]
                    grad_b[f] += d
                    for c in range(c_in):
                        for k in range(kh):
                            for l in range(kw):
                                r, q = stride * i + k, stride * j + l
                                grad_W[f, c, k, l] += d * xp[e, c, r, q]
                                grad_xp[e, c, r, q] += d * W[f, c, k, l]
    return grad_xp[:, :, p:p + h, p:p + w], grad_W, grad_b


def pool2d_naive(x, kernel_size: int, stride: int | None = None, kind: str = "max") -> np.ndarray:
    """Pool every ``kernel_size²`` window (``kind`` = ``"max"``, ``"avg"`` or ``"l2"``), by loops."""
    x = np.asarray(x, dtype=np.float64)
    stride = kernel_size if stride is None else stride
    summary = {"max": np.max, "avg": np.mean, "l2": lambda v: np.sqrt(np.sum(v * v))}[kind]
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kernel_size, stride), conv_output_size(w, kernel_size, stride)
    a = np.zeros((n, c, oh, ow))
    for e in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    r, q = stride * i, stride * j
                    a[e, ch, i, j] = summary(x[e, ch, r:r + kernel_size, q:q + kernel_size])
    return a


def max_pool2d_backward_naive(x, delta, kernel_size: int, stride: int | None = None) -> np.ndarray:
    """``∂C/∂x`` of max pooling: each ``δ`` goes to its window's first maximum (reading order)."""
    x, delta = np.asarray(x, dtype=np.float64), np.asarray(delta, dtype=np.float64)
    stride = kernel_size if stride is None else stride
    grad_x = np.zeros_like(x)
    n, c, oh, ow = delta.shape
    for e in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    r, q = stride * i, stride * j
                    window = x[e, ch, r:r + kernel_size, q:q + kernel_size]
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    grad_x[e, ch, r + k, q + l] += delta[e, ch, i, j]
    return grad_x


def k_max_pool_naive(x, k: int) -> np.ndarray:
    """k-max pooling of the last axis of a 2-D ``x``, row by row: the ``k`` largest, in order."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((len(x), k))
    for e, row in enumerate(x):
        kept = sorted(sorted(range(len(row)), key=lambda t: row[t])[len(row) - k:])
        out[e] = row[kept]
    return out
