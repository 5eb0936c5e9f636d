"""The fully connected (dense, affine) layer."""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import as_float_array, check_shape
from .module import DEFAULT_DTYPE, Module, Parameter


class Dense(Module):
    """Fully connected layer: ``Z = X W + b``.

    Shapes: ``X`` is ``(n, n_in)`` (one example per row), ``W`` is ``(n_in, n_out)``, ``b`` is
    ``(n_out,)`` and ``Z`` is ``(n, n_out)``. With ``δ = ∂C/∂Z`` arriving from above:

        ∂C/∂W = Xᵀ δ,      ∂C/∂b = Σₙ δₙ (sum over the batch),      ∂C/∂X = δ Wᵀ

    Parameters
    ----------
    n_in, n_out : number of inputs and of units.
    init : initializer name or function for ``W`` (see :mod:`coursepkg.init`); default
        ``"scaled_normal"`` (N(0, 1/n_in)). Biases start at zero unless ``bias_init="normal"``.
    bias : whether the layer has a bias ``b``.
    rng : seed or ``numpy.random.Generator``.
    dtype : parameter dtype (float32 by default, as in PyTorch); inputs are cast to it.
    """

    def __init__(self, n_in: int, n_out: int, init="scaled_normal", bias: bool = True,
                 bias_init: str = "zeros", rng=None, dtype=DEFAULT_DTYPE):
        if int(n_in) <= 0 or int(n_out) <= 0:
            raise ValueError(f"Dense: n_in and n_out must be positive, received {n_in}, {n_out}.")
        self.n_in, self.n_out = int(n_in), int(n_out)
        rng = initializers.make_rng(rng)
        self.W = Parameter(initializers.get(init)((self.n_in, self.n_out), self.n_in, self.n_out,
                                                  rng, dtype))
        if bias:
            b = initializers.get(bias_init)((self.n_out,), self.n_in, self.n_out, rng, dtype)
            self.b = Parameter(b)
        else:
            self.b = None
        self._x = None

    def forward(self, x):
        if not (type(x) is np.ndarray and x.dtype == self.W.data.dtype and x.shape[1:] == (self.n_in,)):
            x = as_float_array(x, self, self.W.data.dtype)  # fast path above: no conversion, no checks
            check_shape(x, self, (None, self.n_in))
        self._x = x
        z = x @ self.W.data
        if self.b is not None:
            z += self.b.data
        return z

    def backward(self, grad_out):
        if self._x is None:
            raise RuntimeError("Dense.backward called before forward: run the forward pass first.")
        self.W.add_grad_matmul(self._x.T, grad_out)
        if self.b is not None:
            self.b.add_grad_sum(grad_out, axis=0)
        return grad_out @ self.W.data.T if self.needs_input_grad else None

    def extra_repr(self) -> str:
        return f"{self.n_in}, {self.n_out}" + ("" if self.b is not None else ", bias=False")
