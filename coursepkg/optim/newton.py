"""Newton's method: a second-order step that uses the curvature (the Hessian) as well.

Around the current point the cost is approximately quadratic,

    C(θ + d) ≈ C(θ) + gᵀd + ½ dᵀ H d,     g = ∇C(θ),  H = ∇²C(θ),

and this model is smallest at ``d = −H⁻¹ g``. On an exactly quadratic cost one Newton step
lands on the minimum, whatever the conditioning, where gradient descent zig-zags for many
steps. The price: ``H`` has ``N²`` entries for ``N`` weights and solving with it costs ``O(N³)``,
hopeless for a network with a million weights — which is why deep learning lives with
first-order methods and per-weight approximations of the curvature (Adagrad, RMSprop, Adam).
These helpers are for small problems, to make that contrast visible.
"""

from __future__ import annotations

import numpy as np

from ..errors import check_positive
from .optimizer import Optimizer


def numerical_hessian(grad_fn, theta, eps: float = 1e-5) -> np.ndarray:
    """The Hessian of a cost from its gradient by central differences, column by column:

        H[:, j] ≈ (∇C(θ + ε eⱼ) − ∇C(θ − ε eⱼ)) / 2ε,    then symmetrised: (H + Hᵀ)/2.

    ``grad_fn(theta) -> gradient`` takes and returns flat float vectors. Costs ``2N`` gradient
    evaluations; exact (up to rounding) for a quadratic cost.
    """
    theta = np.asarray(theta, dtype=np.float64).ravel()
    check_positive(eps, "numerical_hessian", "eps")
    H = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = eps
        H[:, j] = (np.ravel(grad_fn(theta + step)) - np.ravel(grad_fn(theta - step))) / (2 * eps)
    return 0.5 * (H + H.T)


def parameters_to_vector(params, attr: str = "data") -> np.ndarray:
    """θ = all ``params`` flattened and concatenated in their order, in float64 (``attr="grad"``:
    the gradient ∇C(θ) laid out the same way)."""
    return np.concatenate([np.ravel(getattr(p, attr)) for p in params]).astype(np.float64)


def vector_to_parameters(theta, params) -> None:
    """Copy the flat vector ``θ`` back into ``params`` (the inverse of :func:`parameters_to_vector`)."""
    theta = np.ravel(theta)
    sizes = [p.size for p in params]
    if theta.size != sum(sizes):
        raise ValueError(f"vector_to_parameters: the parameters hold {sum(sizes)} numbers, received a vector of "
                         f"{theta.size}.")
    for p, part in zip(params, np.split(theta, np.cumsum(sizes)[:-1])):
        p.data[...] = part.reshape(p.shape)


def cost_hessian(params, closure, eps: float = 1e-5) -> np.ndarray:
    """The Hessian ``H = ∇²C(θ)`` ``(N, N)`` of the cost over all ``N`` numbers of ``params`` (θ as in
    :func:`parameters_to_vector`), by :func:`numerical_hessian`: ``2N`` gradients, each from ``closure()``,
    which must recompute the cost and fill every ``p.grad`` (e.g. ``make_closure(model, loss, X, y)``).

    Use float64 parameters: central differences in float32 lose most digits. The parameters and
    their gradients are left as they were at θ.
    """
    theta = parameters_to_vector(params)

    def gradient_at(point):
        vector_to_parameters(point, params)
        for p in params:
            p.zero_grad()
        closure()
        return parameters_to_vector(params, "grad")

    H = numerical_hessian(gradient_at, theta, eps)
    gradient_at(theta)
    return H


def newton_step(theta, grad, hessian, lr: float = 1.0, damping: float = 0.0) -> np.ndarray:
    """One (damped) Newton step from the flat vector ``theta``:

        θ ← θ − η (H + λ I)⁻¹ g

    ``λ = damping ≥ 0`` blends towards gradient descent where ``H`` is not positive definite
    (near saddle points a pure Newton step heads *towards* the saddle). Returns the new point.
    """
    theta = np.asarray(theta, dtype=np.float64).ravel()
    g = np.asarray(grad, dtype=np.float64).ravel()
    H = np.asarray(hessian, dtype=np.float64)
    if H.shape != (theta.size, theta.size):
        raise ValueError(
            f"newton_step: the Hessian must have shape ({theta.size}, {theta.size}) for "
            f"{theta.size} parameters, received {H.shape}."
        )
    try:
        d = np.linalg.solve(H + damping * np.eye(theta.size), g)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            "newton_step: the Hessian is singular here; pass damping > 0 (e.g. 1e-3)."
        ) from None
    return theta - lr * d


class Newton(Optimizer):
    """Newton's method as an optimizer over a few small parameters:  ``θ ← θ − η (H + λI)⁻¹ g``.

    ``θ`` is all parameters flattened and concatenated. ``hessian(theta) -> (N, N) array`` gives
    the exact Hessian (e.g. ``Rosenbrock().hessian``); without it, ``step(closure)`` estimates it
    with :func:`cost_hessian` from a ``closure()`` that recomputes the cost and fills every
    ``p.grad`` at the current parameters.
    """

    def __init__(self, params, hessian=None, lr: float = 1.0, damping: float = 0.0,
                 eps: float = 1e-5):
        super().__init__(params, lr)
        check_positive(damping, "Newton", "damping", allow_zero=True)
        self.hessian, self.damping, self.eps = hessian, damping, eps
        self.needs_closure = hessian is None

    def step(self, closure=None) -> None:
        self.t += 1
        theta, g = parameters_to_vector(self.params), parameters_to_vector(self.params, "grad")
        if self.hessian is not None:
            H = self.hessian(theta)
        elif closure is None:
            raise ValueError(
                "Newton: without a hessian function, step(closure) needs a closure() that "
                "recomputes the cost and fills p.grad, to estimate the Hessian numerically."
            )
        else:
            H = cost_hessian(self.params, closure, self.eps)
        vector_to_parameters(newton_step(theta, g, H, self.lr, self.damping), self.params)
