"""The convolutional layer ``Conv2D`` and the im2col machinery behind it.

Images are batches of shape ``(n, c, h, w)``: examples, channels, rows, columns.

A convolutional unit looks at a small *local receptive field* of ``kh × kw`` pixels in every
input channel, and all units of one feature map *share* the same weights and bias, so the
map detects the same feature wherever it appears. With ``x`` the (padded) input, filter ``f``
with weights ``W[f]`` of shape ``(c_in, kh, kw)`` and stride ``s``:

    z[n, f, i, j] = b[f] + Σ_c Σ_k Σ_l  W[f, c, k, l] · x[n, c, s·i + k, s·j + l]

This is a *cross-correlation* (the kernel is not flipped), which is what PyTorch, TensorFlow
and the course notes call "convolution"; a learned kernel does not care about the difference.

**Border modes** (how many zeros are added around each side before sliding the window), for
an image side ``n`` and a kernel side ``k``:

========================  ===========  ==================================  ========================
mode                      padding p    output side (stride 1)              also called
========================  ===========  ==================================  ========================
``"valid"``               0            n − k + 1                           narrow convolution
``"same"`` / ``"half"``   k // 2       n (odd k), n + 1 (even k)           wide convolution
``"full"``                k − 1        n + k − 1                           wide convolution
an integer p              p            n + 2p − k + 1
========================  ===========  ==================================  ========================

and with stride ``s`` in general: ``(n + 2p − k) // s + 1`` (:func:`conv_output_size`).

**Vectorization (im2col).** Every receptive field is copied into one column of a matrix, so
the whole layer is a single matrix product for the batch (:func:`im2col`):

    cols : (c_in·kh·kw, oh·ow·n),   W₂ = W.reshape(c_out, c_in·kh·kw),   z = W₂ · cols + b

The columns are gathered by a loop over the ``kh·kw`` kernel offsets (never over pixels or
examples), each step copying one strided slice of all windows; backward reuses them. With
``δ = ∂C/∂z`` arranged like ``z``:

    ∂C/∂W₂ = δ · colsᵀ,     ∂C/∂b = Σ over examples and positions of δ,     ∂C/∂cols = W₂ᵀ · δ

and ``∂C/∂x`` is assembled from ``∂C/∂cols`` by :func:`col2im`, again one strided slice per
kernel offset (a pixel inside several receptive fields sums their gradients; no ``np.add.at``).
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array, describe
from .module import DEFAULT_DTYPE, Module, Parameter

BORDER_MODES = ("valid", "same", "half", "full")


# ------------------------------------------------------------------------- sizes and padding
def pair(value, who: str, name: str, allow_zero: bool = False) -> tuple[int, int]:
    """``value`` as a ``(rows, cols)`` pair of ints: ``3 → (3, 3)``, ``(3, 5) → (3, 5)``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    low = 0 if allow_zero else 1
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  and v >= low for v in items):
        bound = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{who}: {name} must be {bound} int or a pair of them, received {value!r}.")
    return int(items[0]), int(items[1])


def padding_for(mode, kernel_size: int) -> int:
    """The zeros added on each side for border ``mode`` and a kernel side ``kernel_size``.

    ``"valid"`` → 0, ``"same"``/``"half"`` → k // 2, ``"full"`` → k − 1, an int → itself.
    """
    if isinstance(mode, str):
        key = mode.lower()
        if key not in BORDER_MODES:
            raise ValueError(f"padding: unknown border mode {mode!r}; choose one of {BORDER_MODES} "
                             "or give the number of zeros to add on each side.")
        return {"valid": 0, "same": kernel_size // 2, "half": kernel_size // 2,
                "full": kernel_size - 1}[key]
    if isinstance(mode, (int, np.integer)) and not isinstance(mode, bool) and mode >= 0:
        return int(mode)
    raise ValueError(f"padding: expected a border mode {BORDER_MODES} or a non-negative int, "
                     f"received {mode!r}.")


def conv_output_size(n: int, k: int, stride: int = 1, padding=0) -> int:
    """Side of the feature map: ``(n + 2p − k) // s + 1`` for an input side ``n``, kernel side ``k``.

    ``padding`` is the number of zeros ``p`` added on each side or a border mode (``"valid"``,
    ``"same"``/``"half"``, ``"full"``). Pooling layers use the same formula with ``p = 0``.
    """
    p = padding_for(padding, k)
    if stride < 1:
        raise ValueError(f"conv_output_size: stride must be ≥ 1, received {stride}.")
    if n + 2 * p < k:
        raise ValueError(f"conv_output_size: a kernel of side {k} does not fit in an input of side {n} "
                         f"padded by {p} on each side; use a smaller kernel or more padding.")
    return (n + 2 * p - k) // stride + 1


def check_images(x: np.ndarray, who: str, channels: int | None = None) -> None:
    """Raise ``ShapeError`` unless ``x`` is a batch of images ``(n, c, h, w)`` (with ``c = channels``)."""
    want = f"(batch, {channels if channels is not None else 'channels'}, height, width)"
    if x.ndim == 4 and (channels is None or x.shape[1] == channels):
        return
    if x.ndim == 2:
        hint = (" Flat rows must be reshaped to images first, e.g. MNIST rows of 784 pixels with "
                "x.reshape(-1, 1, 28, 28).")
    elif x.ndim == 3:
        hint = (" A single image needs a batch axis (x[None]); a batch of one-channel images needs a "
                "channel axis (x[:, None]).")
    elif x.ndim == 4:
        hint = (f" The input has {x.shape[1]} channels but the layer was built for {channels}; "
                "check c_in, and that the channel axis comes second (use x.transpose(0, 3, 1, 2) "
                "for channels-last images).")
    else:
        hint = ""
    raise ShapeError(f"{who}: expected input of shape {want}, received {describe(x)}.{hint}")


def window_offsets(kernel_size: tuple[int, int], stride: tuple[int, int], out_size: tuple[int, int]):
    """Yield ``(k, l, rows, cols)`` for every kernel offset ``(k, l)``: the slices that pick pixel
    ``(s·i + k, s·j + l)`` of every window ``(i, j)``, e.g. ``x[:, :, rows, cols]`` is the
    ``(n, c, oh, ow)`` array of the offset-``(k, l)`` pixels of all windows.

    Looping over these ``kh·kw`` offsets (never over pixels) is how pooling, :func:`im2col` and
    :func:`col2im` stay vectorized.
    """
    (kh, kw), (sh, sw), (oh, ow) = kernel_size, stride, out_size
    for k in range(kh):
        for l in range(kw):
            yield k, l, slice(k, k + sh * (oh - 1) + 1, sh), slice(l, l + sw * (ow - 1) + 1, sw)


def _out_size(image_size, kernel_size, stride, padding) -> tuple[int, int]:
    return tuple(conv_output_size(n, k, s, p) for n, k, s, p in zip(image_size, kernel_size, stride, padding))


# ------------------------------------------------------------------------- im2col / col2im
def im2col(x: np.ndarray, kernel_size, stride=1, padding=0) -> np.ndarray:
    """Every receptive field of the images ``x`` ``(n, c, h, w)`` as one column of a matrix.

    Returns ``cols`` of shape ``(c·kh·kw, oh·ow·n)``. Row ``(c, k, l)`` (in C order, matching
    ``W.reshape(c_out, -1)``) holds pixel ``(k, l)`` of channel ``c`` of every window; column
    ``(i·ow + j)·n + e`` is window ``(i, j)`` of example ``e``, so a convolution is one product
    ``W₂ · cols``. ``padding`` is the number of zeros on each side (int or ``(ph, pw)``).

    Layout: the example index varies fastest, so each of the ``kh·kw`` copies (one per kernel
    offset) moves long contiguous runs of ``ow·n`` numbers, and the matrix products are large
    enough for BLAS to run at full speed on one batch rather than on many small per-image ones.
    """
    kernel_size, stride = pair(kernel_size, "im2col", "kernel_size"), pair(stride, "im2col", "stride")
    ph, pw = pair(padding, "im2col", "padding", allow_zero=True)
    n, c, h, w = x.shape
    oh, ow = _out_size((h, w), kernel_size, stride, (ph, pw))
    batch_last = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)
    batch_last[:, ph:ph + h, pw:pw + w] = x.transpose(1, 2, 3, 0)
    cols = np.empty((c, *kernel_size, oh, ow, n), dtype=x.dtype)
    for k, l, rows, columns in window_offsets(kernel_size, stride, (oh, ow)):
        cols[:, k, l] = batch_last[:, rows, columns]
    return cols.reshape(c * kernel_size[0] * kernel_size[1], oh * ow * n)


def batch_first(a: np.ndarray, block: int = 128) -> np.ndarray:
    """A C-contiguous copy of ``a`` with its last axis (the batch, in im2col's layout) moved first:
    ``(…, n) → (n, …)``.

    ``np.ascontiguousarray(a.transpose(-1, 0, …))`` reads ``a`` with a stride of ``n`` numbers
    and misses the cache on nearly every read, since the other numbers of each cache line are
    needed only a whole image later. Copying ``block`` rows of the ``(…, n)`` matrix at a time
    reuses each line while it is still in the L1 cache (about 10× faster for a conv layer's output).
    """
    n = a.shape[-1]
    rows = np.ascontiguousarray(a).reshape(-1, n)
    out = np.empty((n, len(rows)), dtype=a.dtype)
    for i in range(0, len(rows), block):
        out[:, i:i + block] = rows[i:i + block].T
    return out.reshape(n, *a.shape[:-1])


def col2im(cols: np.ndarray, image_shape: tuple, kernel_size, stride=1, padding=0) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every column back onto the pixels it was copied from.

    ``cols`` has the shape :func:`im2col` returns for images of ``image_shape = (n, c, h, w)``;
    the result has ``image_shape``. This turns ``∂C/∂cols`` into ``∂C/∂x``: a pixel inside
    several receptive fields sums their gradients, and the padding's share is dropped. It loops
    over the ``kh·kw`` kernel offsets, adding one strided slice per offset.
    """
    kernel_size, stride = pair(kernel_size, "col2im", "kernel_size"), pair(stride, "col2im", "stride")
    ph, pw = pair(padding, "col2im", "padding", allow_zero=True)
    n, c, h, w = image_shape
    oh, ow = _out_size((h, w), kernel_size, stride, (ph, pw))
    per_offset = cols.reshape(c, *kernel_size, oh, ow, n)
    batch_last = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
    for k, l, rows, columns in window_offsets(kernel_size, stride, (oh, ow)):
        batch_last[:, rows, columns] += per_offset[:, k, l]
    return batch_first(batch_last[:, ph:ph + h, pw:pw + w])


# ------------------------------------------------------------------------- the layer
class Conv2D(Module):
    """2-D convolutional layer: ``z[n, f] = b[f] + Σ_c W[f, c] ⋆ x[n, c]`` (⋆: cross-correlation).

    Parameters
    ----------
    c_in, c_out : input channels and number of filters (feature maps).
    kernel_size : side of the square receptive field, or ``(kh, kw)``.
    stride : step between neighbouring receptive fields (int or pair), default 1.
    padding : border mode ``"valid"`` (default; narrow), ``"same"``/``"half"`` (``k // 2`` zeros),
        ``"full"`` (``k − 1`` zeros), or the number of zeros on each side (int or pair).
    init : initializer for ``W`` of shape ``(c_out, c_in, kh, kw)``, with fan-in ``c_in·kh·kw``
        and fan-out ``c_out·kh·kw``; default ``"he"`` (N(0, 2/fan-in), for ReLU), ``"xavier"``
        for sigmoid/tanh. ``b`` has one shared bias per filter, starting at zero.
    bias, rng, dtype : as for :class:`~coursepkg.nn.Dense` (float32 by default).

    Input ``(n, c_in, h, w)``, output ``(n, c_out, oh, ow)`` with ``oh = conv_output_size(h, kh,
    stride, padding)``. See the module docstring for the equations of the backward pass.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size, stride=1, padding="valid",
                 init="he", bias: bool = True, rng=None, dtype=DEFAULT_DTYPE):
        who = "Conv2D"
        self.c_in, self.c_out = pair((c_in, c_out), who, "c_in and c_out")
        self.kernel_size = pair(kernel_size, who, "kernel_size")
        self.stride = pair(stride, who, "stride")
        self.border = padding
        if isinstance(padding, (tuple, list)):
            self.padding = pair(padding, who, "padding", allow_zero=True)
        else:
            self.padding = tuple(padding_for(padding, k) for k in self.kernel_size)
        kh, kw = self.kernel_size
        rng = initializers.make_rng(rng)
        shape = (self.c_out, self.c_in, kh, kw)
        self.W = Parameter(initializers.get(init)(shape, self.c_in * kh * kw, self.c_out * kh * kw,
                                                  rng, dtype))
        self.b = Parameter(np.zeros(self.c_out, dtype=dtype)) if bias else None
        self._cols = None

    def output_shape(self, input_shape: tuple) -> tuple:
        """``(n, c_out, oh, ow)`` for an input of shape ``(n, c_in, h, w)``."""
        return (input_shape[0], self.c_out) + _out_size(input_shape[2:], self.kernel_size, self.stride,
                                                         self.padding)

    def forward(self, x):
        who = f"Conv2D({self.extra_repr()})"
        x = as_float_array(x, who, self.W.data.dtype)
        check_images(x, who, self.c_in)
        padded = [size + 2 * p for size, p in zip(x.shape[2:], self.padding)]
        if any(size < k for size, k in zip(padded, self.kernel_size)):
            raise ShapeError(f"{who}: the {self.kernel_size} kernel does not fit in images of size "
                             f"{x.shape[2:]} padded to {tuple(padded)}; use larger images, a smaller "
                             "kernel or more padding (e.g. padding='same').")
        n, _, oh, ow = out_shape = self.output_shape(x.shape)
        cols = im2col(x, self.kernel_size, self.stride, self.padding)
        self._cols, self._x_shape, self._out_shape = cols, x.shape, out_shape
        z = self.W.data.reshape(self.c_out, -1) @ cols  # (c_out, oh·ow·n): one GEMM for the batch
        if self.b is not None:
            z += self.b.data[:, None]
        return batch_first(z.reshape(self.c_out, oh, ow, n))

    def backward(self, grad_out):
        if self._cols is None:
            raise RuntimeError("Conv2D.backward called before forward: run the forward pass first.")
        delta = as_float_array(grad_out, "Conv2D.backward", self.W.data.dtype)
        if delta.shape != self._out_shape:
            raise ShapeError(f"Conv2D.backward: expected a gradient of the output's shape "
                             f"{self._out_shape}, received {describe(delta)}.")
        delta = np.ascontiguousarray(delta.transpose(1, 2, 3, 0)).reshape(self.c_out, -1)  # im2col's order
        W2 = self.W.data.reshape(self.c_out, -1)
        self.W.add_grad_matmul(delta, self._cols.T)
        if self.b is not None:
            self.b.add_grad_sum(delta, axis=1)
        if not self.needs_input_grad:
            return None
        return col2im(W2.T @ delta, self._x_shape, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        kh, kw = self.kernel_size
        text = f"{self.c_in}, {self.c_out}, kernel_size={kh if kh == kw else self.kernel_size}"
        if self.stride != (1, 1):
            text += f", stride={self.stride[0] if self.stride[0] == self.stride[1] else self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.border!r}"
        return text + ("" if self.b is not None else ", bias=False")


def feature_maps(model, x) -> list[tuple[str, np.ndarray]]:
    """Run ``x`` through the ``Sequential`` ``model`` and return ``(name, output)`` of every layer.

    ``name`` is ``"index: repr"`` (e.g. ``"0: Conv2D(1, 20, kernel_size=5)"``); the outputs of
    convolution and pooling layers have shape ``(n, c, h, w)`` and can be shown as images, one per
    feature map. Nothing is cached for backward beyond what the layers' ``forward`` keeps.
    """
    maps = []
    for i, layer in enumerate(model):
        x = layer.forward(x)
        maps.append((f"{i}: {layer!r}", x))
    return maps
