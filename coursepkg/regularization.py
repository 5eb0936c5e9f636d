"""Weight penalties (L2, L1, elastic net) and max-norm constraints, as pieces the training loop applies.

A penalty adds a term Ω(w) to the cost, ``C = C₀ + Ω(w)``, so its gradient ``∂Ω/∂w`` is added to
the gradient of the data term before the optimizer steps:

    L2 (weight decay)   Ω = (λ/2n) Σ_w w²           ∂Ω/∂w = (λ/n) w
    L1                  Ω = (λ/n) Σ_w |w|           ∂Ω/∂w = (λ/n) sgn(w),   sgn(0) = 0
    elastic net         Ω = (λ₁/n) Σ|w| + (λ₂/2n) Σ w²

Here ``n`` is the size of the **training set**, not of the mini-batch: the cost C₀ is the mean
over the whole training set, of which each mini-batch mean is an estimate, and λ/n keeps the
penalty's weight right when the training set grows. (Shrinking the training set to ``n'``
for quick experiments keeps the same decay per step only if ``λ'/n' = λ/n``.) Pass ``n=1`` to
use the ``(λ/2) Σ w²`` convention of other texts.

With plain SGD the L2 penalty turns the update into *weight decay*:

    w ← w − η (∂C₀/∂w + (λ/n) w) = (1 − ηλ/n) w − η ∂C₀/∂w

while L1 subtracts a constant amount ``ηλ/n`` towards 0 and so drives small weights to exactly
zero (sparse weights). With momentum or Adam the penalty's gradient goes through the optimizer
like any other gradient (this is "L2 regularization", not the "decoupled weight decay" of AdamW).

Which parameters are penalized: by convention only **weights**, not biases (a large bias does
not make a unit more sensitive to its inputs). The rule used here is *a parameter with two or
more dimensions is a weight* — ``W`` of a dense layer ``(n_in, n_out)``, a convolution's filters
``(c_out, c_in, k, k)`` — while biases and batch-norm's ``γ, β`` are vectors. Override it with
``which="all"`` or a function ``which(name, parameter) -> bool``.

Every penalty and :class:`MaxNorm` is a :class:`~coursepkg.train.Callback`: pass it to ``fit``.

>>> fit(model, loss, SGD(model.parameters(), lr=0.5), (X, y), callbacks=[L2(5.0, n=len(X))])
"""

from __future__ import annotations

import numpy as np

from .errors import check_positive
from .nn.module import Module, Parameter
from .train import Callback


def is_weight(name: str, p: Parameter) -> bool:
    """The default rule: parameters with ``ndim ≥ 2`` are weights, vectors (biases, γ, β) are not."""
    return p.data.ndim >= 2


def _selector(which):
    if which == "weights":
        return is_weight
    if which == "all":
        return lambda name, p: True
    if callable(which):
        return which
    raise ValueError(f"regularization: which must be 'weights', 'all' or a function (name, parameter) -> bool, "
                     f"received {which!r}.")


def select_parameters(params, which="weights") -> list[Parameter]:
    """The parameters a penalty applies to.

    ``params`` is a :class:`~coursepkg.nn.Module` (its ``named_parameters()`` are filtered with
    ``which``), an iterable of ``(name, Parameter)`` pairs (filtered too), or an iterable of
    ``Parameter`` objects (taken as given: you chose them).
    """
    keep = _selector(which)
    if isinstance(params, Module):
        return [p for name, p in params.named_parameters() if keep(name, p)]
    params = list(params)
    if all(isinstance(p, Parameter) for p in params):
        return params
    if all(isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Parameter) for item in params):
        return [p for name, p in params if keep(name, p)]
    raise TypeError("regularization: params must be a Module, Parameters, or (name, Parameter) pairs; "
                    "pass model or model.parameters().")


class Penalty(Callback):
    """Base class of weight penalties ``Ω(w) = Σ_w ω(w)`` summed over the selected weights.

    Subclasses implement ``_value(w) -> float`` and ``_grad(w) -> ∂Ω/∂w`` for one array. As a
    callback it adds ``∂Ω/∂w`` to every selected ``Parameter.grad`` after the backward pass and
    writes the penalty's value into the epoch logs (``history["penalty"]``, summed over all
    penalties), so you can compare it with the data cost ``history["loss"]``.
    """

    def __init__(self, n: int, which="weights"):
        if int(n) != n or n <= 0:
            raise ValueError(f"{type(self).__name__}: n (the training-set size) must be a positive integer, "
                             f"received {n!r}. Pass n=len(X_train).")
        self.n = int(n)
        self.which = which
        _selector(which)

    def penalty(self, params) -> float:
        """``Ω(w)`` for the selected parameters of ``params`` (a model or a list of parameters)."""
        return float(sum(self._value(p.data) for p in select_parameters(params, self.which)))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """``∂Ω/∂w`` for one weight array."""
        return self._grad(w)

    def add_gradient(self, params) -> None:
        """``p.grad += ∂Ω/∂p`` for every selected parameter."""
        for p in select_parameters(params, self.which):
            p.grad += self._grad(p.data).astype(p.grad.dtype, copy=False)

    def __add__(self, other: Penalty) -> Penalty:
        return PenaltySum(self, other)

    # ----------------------------------------------------------------- callback hooks
    def after_backward(self, trainer) -> None:
        self.add_gradient(trainer.model)

    def on_epoch_end(self, trainer, logs: dict) -> None:
        logs["penalty"] = logs.get("penalty", 0.0) + self.penalty(trainer.model)

    def _value(self, w) -> float:
        raise NotImplementedError

    def _grad(self, w) -> np.ndarray:
        raise NotImplementedError


class L2(Penalty):
    """L2 penalty (weight decay) ``Ω = (λ/2n) Σ_w w²``, gradient ``(λ/n) w``.

    With SGD the update becomes ``w ← (1 − ηλ/n) w − η ∂C₀/∂w``. ``lam`` is λ, ``n`` the size of
    the training set, ``which`` selects the parameters (module docstring; biases excluded).
    """

    def __init__(self, lam: float, n: int, which="weights"):
        super().__init__(n, which)
        check_positive(lam, "L2", "lam", allow_zero=True)
        self.lam = float(lam)

    def _value(self, w) -> float:
        return self.lam / (2 * self.n) * float(np.sum(np.square(w, dtype=np.float64)))

    def _grad(self, w):
        return (self.lam / self.n) * w

    def __repr__(self) -> str:
        return f"L2(lam={self.lam:g}, n={self.n})"


class L1(Penalty):
    """L1 penalty ``Ω = (λ/n) Σ_w |w|``, gradient ``(λ/n) sgn(w)`` with ``sgn(0) = 0``.

    |w| has no derivative at 0; taking ``sgn(0) = 0`` (a subgradient) leaves weights that are
    exactly zero alone. With SGD: ``w ← w − (ηλ/n) sgn(w) − η ∂C₀/∂w``, a constant pull
    towards 0 that makes many weights (nearly) zero.
    """

    def __init__(self, lam: float, n: int, which="weights"):
        super().__init__(n, which)
        check_positive(lam, "L1", "lam", allow_zero=True)
        self.lam = float(lam)

    def _value(self, w) -> float:
        return self.lam / self.n * float(np.sum(np.abs(w), dtype=np.float64))

    def _grad(self, w):
        return (self.lam / self.n) * np.sign(w)

    def __repr__(self) -> str:
        return f"L1(lam={self.lam:g}, n={self.n})"


class PenaltySum(Penalty):
    """The sum of several penalties, ``Ω = Σₖ Ωₖ`` (made by ``L1(…) + L2(…)``).

    Each part keeps its own ``n`` and ``which``.
    """

    def __init__(self, *parts: Penalty):
        flat = []
        for part in parts:
            if not isinstance(part, Penalty):
                raise TypeError(f"PenaltySum: expected Penalty objects, received {type(part).__name__}.")
            flat.extend(part.parts if isinstance(part, PenaltySum) else [part])
        self.parts = flat

    def penalty(self, params) -> float:
        params = params if isinstance(params, Module) else list(params)
        return float(sum(part.penalty(params) for part in self.parts))

    def add_gradient(self, params) -> None:
        params = params if isinstance(params, Module) else list(params)
        for part in self.parts:
            part.add_gradient(params)

    def gradient(self, w):
        return sum(part.gradient(w) for part in self.parts)

    def __repr__(self) -> str:
        return " + ".join(repr(part) for part in self.parts)


class ElasticNet(PenaltySum):
    """Elastic net ``Ω = (λ₁/n) Σ|w| + (λ₂/2n) Σ w²``: sparse like L1, stable like L2 (``L1 + L2``)."""

    def __init__(self, l1: float, l2: float, n: int, which="weights"):
        super().__init__(L1(l1, n, which), L2(l2, n, which))


def _unit_axes(w: np.ndarray, axis) -> tuple:
    if axis is not None:
        return tuple(np.atleast_1d(axis))
    # dense W (n_in, n_out): a unit's incoming weights are a column -> sum over axis 0;
    # convolution filters (c_out, c_in, k_h, k_w): a unit is one filter -> sum over all but axis 0
    return (0,) if w.ndim == 2 else tuple(range(1, w.ndim))


def max_norm_(params, c: float, which="weights", axis=None) -> None:
    """Clamp in place every unit's incoming weight vector to ``‖w‖₂ ≤ c``:  ``w ← w · min(1, c/‖w‖₂)``.

    For a dense ``W`` of shape ``(n_in, n_out)`` a unit's incoming vector is a **column**; for a
    convolution weight ``(c_out, c_in, k_h, k_w)`` it is one filter ``W[k]``. Give ``axis`` (the
    axes summed over to get one norm per unit) for other layouts.
    """
    check_positive(c, "max_norm_", "c")
    for p in select_parameters(params, which):
        w = p.data
        norms = np.sqrt(np.sum(np.square(w, dtype=np.float64), axis=_unit_axes(w, axis), keepdims=True))
        w *= np.minimum(1.0, c / np.maximum(norms, 1e-12)).astype(w.dtype)


class MaxNorm(Callback):
    """Max-norm constraint: after every update, rescale each unit's incoming weights to ``‖w‖₂ ≤ c``.

    Not a penalty (the cost is unchanged): the weights are projected back into the ball of radius
    ``c`` after each step, so they can never grow large however big the learning rate. Often
    used with dropout (``c`` around 3 to 4). See :func:`max_norm_` for what a unit's vector is.
    """

    def __init__(self, c: float, which="weights", axis=None):
        check_positive(c, "MaxNorm", "c")
        _selector(which)
        self.c, self.which, self.axis = float(c), which, axis

    def apply(self, params) -> None:
        max_norm_(params, self.c, self.which, self.axis)

    def after_step(self, trainer) -> None:
        self.apply(trainer.model)

    def __repr__(self) -> str:
        return f"MaxNorm(c={self.c:g})"
