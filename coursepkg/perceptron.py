"""Single neurons trained without backpropagation: the perceptron rule and the delta rule.

Notation (chapter 1): an example is a row ``x`` of ``X`` (``(n, d)``), its target ``t``; the
neuron's net input is ``z = x·w + b``.

* The **perceptron** outputs ``a = step(z) = 1{z > 0}`` and learns with the perceptron rule
  ``w ← w + η (t − a) x``, ``b ← b + η (t − a)``: nothing changes when the answer is right,
  the input is added when the unit said 0 instead of 1 and subtracted when it said 1 instead
  of 0. On linearly separable data it stops after finitely many mistakes (the perceptron
  convergence theorem); on XOR it never stops.
* The **linear neuron** outputs ``y = z`` and learns with the delta rule, gradient descent on
  the quadratic error ``E = 1/(2n) Σₙ (tₙ − yₙ)²``:  ``w ← w + η/n Σₙ (tₙ − yₙ) xₙ`` (batch)
  or ``w ← w + η (tₙ − yₙ) xₙ`` for one example at a time (online). ``E`` is a quadratic
  function of ``(w, b)``: its graph is a bowl.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import init as initializers
from .errors import as_float_array, check_positive, check_shape
from .nn import functional as F
from .nn.module import DEFAULT_DTYPE, Module, Parameter

MODES = ("online", "batch")


def _data(X, t, who: str, dtype=None):
    """Validate a data set: ``X`` ``(n, d)`` floats and ``t`` ``(n,)`` floats."""
    X = as_float_array(X, who, dtype)
    check_shape(X, who, (None, None), "X")
    t = as_float_array(t, who, X.dtype).reshape(-1)
    if len(t) != len(X):
        raise ValueError(f"{who}: X has {len(X)} rows but t has {len(t)} targets; give one target per row.")
    return X, t


def _check_mode(mode: str, who: str) -> str:
    if mode not in MODES:
        raise ValueError(f"{who}: mode must be one of {MODES}, received {mode!r}.")
    return mode


def perceptron_update(w, b, X, t, lr: float = 1.0):
    """One *batch* step of the perceptron rule on all rows of ``X`` at once.

        a = step(X w + b),      w ← w + η Xᵀ (t − a),      b ← b + η Σₙ (tₙ − aₙ)

    ``w`` is ``(d,)``, ``b`` a number, ``t`` holds 0/1 targets ``(n,)``. Returns the new
    ``(w, b)`` (the arguments are not modified). Rows the unit already gets right have
    ``t − a = 0`` and contribute nothing.
    """
    X, t = _data(X, t, "perceptron_update", np.result_type(np.asarray(w).dtype, np.float32))
    w = as_float_array(w, "perceptron_update", X.dtype)
    check_shape(w, "perceptron_update", (X.shape[1],), "w")
    err = t - F.step(X @ w + b)
    return w + lr * (X.T @ err), float(b + lr * err.sum())


def delta_rule_error(X, t, w, b=0.0):
    """Quadratic error of the linear neuron ``y = X w + b``:  ``E = 1/(2n) Σₙ (tₙ − yₙ)²``.

    ``w`` may be one weight vector ``(d,)`` or a stack of them ``(m, d)`` (with ``b`` a number
    or ``(m,)``), e.g. every point of a grid when plotting the error surface; then the result
    is ``(m,)``.
    """
    X, t = _data(X, t, "delta_rule_error", np.float64)
    w = np.asarray(w, dtype=np.float64)
    y = w @ X.T + np.asarray(b, dtype=np.float64)[..., None]  # (n,) or (m, n)
    return 0.5 * np.mean((t - y) ** 2, axis=-1)


def delta_rule_gradient(w, b, X, t):
    """Gradient of ``E = 1/(2n) Σₙ (tₙ − yₙ)²`` for the linear neuron ``y = X w + b``.

    With the residuals ``rₙ = tₙ − yₙ``:  ``∂E/∂w = −(1/n) Xᵀ r``  and  ``∂E/∂b = −(1/n) Σₙ rₙ``.
    Returns ``(dE_dw, dE_db)``.
    """
    X, t = _data(X, t, "delta_rule_gradient", np.result_type(np.asarray(w).dtype, np.float32))
    w = as_float_array(w, "delta_rule_gradient", X.dtype)
    check_shape(w, "delta_rule_gradient", (X.shape[1],), "w")
    r = t - (X @ w + b)
    return -(X.T @ r) / len(X), -float(r.mean())


@dataclass
class Trajectory:
    """What a training run visited: weights and error after each epoch.

    ``w`` is ``(epochs + 1, d)`` and ``b`` ``(epochs + 1,)`` (row 0 is the start); ``errors``
    holds, per epoch, the number of misclassified examples (perceptron) or the quadratic error
    (delta rule) measured *after* that epoch; ``converged`` says whether a perceptron reached
    zero mistakes. With ``record_steps=True`` (delta rule) ``steps`` holds the weights after
    every single update, for drawing the zig-zag of online learning.
    """

    w: np.ndarray
    b: np.ndarray
    errors: np.ndarray
    converged: bool = False
    steps: np.ndarray | None = field(default=None, repr=False)

    @property
    def epochs(self) -> int:
        return len(self.errors)


class Perceptron(Module):
    """Rosenblatt's perceptron: ``a = step(x·w + b) = 1{x·w + b > 0}`` with 0/1 targets.

    ``fit`` trains it with the perceptron rule (see :func:`perceptron_update`), either
    ``mode="online"`` (one example at a time, in a random order each epoch: the classic rule)
    or ``mode="batch"`` (all mistakes of an epoch summed into one update). Training stops at
    the first epoch after which every example is classified correctly.

    >>> X, t = logic_gate("and")
    >>> p = Perceptron(2)
    >>> trajectory = p.fit(X, t)
    >>> p(X)                                  # array([0., 0., 0., 1.])
    """

    def __init__(self, n_in: int, lr: float = 1.0, init="zeros", rng=None, dtype=DEFAULT_DTYPE):
        if int(n_in) <= 0:
            raise ValueError(f"Perceptron: n_in must be positive, received {n_in}.")
        check_positive(lr, "Perceptron", "lr")
        self.n_in, self.lr = int(n_in), float(lr)
        rng = initializers.make_rng(rng)
        self.w = Parameter(initializers.get(init)((self.n_in,), self.n_in, 1, rng, dtype))
        self.b = Parameter(np.zeros((), dtype=dtype))

    def net_input(self, X) -> np.ndarray:
        """``z = X w + b`` of shape ``(n,)``."""
        X = as_float_array(X, repr(self), self.w.data.dtype)
        check_shape(X, repr(self), (None, self.n_in))
        return X @ self.w.data + self.b.data

    def forward(self, X) -> np.ndarray:
        """The unit's 0/1 outputs ``a = step(z)``, shape ``(n,)``."""
        return F.step(self.net_input(X))

    def backward(self, grad_out):
        raise NotImplementedError(
            "Perceptron.backward: the step function has derivative 0 almost everywhere, so no "
            "gradient flows through it. Train with Perceptron.fit (the perceptron rule), or "
            "use Dense + Sigmoid for a unit that backpropagation can train."
        )

    def errors(self, X, t) -> int:
        """Number of examples the unit gets wrong."""
        X, t = _data(X, t, repr(self), self.w.data.dtype)
        return int(np.sum(self.forward(X) != t))

    def fit(self, X, t, epochs: int = 100, mode: str = "online", rng=None) -> Trajectory:
        """Train with the perceptron rule for at most ``epochs`` epochs; returns a :class:`Trajectory`."""
        _check_mode(mode, "Perceptron.fit")
        X, t = _data(X, t, "Perceptron.fit", self.w.data.dtype)
        check_shape(X, repr(self), (None, self.n_in))
        if not np.all((t == 0) | (t == 1)):
            raise ValueError("Perceptron.fit: targets must be 0 or 1; map ±1 labels with (t + 1) / 2.")
        rng = initializers.make_rng(rng)
        ws, bs, errs = [self.w.data.copy()], [float(self.b.data)], []
        converged = False
        for _ in range(int(epochs)):
            if mode == "batch":
                self._apply(*perceptron_update(self.w.data, self.b.data, X, t, self.lr))
            else:
                for i in rng.permutation(len(X)):  # the online rule visits one example at a time
                    self._apply(*perceptron_update(self.w.data, self.b.data, X[i:i + 1], t[i:i + 1], self.lr))
            ws.append(self.w.data.copy())
            bs.append(float(self.b.data))
            errs.append(self.errors(X, t))
            if errs[-1] == 0:
                converged = True
                break
        return Trajectory(np.array(ws), np.array(bs), np.array(errs), converged)

    def _apply(self, w, b) -> None:
        self.w.data[...] = w
        self.b.data[...] = b

    def extra_repr(self) -> str:
        return f"{self.n_in}, lr={self.lr}"


def delta_rule(X, t, lr: float = 0.1, epochs: int = 50, mode: str = "batch", w0=None, b0: float = 0.0,
               bias: bool = True, rng=None, record_steps: bool = False) -> Trajectory:
    """Train a linear neuron ``y = x·w + b`` with the delta rule; returns a :class:`Trajectory`.

    * ``mode="batch"``: one step per epoch on the whole set,
      ``w ← w + (η/n) Σₙ (tₙ − yₙ) xₙ`` (gradient descent on ``E = 1/(2n) Σₙ (tₙ − yₙ)²``);
    * ``mode="online"``: one step per example, in a random order each epoch,
      ``w ← w + η (tₙ − yₙ) xₙ`` (gradient descent on that example's own error ``½ (tₙ − yₙ)²``).

    ``w0`` is the starting weight vector (zeros by default); ``bias=False`` keeps ``b`` fixed
    at ``b0`` (handy to draw the error surface over two weights). Computed in float64.
    """
    _check_mode(mode, "delta_rule")
    check_positive(lr, "delta_rule", "lr")
    X, t = _data(X, t, "delta_rule", np.float64)
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    check_shape(w, "delta_rule", (X.shape[1],), "w0")
    b = float(b0)
    rng = initializers.make_rng(rng)
    ws, bs, errs, steps = [w.copy()], [b], [], [w.copy()]
    for _ in range(int(epochs)):
        batches = [np.arange(len(X))] if mode == "batch" else [[i] for i in rng.permutation(len(X))]
        for rows in batches:
            gw, gb = delta_rule_gradient(w, b, X[rows], t[rows])
            w = w - lr * gw
            b = b - lr * gb if bias else b
            if record_steps:
                steps.append(w.copy())
        ws.append(w.copy())
        bs.append(b)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported just below
            errs.append(float(delta_rule_error(X, t, w, b)))
        if not np.isfinite(errs[-1]):
            raise FloatingPointError(
                f"delta_rule: the error became {errs[-1]} after epoch {len(errs)}: the learning "
                f"rate η = {lr} is too large for this data. Try a smaller lr."
            )
    return Trajectory(np.array(ws), np.array(bs), np.array(errs), steps=np.array(steps) if record_steps else None)


__all__ = ["Perceptron", "Trajectory", "delta_rule", "delta_rule_error", "delta_rule_gradient",
           "perceptron_update", "MODES"]
