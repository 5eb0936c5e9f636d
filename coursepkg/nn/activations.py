"""Activation functions as modules: ``a = f(z)`` forward, ``∂C/∂z = ∂C/∂a ⊙ f'(z)`` backward.

Element-wise activations accept an array of any shape with the batch first (``(n, units)``,
``(n, channels, h, w)``, …), keep its floating dtype and return the gradient with respect to
their input in that dtype. The formulas live in :mod:`coursepkg.nn.functional`.

Two layers here are more than a function of one number: :class:`Softmax` / :class:`LogSoftmax`
couple all the units of a row, and :class:`Maxout` owns weights (it is an affine layer followed
by a max over groups of units).
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array, check_positive, check_shape
from . import functional as F
from .module import DEFAULT_DTYPE, Module, Parameter


class _Activation(Module):
    """Shared plumbing: validate the input, cache it and the output, check ``grad_out``.

    Subclasses implement ``_forward(x) -> a`` and ``_backward(g) -> ∂C/∂x`` (``g = ∂C/∂a``) and
    may read ``self._x`` and ``self._a`` (the cached input and output).
    """

    _x = None
    _a = None

    def _dtype(self):
        """The dtype inputs are cast to: ``None`` keeps the input's own floating dtype."""
        return None

    def _validate(self, x) -> np.ndarray:
        dtype = self._dtype()
        if type(x) is np.ndarray and x.ndim and (x.dtype == dtype if dtype else x.dtype.kind == "f"):
            return x  # fast path: the common case pays no formatting of error messages
        x = as_float_array(x, self, dtype)
        if x.ndim == 0:
            raise ShapeError(
                f"{self!r}: expected a batch (an array with the batch axis first), received a "
                "0-d scalar. Wrap a single value as np.array([[z]])."
            )
        return x

    def forward(self, x):
        x = self._validate(x)
        self._x = x
        self._a = self._forward(x)
        return self._a

    def backward(self, grad_out):
        if self._x is None:
            raise RuntimeError(f"{self!r}.backward called before forward: run the forward pass first.")
        g = grad_out if type(grad_out) is np.ndarray and grad_out.dtype.kind == "f" else \
            as_float_array(grad_out, f"{self!r}.backward")
        if g.shape != self._a.shape:
            raise ShapeError(
                f"{self!r}.backward: expected grad_out of the output's shape {self._a.shape}, "
                f"received shape {g.shape}. Pass ∂C/∂a for the output of the last forward call."
            )
        return np.asarray(self._backward(g), dtype=self._x.dtype)

    def _forward(self, x):
        raise NotImplementedError

    def _backward(self, g):
        raise NotImplementedError


class Identity(_Activation):
    """The linear activation ``a = z``, ``∂C/∂z = ∂C/∂a`` (e.g. the output of a regression net)."""

    def _forward(self, x):
        return x

    def _backward(self, g):
        return g


class Step(_Activation):
    """Perceptron threshold unit: ``a = 1`` if ``z > threshold``, else ``low`` (0, or −1 for ±1 units).

    Its derivative is 0 everywhere except at the threshold, where it does not exist, so
    ``backward`` returns zeros: no gradient reaches the weights below. That is why perceptrons
    are trained with the perceptron rule (``w ← w + η (y − a) x``), not with backpropagation,
    and why backprop needs a smooth unit such as :class:`Sigmoid`.
    """

    def __init__(self, threshold: float = 0.0, low: float = 0.0):
        self.threshold, self.low = float(threshold), float(low)

    def _forward(self, x):
        return F.step(x, self.threshold, self.low)

    def _backward(self, g):
        return np.zeros_like(g)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, low={self.low}"


class Sigmoid(_Activation):
    """Logistic unit ``a = σ(z) = 1/(1 + e^{−z})``; backward ``∂C/∂z = ∂C/∂a ⊙ a (1 − a)``."""

    def _forward(self, x):
        return F.sigmoid(x)

    def _backward(self, g):
        return g * self._a * (1 - self._a)


class Tanh(_Activation):
    """``a = tanh(z)``; backward ``∂C/∂z = ∂C/∂a ⊙ (1 − a²)``."""

    def _forward(self, x):
        return F.tanh(x)

    def _backward(self, g):
        return g * (1 - self._a * self._a)


class ReLU(_Activation):
    """Rectified linear unit ``a = max(0, z)``; backward ``∂C/∂z = ∂C/∂a ⊙ 1{z > 0}``."""

    def _forward(self, x):
        return F.relu(x)

    def _backward(self, g):
        return g * (self._x > 0)


class LeakyReLU(_Activation):
    """``a = z`` for ``z > 0``, ``a = α z`` otherwise; backward multiplies by 1 or α.

    The small slope ``alpha`` (default 0.01) lets a unit whose net input is negative for every
    example keep learning instead of "dying".
    """

    def __init__(self, alpha: float = 0.01):
        check_positive(alpha, "LeakyReLU", "alpha", allow_zero=True)
        self.alpha = float(alpha)

    def _forward(self, x):
        return F.leaky_relu(x, self.alpha)

    def _backward(self, g):
        return g * F.leaky_relu_prime(self._x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class PReLU(_Activation):
    """Parametric ReLU: a leaky ReLU whose negative slope ``α`` is a learned ``Parameter``.

        a = z  (z > 0),   a = α z  (z ≤ 0);      ∂C/∂α = Σ ∂C/∂a ⊙ z ⊙ 1{z ≤ 0}

    ``num_parameters=1`` shares one slope by all units; ``num_parameters=k`` learns one slope per
    feature (axis 1: the units of a dense layer, the channels of a convolution) and then the
    input must have ``k`` features. ``init`` is the initial slope (0.25, as in He et al.).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=DEFAULT_DTYPE):
        if int(num_parameters) < 1:
            raise ValueError(f"PReLU: num_parameters must be at least 1, received {num_parameters}.")
        self.num_parameters = int(num_parameters)
        self.alpha = Parameter(np.full(self.num_parameters, init, dtype=dtype))

    def _dtype(self):
        return self.alpha.data.dtype

    def _slope(self, ndim: int) -> np.ndarray:
        """α shaped to broadcast against the input: a scalar, or along axis 1."""
        if self.num_parameters == 1:
            return self.alpha.data.reshape(())
        return self.alpha.data.reshape((1, -1) + (1,) * (ndim - 2))

    def _forward(self, x):
        if self.num_parameters > 1 and (x.ndim < 2 or x.shape[1] != self.num_parameters):
            raise ShapeError(
                f"{self!r}: one slope per feature needs an input with {self.num_parameters} "
                f"features on axis 1, received shape {x.shape}. Use PReLU(num_parameters="
                f"{x.shape[1] if x.ndim >= 2 else 1}) or PReLU() for a single shared slope."
            )
        return np.where(x > 0, x, self._slope(x.ndim) * x)

    def _backward(self, g):
        x = self._x
        slope_grad = np.where(x > 0, 0, g * x)
        if self.num_parameters == 1:
            self.alpha.grad += slope_grad.sum()
        else:
            self.alpha.grad += slope_grad.sum(axis=tuple(i for i in range(x.ndim) if i != 1))
        return np.where(x > 0, g, self._slope(x.ndim) * g)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(_Activation):
    """Randomized leaky ReLU: ``a = z`` for ``z > 0``, ``a = α z`` otherwise, with a random slope.

    In training mode every element gets its own slope ``α ~ U(lower, upper)``, drawn afresh at
    each forward pass (a kind of noise that regularizes, like dropout). In evaluation mode
    (``model.eval()``) the slope is fixed at the mean ``(lower + upper) / 2``. Backward
    multiplies ``∂C/∂a`` by 1 or by the slope used in the forward pass.

    Freezing the draw: set ``layer.resample = False`` and the slopes of the last training
    forward pass (``layer.slope``) are reused by later calls on inputs of the same shape (a new
    draw is made only if the shape changes). A numerical gradient check needs this, since it
    evaluates the layer many times and the function must stay the same between calls.
    """

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, rng=None):
        check_positive(lower, "RReLU", "lower", allow_zero=True)
        if not upper >= lower:
            raise ValueError(f"RReLU: need lower <= upper, received lower={lower}, upper={upper}.")
        self.lower, self.upper = float(lower), float(upper)
        self.rng = initializers.make_rng(rng)
        self.resample = True
        self.slope = None
        self._used = None

    def _forward(self, x):
        if not self.training:
            self._used = (self.lower + self.upper) / 2
        else:
            if self.resample or self.slope is None or self.slope.shape != x.shape:
                self.slope = self.rng.uniform(self.lower, self.upper, size=x.shape)
            self._used = self.slope.astype(x.dtype, copy=False)
        return np.where(x > 0, x, self._used * x)

    def _backward(self, g):
        return np.where(self._x > 0, g, self._used * g)

    def extra_repr(self) -> str:
        return f"lower={self.lower:.4g}, upper={self.upper:.4g}"


class Ramp(_Activation):
    """Ramp: the identity clipped to ``[low, high]``; backward ``∂C/∂z = ∂C/∂a ⊙ 1{low < z < high}``.

    The notes write ``a = min(−1, max(1, z))``, a typo (with the bounds swapped it is the
    constant −1). The intended unit clips to an interval: ``min(high, max(low, z))``. On
    ``[0, 1]`` (the default) it is a saturating linear unit; on ``[−1, 1]`` it is :class:`HardTanh`.
    """

    def __init__(self, low: float = 0.0, high: float = 1.0):
        if not low < high:
            raise ValueError(f"{type(self).__name__}: need low < high, received {low} and {high}.")
        self.low, self.high = float(low), float(high)

    def _forward(self, x):
        return F.ramp(x, self.low, self.high)

    def _backward(self, g):
        return g * F.ramp_prime(self._x, self.low, self.high)

    def extra_repr(self) -> str:
        return f"low={self.low}, high={self.high}"


class HardTanh(Ramp):
    """Hard tanh: ``a = min_val`` below ``min_val``, ``max_val`` above ``max_val``, else ``z``.

    A cheap piecewise-linear stand-in for tanh; the ramp on ``[min_val, max_val] = [−1, 1]``.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        super().__init__(min_val, max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.low}, max_val={self.high}"


class _AlongAxis(_Activation):
    """An activation that couples the entries along one ``axis`` (the units of a row by default)."""

    def __init__(self, axis: int = -1):
        self.axis = int(axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Softmax(_AlongAxis):
    """Softmax along ``axis``: ``aⱼ = e^{zⱼ} / Σₖ e^{zₖ}`` (positive, each row sums to 1).

    Every output depends on every input of the row: ``∂aⱼ/∂zᵢ = aⱼ (δᵢⱼ − aᵢ)``. Backward applies
    this Jacobian to ``g = ∂C/∂a`` without forming it: ``∂C/∂z = a ⊙ (g − Σⱼ gⱼ aⱼ)``.

    For classification, feed *logits* to :class:`~coursepkg.nn.losses.CrossEntropyLoss` instead
    of Softmax followed by a log: it is the same cost, computed stably.
    """

    def _forward(self, x):
        return F.softmax(x, self.axis)

    def _backward(self, g):
        return F.softmax_backward(self._a, g, self.axis)


class LogSoftmax(_AlongAxis):
    """``aⱼ = ln softmax(z)ⱼ = zⱼ − ln Σₖ e^{zₖ}``; pairs with :class:`~coursepkg.nn.losses.NLLLoss`.

    Backward: ``∂C/∂zᵢ = gᵢ − softmax(z)ᵢ Σⱼ gⱼ`` with ``g = ∂C/∂a``.
    """

    def _forward(self, x):
        return F.log_softmax(x, self.axis)

    def _backward(self, g):
        return g - np.exp(self._a) * F.reduce_along(np.add, g, self.axis)


class StochasticBinary(_Activation):
    """Stochastic binary neuron: outputs 1 with probability ``p = σ(z)`` and 0 otherwise.

    In training mode each output is a fresh Bernoulli(σ(z)) sample (the units of Boltzmann
    machines and sigmoid belief nets). In evaluation mode the layer outputs the expected value
    ``E[a] = σ(z)`` instead (the deterministic "mean-field" unit).

    A sample has derivative 0 almost everywhere, so backward uses the gradient of the
    *expectation*: ``∂C/∂z = ∂C/∂a ⊙ σ'(z) = ∂C/∂a ⊙ p (1 − p)`` (the "straight-through" sigmoid
    estimator). It is exact in evaluation mode, which is where a gradient check runs.
    """

    def __init__(self, rng=None):
        self.rng = initializers.make_rng(rng)
        self._p = None

    def _forward(self, x):
        self._p = F.sigmoid(x)
        if not self.training:
            return self._p
        return (self.rng.random(x.shape) < self._p).astype(x.dtype)

    def _backward(self, g):
        return g * self._p * (1 - self._p)


class Maxout(_Activation):
    """Maxout layer: ``k = pieces`` affine maps per unit, the unit outputs the largest.

        zⱼᵖ = x Wⱼᵖ + bⱼᵖ  (p = 1 … k),        aⱼ = maxₚ zⱼᵖ

    ``W`` has shape ``(n_in, n_out·pieces)`` and ``b`` ``(n_out·pieces,)``; column ``j·pieces + p``
    is piece ``p`` of unit ``j``. ReLU (``max(z, 0)``) and leaky ReLU (``max(z, αz)``) are special
    cases with two pieces, so a maxout unit cannot die, at the price of ``pieces`` times the weights.
    Backward sends ``∂C/∂aⱼ`` to the winning piece only (the others got 0), then through the
    affine map as in :class:`~coursepkg.nn.Dense`: ``∂C/∂W = xᵀ δ``, ``∂C/∂b = Σₙ δ``, ``∂C/∂x = δ Wᵀ``.
    """

    def __init__(self, n_in: int, n_out: int, pieces: int = 2, init="scaled_normal", rng=None,
                 dtype=DEFAULT_DTYPE):
        if int(n_in) <= 0 or int(n_out) <= 0 or int(pieces) <= 0:
            raise ValueError(
                f"Maxout: n_in, n_out and pieces must be positive, received {n_in}, {n_out}, {pieces}."
            )
        self.n_in, self.n_out, self.pieces = int(n_in), int(n_out), int(pieces)
        width = self.n_out * self.pieces
        rng = initializers.make_rng(rng)
        self.W = Parameter(initializers.get(init)((self.n_in, width), self.n_in, self.n_out, rng, dtype))
        self.b = Parameter(np.zeros(width, dtype=dtype))
        self._winner = None

    def _dtype(self):
        return self.W.data.dtype

    def _forward(self, x):
        check_shape(x, self, (None, self.n_in))
        z = (x @ self.W.data + self.b.data).reshape(len(x), self.n_out, self.pieces)
        self._winner = np.argmax(z, axis=2)[..., None]
        return np.take_along_axis(z, self._winner, axis=2)[..., 0]

    def _backward(self, g):
        delta = np.zeros((len(g), self.n_out, self.pieces), dtype=np.result_type(g, self.W.data))
        np.put_along_axis(delta, self._winner, g[..., None], axis=2)
        delta = delta.reshape(len(g), -1)
        self.W.add_grad_matmul(self._x.T, delta)
        self.b.add_grad_sum(delta, axis=0)
        return delta @ self.W.data.T

    def extra_repr(self) -> str:
        return f"{self.n_in}, {self.n_out}, pieces={self.pieces}"


__all__ = [
    "Identity", "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "RReLU", "Ramp",
    "HardTanh", "Softmax", "LogSoftmax", "StochasticBinary", "Maxout",
]
