"""Numerical gradient checking: compare backprop with centred finite differences.

For a scalar function C(θ) the centred difference

    ∂C/∂θᵢ ≈ (C(θ + ε eᵢ) − C(θ − ε eᵢ)) / 2ε

has an error of order ε², so in float64 with ε = 1e-6 it agrees with a correct analytic
gradient to about 1e-8 relative error. We compare whole gradient arrays with the relative
error

    rel(g, ĝ) = ‖g − ĝ‖₂ / max(‖g‖₂ + ‖ĝ‖₂, 1e-12)

which, unlike an element-wise ratio, is not fooled by entries that are both ≈ 0.

To check a module we turn it into a scalar by contracting its output with a fixed random
array G: C(x, θ) = Σ G ⊙ module(x). Then ∂C/∂output = G, which is exactly what we pass to
``backward``. Run checks in float64 (``module.double()``); float32 has only ~7 digits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .init import make_rng


def relative_error(analytic, numeric) -> float:
    """rel(g, ĝ) = ‖g − ĝ‖₂ / max(‖g‖₂ + ‖ĝ‖₂, 1e-12)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` is perturbed *in place* (one entry at a time, then restored), so ``f`` must read it:
    pass e.g. ``lambda: loss(model(X), y)`` and ``x = layer.W.data``.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    flat_x = x.reshape(-1)  # a view: writing to it perturbs x
    flat_g = grad.reshape(-1)
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + eps
        plus = f()
        flat_x[i] = old - eps
        minus = f()
        flat_x[i] = old
        flat_g[i] = (plus - minus) / (2 * eps)
    return grad


@dataclass
class GradCheckReport:
    """Relative error of every checked gradient; ``max_error`` is the worst of them."""

    errors: dict = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max(self.errors.values()) if self.errors else 0.0

    def passed(self, tol: float = 1e-6) -> bool:
        return self.max_error < tol

    def __str__(self) -> str:
        rows = [f"  {name:<24} {err:.2e}" for name, err in self.errors.items()]
        return "gradient check (relative error)\n" + "\n".join(rows) + f"\n  max: {self.max_error:.2e}"

    def __repr__(self) -> str:
        return str(self)


def check_module(module, *inputs, rng=None, eps: float = 1e-6, wrt_inputs=True) -> GradCheckReport:
    """Check ``module.backward`` against finite differences for its inputs and every parameter.

    The module is converted to float64 in place. ``inputs`` are the arrays passed to
    ``forward`` (usually one). Modules with randomness (dropout, randomized leaky ReLU) must
    fix their random draw between calls for the check to make sense: see their docs.
    """
    rng = make_rng(rng)
    module.to(np.float64)
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    module.zero_grad()
    G = rng.standard_normal(np.shape(module.forward(*xs)))
    grad_in = module.backward(G)  # uses what that forward pass cached

    def cost():
        return float(np.sum(G * module.forward(*xs)))

    grads_in = grad_in if isinstance(grad_in, tuple) else (grad_in,)
    report = GradCheckReport()
    if wrt_inputs:
        for i, (x, g) in enumerate(zip(xs, grads_in)):
            if g is None:
                continue
            report.errors[f"input{'' if len(xs) == 1 else i}"] = relative_error(
                g, numerical_gradient(cost, x, eps))
    analytic = {name: p.grad.copy() for name, p in module.named_parameters()}
    for name, p in module.named_parameters():
        report.errors[name] = relative_error(analytic[name], numerical_gradient(cost, p.data, eps))
    return report


def check_loss(loss, prediction, target, eps: float = 1e-6) -> GradCheckReport:
    """Check ``loss.backward()`` (∂C/∂prediction) against finite differences of ``loss.forward``."""
    a = np.array(prediction, dtype=np.float64)
    loss.forward(a, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(a, target), a, eps)
    return GradCheckReport({"prediction": relative_error(analytic, numeric)})


def check_model(model, loss, X, y, eps: float = 1e-6) -> GradCheckReport:
    """Check the gradient of ``loss(model(X), y)`` with respect to every parameter of ``model``."""
    model.to(np.float64)
    X = np.asarray(X, dtype=np.float64)

    def cost():
        return loss.forward(model.forward(X), y)

    model.zero_grad()
    cost()
    model.backward(loss.backward())
    analytic = {name: p.grad.copy() for name, p in model.named_parameters()}
    return GradCheckReport({name: relative_error(analytic[name], numerical_gradient(cost, p.data, eps))
                            for name, p in model.named_parameters()})
