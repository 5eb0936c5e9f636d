"""Stochastic gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

import numpy as np

from ..errors import check_probability
from .optimizer import Optimizer


class SGD(Optimizer):
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

    def _update(self, p, state):
        if self.momentum == 0:
            p.data -= self.lr * p.grad
            return
        v = state.get("velocity")
        if v is None:
            v = state["velocity"] = np.zeros_like(p.data)
        mu = self.momentum
        if self.nesterov:
            # θ̃ ← θ̃ + μ v_new − η g with v_new = μ v − η g
            v *= mu
            v -= self.lr * p.grad
            p.data += mu * v - self.lr * p.grad
        else:
            v *= mu
            v -= self.lr * p.grad
            p.data += v
