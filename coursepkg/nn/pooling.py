"""Pooling layers (``MaxPool2D``, ``AvgPool2D``, ``L2Pool2D``, ``KMaxPool``) and ``Flatten``.

A pooling layer condenses each feature map: every output unit summarises one ``kh × kw``
window of its input channel (pooling never mixes channels and has no parameters). With stride
``s`` (by default ``s = k``, non-overlapping windows) the window of output ``(i, j)`` is the
set of pixels ``x[s·i + k, s·j + l]``, ``0 ≤ k < kh``, ``0 ≤ l < kw``, and

    max pooling:      a = max_{k,l} x[s·i + k, s·j + l]          ("was the feature present here?")
    average pooling:  a = (1 / kh·kw) Σ_{k,l} x[s·i + k, s·j + l]
    L2 pooling:       a = √( Σ_{k,l} x[s·i + k, s·j + l]² )

The output side is ``(n − k) // s + 1`` (rows or columns that do not fill a whole window are
dropped and receive zero gradient, as in PyTorch). Forward and backward loop over the ``kh·kw``
offsets inside the window, each step handling one strided slice of every window at once.

Backward, with ``δ = ∂C/∂a``:

    max:      ∂C/∂x = δ at the window's maximum, 0 elsewhere
    average:  ∂C/∂x = δ / (kh·kw) at every pixel of the window
    L2:       ∂C/∂x = δ · x / a   (taken as 0 where a = 0)

and a pixel in several overlapping windows adds up their contributions.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, as_float_array, describe
from .conv import check_images, pair, window_offsets
from .module import Module


class _Pool2D(Module):
    """Shared bookkeeping of the window-pooling layers: sizes, validation, window offsets."""

    def __init__(self, kernel_size, stride=None):
        who = type(self).__name__
        self.kernel_size = pair(kernel_size, who, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, who, "stride")
        self._x = None

    def _setup(self, x) -> np.ndarray:
        """Validate ``x``, cache it, and set the output size; returns ``x`` as a float array."""
        who = f"{type(self).__name__}({self.extra_repr()})"
        x = as_float_array(x, who)
        check_images(x, who)
        h, w = x.shape[2:]
        kh, kw = self.kernel_size
        if h < kh or w < kw:
            raise ShapeError(f"{who}: the {self.kernel_size} window does not fit in feature maps of size "
                             f"{(h, w)}; use a smaller kernel_size or fewer pooling layers.")
        self._x = x
        self._out_size = ((h - kh) // self.stride[0] + 1, (w - kw) // self.stride[1] + 1)
        return x

    def _offsets(self):
        """The index ``(:, :, rows, cols)`` of every kernel offset's pixels (see ``window_offsets``)."""
        for _, _, rows, cols in window_offsets(self.kernel_size, self.stride, self._out_size):
            yield slice(None), slice(None), rows, cols

    def _check_grad(self, grad_out) -> np.ndarray:
        name = type(self).__name__
        if self._x is None:
            raise RuntimeError(f"{name}.backward called before forward: run the forward pass first.")
        delta = as_float_array(grad_out, f"{name}.backward", self._x.dtype)
        expected = self._x.shape[:2] + self._out_size
        if delta.shape != expected:
            raise ShapeError(f"{name}.backward: expected a gradient of the output's shape {expected}, "
                             f"received {describe(delta)}.")
        return delta

    def extra_repr(self) -> str:
        kh, kw = self.kernel_size
        text = f"kernel_size={kh if kh == kw else self.kernel_size}"
        if self.stride != self.kernel_size:
            text += f", stride={self.stride[0] if self.stride[0] == self.stride[1] else self.stride}"
        return text


class MaxPool2D(_Pool2D):
    """Max pooling: ``a[n, c, i, j] = max_{k,l} x[n, c, s·i + k, s·j + l]``.

    ``kernel_size`` is the window side (or ``(kh, kw)``); ``stride`` defaults to it
    (non-overlapping windows). Backward routes ``δ`` to the position of each window's maximum.
    **Ties** (equal values in one window, e.g. zeros after a ReLU) send the whole gradient to
    *one* element only, the first in reading order (row by row), so the gradient is never
    duplicated; this is the same subgradient choice PyTorch makes.
    """

    def forward(self, x):
        x = self._setup(x)
        best = None
        for index in self._offsets():
            best = x[index].copy() if best is None else np.maximum(best, x[index], out=best)
        self._a = best
        return best.copy()  # the cached maxima must not change if the caller edits the output

    def backward(self, grad_out):
        # The first offset (in reading order) whose pixel equals the window's maximum takes what is
        # left of δ, so `left` drops to exactly 0 for that window and later ties receive nothing.
        left = self._check_grad(grad_out).copy()
        overlapping = self.stride[0] < self.kernel_size[0] or self.stride[1] < self.kernel_size[1]
        grad_x = np.zeros_like(self._x)
        for index in self._offsets():
            share = left * (self._x[index] == self._a)
            left -= share
            if overlapping:
                grad_x[index] += share
            else:
                grad_x[index] = share
        return grad_x


class AvgPool2D(_Pool2D):
    """Average pooling: ``a[n, c, i, j] = (1 / kh·kw) Σ_{k,l} x[n, c, s·i + k, s·j + l]``.

    Backward spreads ``δ / (kh·kw)`` evenly over each window. ``stride`` defaults to ``kernel_size``.
    """

    def forward(self, x):
        x = self._setup(x)
        total = None
        for index in self._offsets():
            total = x[index].copy() if total is None else np.add(total, x[index], out=total)
        total /= self.kernel_size[0] * self.kernel_size[1]
        return total

    def backward(self, grad_out):
        delta = self._check_grad(grad_out) / (self.kernel_size[0] * self.kernel_size[1])
        grad_x = np.zeros_like(self._x)
        for index in self._offsets():
            grad_x[index] += delta
        return grad_x


class L2Pool2D(_Pool2D):
    """L2 pooling: ``a[n, c, i, j] = √( Σ_{k,l} x[n, c, s·i + k, s·j + l]² )``.

    The Euclidean norm of each window: between average pooling (all pixels count) and max
    pooling (large pixels dominate). Backward: ``∂C/∂x = δ · x / a``, taken as 0 for a window of
    zeros (where the norm has no derivative). ``stride`` defaults to ``kernel_size``.
    """

    def forward(self, x):
        x = self._setup(x)
        total = None
        for index in self._offsets():
            square = np.square(x[index])
            total = square if total is None else np.add(total, square, out=total)
        self._a = np.sqrt(total, out=total)
        return self._a.copy()

    def backward(self, grad_out):
        delta = self._check_grad(grad_out)
        a = self._a
        scale = np.divide(delta, a, out=np.zeros_like(a), where=a > 0)
        grad_x = np.zeros_like(self._x)
        for index in self._offsets():
            grad_x[index] += scale * self._x[index]
        return grad_x


class KMaxPool(Module):
    """k-max pooling: keep the ``k`` largest values along ``axis``, **in their original order**.

    For a sequence ``x₁ … x_m`` along ``axis`` the output is the subsequence of its ``k``
    largest values ``x_{p₁}, …, x_{p_k}`` with ``p₁ < … < p_k`` (Kalchbrenner et al., 2014):
    unlike sorting, it keeps *where* the strong features came from relative to each other.
    Max pooling over the whole axis is the case ``k = 1``. Backward copies ``δ`` to the selected
    positions and 0 elsewhere. Among equal values, which ones are kept is unspecified.

    ``axis`` is any axis but the batch axis (default: the last, e.g. the columns of
    ``(n, c, h, w)`` feature maps, or the time axis of ``(n, t, features)`` sequences).
    """

    def __init__(self, k: int, axis: int = -1):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"KMaxPool: k must be a positive int, received {k!r}.")
        if not isinstance(axis, (int, np.integer)) or axis == 0:
            raise ValueError(f"KMaxPool: axis must be an int other than 0 (the batch axis), received {axis!r}.")
        self.k, self.axis = int(k), int(axis)
        self._index = None

    def forward(self, x):
        who = f"KMaxPool({self.extra_repr()})"
        x = as_float_array(x, who)
        if x.ndim < 2 or not -x.ndim < self.axis < x.ndim:
            raise ShapeError(f"{who}: expected a batch with an axis {self.axis} besides the batch axis 0, "
                             f"received {describe(x)}.")
        m = x.shape[self.axis]
        if m < self.k:
            raise ShapeError(f"{who}: axis {self.axis} has only {m} values, fewer than k = {self.k}; "
                             "lower k or pool a longer axis.")
        top = np.argpartition(x, m - self.k, axis=self.axis)
        index = np.sort(np.take(top, np.arange(m - self.k, m), axis=self.axis), axis=self.axis)
        self._index, self._shape, self._dtype = index, x.shape, x.dtype
        return np.take_along_axis(x, index, axis=self.axis)

    def backward(self, grad_out):
        if self._index is None:
            raise RuntimeError("KMaxPool.backward called before forward: run the forward pass first.")
        delta = np.asarray(grad_out)
        if delta.shape != self._index.shape:
            raise ShapeError(f"KMaxPool.backward: expected a gradient of the output's shape "
                             f"{self._index.shape}, received {describe(delta)}.")
        grad_x = np.zeros(self._shape, dtype=np.result_type(delta.dtype, self._dtype))
        np.put_along_axis(grad_x, self._index, delta, axis=self.axis)
        return grad_x

    def extra_repr(self) -> str:
        return f"k={self.k}, axis={self.axis}"


class Flatten(Module):
    """Flatten every example into one row: ``(n, c, h, w) → (n, c·h·w)`` (e.g. before ``Dense``).

    The order is C order (channel, then row, then column), as ``x.reshape(n, -1)``; backward
    reshapes ``δ`` back to the input's shape.
    """

    def __init__(self):
        self._shape = None

    def forward(self, x):
        x = np.asarray(x)
        if x.ndim < 2:
            raise ShapeError(f"Flatten: expected a batch of shape (batch, ...), received {describe(x)}. "
                             "A single example needs a batch axis: use x[None].")
        self._shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_out):
        if self._shape is None:
            raise RuntimeError("Flatten.backward called before forward: run the forward pass first.")
        return np.asarray(grad_out).reshape(self._shape)
