"""Stochastic gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from ..errors import check_probability
from . import blas
from .elementwise import ElementwiseOptimizer


class SGD(ElementwiseOptimizer):
    """Gradient descent on mini-batches: ``θ ← θ − η ∇C(θ)``.

    With momentum ``μ`` a velocity ``v`` (one per weight) accumulates past gradients:

        v ← μ v − η ∇C(θ),        θ ← θ + v

    With ``nesterov=True`` the gradient is taken at the look-ahead point θ + μv, where momentum
    is about to carry the weights:

        v ← μ v − η ∇C(θ + μ v),  θ ← θ + v

    Evaluating the gradient somewhere other than at the stored weights would need a second
    forward pass, so we use the common reformulation (Sutskever et al., 2013): store the
    look-ahead weights θ̃ = θ + μv instead of θ. The gradient the training loop computes at the
    stored weights is then exactly ∇C(θ + μv), and the update becomes

        v_new = μ v − η ∇C(θ̃),    θ̃ ← θ̃ − μ v + (1 + μ) v_new   (= θ̃ + μ v_new − η ∇C(θ̃))

    which visits the same sequence of points as the look-ahead form, shifted by μv.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        check_probability(momentum, "SGD", "momentum")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, e.g. momentum=0.9.")
        self.momentum = momentum
        self.nesterov = nesterov

    @property
    def state_names(self):
        return ("velocity",) if self.momentum else ()

    @property
    def split_work(self) -> bool:
        return not blas.available()  # the BLAS runs its own threads

    def kernel(self, theta, g, s):
        lr, mu, buf = self.lr, self.momentum, s["buffer"]
        if mu == 0:                               # θ ← θ − η g
            blas.axpy(-lr, g, theta, buf)
            return
        v = s["velocity"]
        blas.axpby(-lr, g, mu, v, buf)            # v_new = μ v − η g
        if self.nesterov:                         # θ̃ ← θ̃ − η g + μ v_new
            blas.axpy(-lr, g, theta, buf)
            blas.axpy(mu, v, theta, buf)
        else:                                     # θ ← θ + v_new
            blas.axpy(1.0, v, theta, buf)
