"""Checkers for chapter 11, convolutional neural networks (``solutions/11_cnns.ipynb``).

The references are the package's layers (``Conv2D``, ``MaxPool2D``) in float64, run on fresh random
inputs. Beyond the generic hints of ``expect_close``, the checkers recognize the typical mistakes of
this chapter: a flipped kernel (a true convolution instead of the cross-correlation), the wrong border
mode or an off-by-one output size, a missing bias, padding with something other than zeros, pooling
gradients spread over the window or duplicated over ties, and the unrotated kernel in ``∂C/∂x``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ...nn import Conv2D, MaxPool2D, conv_output_size
from ..compare import call_learner, expect_close, expect_shape, fail, matches
from ..registry import exercise

# the learner's function, called with this chapter's example of how to avoid in-place changes
_call = partial(call_learner, fix=(
    'e.g. np.pad returns a new array; `x += …` does not'))

MODES = ("valid", "same", "full")


def _conv(x, W, b, padding):
    """The reference: ``Conv2D`` in float64 with the given weights (``b=None``: no bias)."""
    layer = Conv2D(W.shape[1], W.shape[0], W.shape[2:], padding=padding, bias=b is not None,
                   dtype=np.float64)
    layer.W.data[:] = W
    if b is not None:
        layer.b.data[:] = b
    return layer, layer(x)


_close = partial(matches, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------------------------- 11.1
def _side_hint(got_shape, x_shape, k, mode) -> str:
    """Explain a wrong output size: another border mode's size, or off by one."""
    _, _, h, w = x_shape
    want = (h + 2 * _pad(mode, k) - k + 1, w + 2 * _pad(mode, k) - k + 1)
    for other in MODES:
        p = _pad(other, k)
        if other != mode and tuple(got_shape[2:]) == (h + 2 * p - k + 1, w + 2 * p - k + 1):
            return (f"For mode '{mode}' your output has the size of border mode '{other}'. '{mode}' pads "
                    f"{_pad_text(mode)} zeros on each side; the output side is n + 2p − k + 1.")
    diff = {got_shape[2] - want[0], got_shape[3] - want[1]} if len(got_shape) == 4 else set()
    if diff in ({1}, {-1}):
        return (f"For mode '{mode}' your output is off by one pixel per side: a window of side k fits at "
                "n + 2p − k + 1 positions along a side of n pixels with p zeros on each side (don't forget the +1, "
                "and range(0, n + 2p − k + 1) for the window starts).")
    if len(got_shape) == 4 and tuple(got_shape[2:]) == (want[1], want[0]) and want[0] != want[1]:
        return "Your output's rows and columns are swapped: keep the layout (n, c_out, height, width)."
    return (f"For mode '{mode}' the output should have shape (n, c_out, h + 2p − k + 1, w + 2p − k + 1) "
            f"with p = {_pad_text(mode)}.")


def _pad(mode, k) -> int:
    return {"valid": 0, "same": k // 2, "full": k - 1}[mode]


def _pad_text(mode) -> str:
    return {"valid": "p = 0", "same": "p = k // 2", "full": "p = k − 1"}[mode]


@exercise("11.1", points=3, title="Convolution forward pass with border modes")
def _check_conv2d(fn, rng):
    n, c_in, c_out = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 4))
    k = int(rng.choice([3, 5]))
    h = int(rng.integers(6, 9))
    w = h + int(rng.integers(1, 3))  # rectangular images reveal swapped axes
    x = rng.normal(size=(n, c_in, h, w))
    W = rng.normal(size=(c_out, c_in, k, k))
    b = rng.normal(size=c_out)
    for mode in MODES:
        what = f"conv2d(x, W, b, mode='{mode}')"
        got = np.asarray(_call(fn, x, W, b, mode), dtype=np.float64)
        _, want = _conv(x, W, b, mode)
        if got.shape != want.shape:
            fail(f"{what} has shape {got.shape} for x of shape {x.shape} and W of shape {W.shape}; expected "
                 f"{want.shape}. " + _side_hint(got.shape, x.shape, k, mode))
        if _close(got, want):
            continue
        if _close(got, _conv(x, W[:, :, ::-1, ::-1], b, mode)[1]):
            fail(f"{what}: your kernel is flipped. You computed a true convolution (index x[i − k, j − l], or the "
                 "kernel rotated by 180°); the layer computes the cross-correlation z[i, j] = b + Σ W[k, l] · "
                 "x[i + k, j + l] with the kernel as it is.")
        if _close(got, _conv(x, W, None, mode)[1]):
            fail(f"{what}: the bias is missing: add b[f] to every position of feature map f.")
        if _close(got, _conv(x, W, None, mode)[1] + b.sum()):
            fail(f"{what}: each feature map f gets its own bias b[f] (broadcast b as b[None, :, None, None]), "
                 "not the sum of all biases.")
        p = _pad(mode, k)
        edge = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
        if p and _close(got, _conv(edge, W, b, "valid")[1]):
            fail(f"{what}: pad with zeros (np.pad's default mode='constant'), not with copies of the border pixels.")
        expect_close(got, want, what=what)


# ------------------------------------------------------------------------------------------- 11.2
def _pool_reference(x, delta, size):
    pool = MaxPool2D(size)
    pool(x)
    return pool.backward(delta)


def _upsample(delta, size):
    return np.repeat(np.repeat(delta, size, axis=2), size, axis=3)


@exercise("11.2", points=2, title="Max-pooling backward pass")
def _check_max_pool_backward(fn, rng):
    n, c, size = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.choice([2, 3]))
    oh = int(rng.integers(2, 5))
    ow = oh + 1
    x = rng.normal(size=(n, c, oh * size, ow * size))
    delta = rng.normal(size=(n, c, oh, ow))
    what = f"max_pool_backward(x, grad_out, size={size})"
    got = expect_shape(np.asarray(_call(fn, x, delta, size), dtype=np.float64), x.shape,
                       f"{what} (∂C/∂x has the shape of x)")
    want = _pool_reference(x, delta, size)
    if not _close(got, want):
        up = _upsample(delta, size)
        if _close(got, up / size**2):
            fail(f"{what}: you spread δ evenly over the window — that is the gradient of *average* pooling. "
                 "For max pooling only the window's maximum influenced the output, so only it receives δ.")
        if _close(got, up):
            fail(f"{what}: you copied δ to every pixel of the window; only the window's maximum should receive "
                 "it (the others get 0).")
        if _close(got, _pool_reference(-x, delta, size)):
            fail(f"{what}: δ went to each window's minimum; it belongs to the maximum (argmax, not argmin).")
        # δ at the mirror position (column, row) of each window's maximum: each size × size window transposed
        windows_swapped = want.reshape(n, c, oh, size, ow, size).transpose(0, 1, 2, 5, 4, 3).reshape(x.shape)
        if _close(got, windows_swapped):
            fail(f"{what}: rows and columns are mixed up when you cut x into windows or put δ back.")
        expect_close(got, want, what=what, inputs={"x": x})
    # ties, as after a ReLU: small integers make many windows hold several equal maxima
    x_ties = rng.integers(0, 3, size=x.shape).astype(np.float64)
    got = expect_shape(np.asarray(_call(fn, x_ties, delta, size), dtype=np.float64), x.shape, what)
    want = _pool_reference(x_ties, delta, size)
    if not _close(got, want):
        last_first = _pool_reference(x_ties[:, :, ::-1, ::-1], delta[:, :, ::-1, ::-1], size)[:, :, ::-1, ::-1]
        every_max = _upsample(delta, size) * (x_ties == _upsample(MaxPool2D(size)(x_ties), size))
        if _close(got, every_max):
            fail(f"{what}: with ties (several equal maxima in a window, e.g. zeros after a ReLU) you give δ to all "
                 "of them, so the gradient is counted several times. Give it to exactly one: the first maximum "
                 "in reading order (np.argmax of the flattened window).", partial=0.5)
        if _close(got, last_first):
            fail(f"{what}: with ties give δ to the *first* maximum in reading order (row by row), not the last.",
                 partial=0.5)
        fail(f"{what}: right without ties, wrong when a window holds several equal maxima: give δ to exactly "
             "one of them, the first in reading order (row by row).", partial=0.5)


# ------------------------------------------------------------------------------------------- 11.3
@exercise("11.3", points=3, title="Convolution backward pass")
def _check_conv2d_backward(fn, rng):
    n, c_in, c_out = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 4))
    if c_in == c_out:
        c_out += 1  # different channel counts reveal swapped axes of W
    k = int(rng.choice([2, 3]))
    h = int(rng.integers(5, 8))
    w = h + 1
    x = rng.normal(size=(n, c_in, h, w))
    W = rng.normal(size=(c_out, c_in, k, k))
    oh, ow = conv_output_size(h, k), conv_output_size(w, k)
    delta = rng.normal(size=(n, c_out, oh, ow))
    layer, _ = _conv(x, W, np.zeros(c_out), "valid")
    want_x = layer.backward(delta)
    want_W, want_b = layer.W.grad, layer.b.grad
    result = _call(fn, x, W, delta)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail("conv2d_backward should return three arrays (grad_x, grad_W, grad_b), e.g. "
             "`return grad_x, grad_W, grad_b`.")
    got = [np.asarray(r, dtype=np.float64) for r in result]
    hints = []
    # ∂C/∂b
    if got[2].shape == (n, c_out):
        hints.append("grad_b: also sum over the batch: b is shared by every example and every position, so "
                     "∂C/∂b[f] = Σ over n, i, j of δ[n, f, i, j].")
    elif not _close(got[2], want_b):
        if got[2].shape == want_b.shape and _close(got[2] * n, want_b):
            hints.append("grad_b is n times too small: the gradient sums over the examples (no mean here; "
                         "grad_out already carries any 1/n of the cost).")
        else:
            hints.append(_hint_of(got[2], want_b, "grad_b", "sum δ over the batch and over all positions (i, j)."))
    # ∂C/∂W
    if not _close(got[1], want_W):
        if got[1].shape == (c_in, c_out, k, k):
            hints.append("grad_W has shape (c_in, c_out, k, k): it must have W's shape (c_out, c_in, k, k).")
        elif _close(got[1], want_W[:, :, ::-1, ::-1]):
            hints.append("grad_W is rotated by 180°: ∂C/∂W[f, c, k, l] = Σ δ[n, f, i, j] · x[n, c, i + k, j + l] "
                         "pairs kernel offset (k, l) with the input pixel shifted by (k, l).")
        elif got[1].shape == want_W.shape and _close(got[1] * n, want_W):
            hints.append("grad_W is n times too small: sum over the examples of the batch, don't average.")
        else:
            hints.append(_hint_of(got[1], want_W, "grad_W", "for each kernel offset (k, l), sum δ times the "
                                                           "input window shifted by (k, l), over n, i and j."))
    # ∂C/∂x
    if not _close(got[0], want_x):
        unrotated = Conv2D(c_out, c_in, k, padding="full", bias=False, dtype=np.float64)
        unrotated.W.data[:] = W.transpose(1, 0, 2, 3)
        if _close(got[0], unrotated(delta)):
            hints.append("grad_x uses the kernel unrotated: ∂C/∂x[r, q] = Σ δ[i, j] · W[r − i, q − j] runs the kernel "
                         "index backwards, so as a 'full' cross-correlation of δ the kernel must be rotated by 180° "
                         "(W[:, :, ::-1, ::-1]). Or loop over the offsets (k, l) and add δ · W[:, :, k, l] into "
                         "the window x[:, :, k:k + oh, l:l + ow].")
        else:
            hints.append(_hint_of(got[0], want_x, "grad_x", "every pixel collects δ · W from every window that "
                                                           "contains it (sum over filters f too)."))
    if hints:
        right = 3 - len(hints)
        fail(" ".join(hints) + (f" ({right} of the 3 gradients are right.)" if right else ""), partial=right / 3)


def _hint_of(got, want, what, advice) -> str:
    """The generic hint of ``expect_close`` for one gradient, as text, plus ``advice``."""
    try:
        expect_close(got, want, what=what)
    except AssertionError as err:
        return f"{err} Hint: {advice}"
    return ""
