"""Per-weight adaptive learning rates: Adagrad, Adadelta, RMSprop and Adam.

All four divide each weight's step by a running measure of the size of its own gradients, so
weights with large (or noisy) gradients take small steps and weights with small gradients take
larger ones. Notation: ``g = ∂C/∂θ`` is the gradient of one weight at step ``t``; every
operation below is elementwise.

Each update is a kernel on flat arrays (see ``ElementwiseOptimizer``) that works in place with
``out=`` and one scratch array per parameter, so a step allocates nothing however big the
model is.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import check_positive, check_probability
from .elementwise import ElementwiseOptimizer


class Adagrad(ElementwiseOptimizer):
    """Adagrad: the step of each weight shrinks with the sum of its squared gradients.

        G ← G + g²
        θ ← θ − η g / (√G + ε)

    Weights that rarely receive a gradient (rare features) keep a large step; frequently
    updated ones slow down. Because ``G`` only grows, the effective rate ``η/√G`` decays to
    zero, which stops learning on long runs (Adadelta and RMSprop fix this). The notes put
    ``ε`` inside the square root; we follow the original paper and PyTorch (``√G + ε``): the
    two differ only while ``G`` is about as small as ``ε``.
    """

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-8):
        super().__init__(params, lr)
        check_positive(eps, "Adagrad", "eps")
        self.eps = eps

    state_names = ("sum_sq",)

    def kernel(self, theta, g, s):
        G, buf = s["sum_sq"], s["buffer"]
        np.multiply(g, g, out=buf)
        G += buf
        np.sqrt(G, out=buf)
        buf += self.eps
        np.divide(g, buf, out=buf)
        buf *= -self.lr
        theta += buf


class Adadelta(ElementwiseOptimizer):
    """Adadelta: Adagrad with a decaying window, and steps measured in the units of ``θ``.

        E[g²]  ← γ E[g²] + (1 − γ) g²
        Δθ     = − (RMS[Δθ]ₜ₋₁ / RMS[g]ₜ) g        with RMS[x] = √(E[x²] + ε)
        E[Δθ²] ← γ E[Δθ²] + (1 − γ) Δθ²
        θ      ← θ + η Δθ

    The ratio ``RMS[Δθ]/RMS[g]`` has the units of ``θ / g``, so no learning rate is needed:
    leave ``lr=1`` (it is only a multiplier a schedule may lower). The numerator uses the
    average of the *previous* steps, ``RMS[Δθ]ₜ₋₁``: the notes write ``RMS[Δθ]ₜ``, which would
    need ``Δθₜ`` before it is computed. At the start ``E[Δθ²] = 0``, so the first step is
    ``√ε / RMS[g]`` per unit gradient; ``ε`` therefore sets how fast Adadelta gets going.
    Near a minimum both averages fade towards 0 and the ratio towards ``√ε/√ε = 1``: Adadelta
    then behaves like gradient descent with ``η ≈ lr``, which oscillates where the curvature
    exceeds ``2/lr`` — so "no learning rate" really means ``lr = 1``, and a stiff problem may
    still need a smaller one.
    """

    def __init__(self, params, lr: float = 1.0, gamma: float = 0.9, eps: float = 1e-6):
        super().__init__(params, lr)
        check_probability(gamma, "Adadelta", "gamma")
        check_positive(eps, "Adadelta", "eps")
        self.gamma, self.eps = gamma, eps

    state_names = ("mean_sq_grad", "mean_sq_delta", "delta")

    def kernel(self, theta, g, s):
        Eg2, Edx2, delta, buf = s["mean_sq_grad"], s["mean_sq_delta"], s["delta"], s["buffer"]
        gamma, eps = self.gamma, self.eps
        np.multiply(g, g, out=buf)                    # E[g²] ← γ E[g²] + (1−γ) g²
        buf *= 1 - gamma
        Eg2 *= gamma
        Eg2 += buf
        np.add(Edx2, eps, out=delta)                  # d = √(E[Δθ²]+ε) / √(E[g²]+ε) · g = −Δθ
        np.add(Eg2, eps, out=buf)
        np.divide(delta, buf, out=delta)
        np.sqrt(delta, out=delta)
        delta *= g
        np.multiply(delta, delta, out=buf)            # E[Δθ²] ← γ E[Δθ²] + (1−γ) d²
        buf *= 1 - gamma
        Edx2 *= gamma
        Edx2 += buf
        delta *= -self.lr                             # θ ← θ − η d
        theta += delta


class RMSprop(ElementwiseOptimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

        E[g²] ← γ E[g²] + (1 − γ) g²
        θ     ← θ − η g / (√E[g²] + ε)

    With ``momentum = μ > 0`` the normalised gradient drives a velocity instead:

        v ← μ v − η g / (√E[g²] + ε),    θ ← θ + v

    It is the mini-batch cousin of Rprop: when a weight's gradient keeps the same size,
    ``g / √E[g²] ≈ sign(g)`` and each step is about ``η`` whatever the gradient's scale.
    Typical values: ``γ = 0.9``, ``η = 0.001``.
    """

    def __init__(self, params, lr: float = 0.001, gamma: float = 0.9, eps: float = 1e-8,
                 momentum: float = 0.0):
        super().__init__(params, lr)
        check_probability(gamma, "RMSprop", "gamma")
        check_probability(momentum, "RMSprop", "momentum")
        check_positive(eps, "RMSprop", "eps")
        self.gamma, self.eps, self.momentum = gamma, eps, momentum

    @property
    def state_names(self):
        return ("mean_sq_grad", "velocity") if self.momentum else ("mean_sq_grad",)

    def kernel(self, theta, g, s):
        Eg2, buf = s["mean_sq_grad"], s["buffer"]
        np.multiply(g, g, out=buf)            # E[g²] ← γ E[g²] + (1−γ) g²
        buf *= 1 - self.gamma
        Eg2 *= self.gamma
        Eg2 += buf
        np.sqrt(Eg2, out=buf)                 # g / (√E[g²] + ε)
        buf += self.eps
        np.divide(g, buf, out=buf)
        buf *= -self.lr
        if self.momentum:
            v = s["velocity"]                 # v ← μ v − η g/(√E[g²] + ε);  θ ← θ + v
            v *= self.momentum
            v += buf
            theta += v
        else:
            theta += buf


class Adam(ElementwiseOptimizer):
    """Adam (adaptive moment estimation): momentum on the mean, RMSprop on the scale.

        m ← β₁ m + (1 − β₁) g              first moment (mean) of the gradient
        v ← β₂ v + (1 − β₂) g²             second moment (uncentred variance)
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   bias correction: m and v start at 0
        θ ← θ − η m̂ / (√v̂ + ε)

    Without the bias correction the first steps would be far too small: after one step
    ``m = (1 − β₁) g = 0.1 g``. With it the first step is ``η g/|g| = η sign(g)``. As in the
    original paper (and unlike the notes' ``√(v̂ + ε)``), ``ε`` is added after the root.
    """

    def __init__(self, params, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params, lr)
        beta1, beta2 = betas
        check_probability(beta1, "Adam", "betas[0]")
        check_probability(beta2, "Adam", "betas[1]")
        check_positive(eps, "Adam", "eps")
        self.betas, self.eps = (beta1, beta2), eps

    state_names = ("m", "v")

    def kernel(self, theta, g, s):
        m, v, buf = s["m"], s["v"], s["buffer"]
        beta1, beta2 = self.betas
        np.subtract(g, m, out=buf)            # m ← m + (1−β₁)(g − m)
        buf *= 1 - beta1
        m += buf
        np.multiply(g, g, out=buf)            # v ← β₂ v + (1−β₂) g²
        buf *= 1 - beta2
        v *= beta2
        v += buf
        # η m̂/(√v̂ + ε) = (η c₂/c₁) m/(√v + ε c₂) with c₁ = 1−β₁ᵗ, c₂ = √(1−β₂ᵗ)
        c1 = 1 - beta1 ** self.t
        c2 = math.sqrt(1 - beta2 ** self.t)
        np.sqrt(v, out=buf)
        buf += self.eps * c2
        np.divide(m, buf, out=buf)
        buf *= -self.lr * c2 / c1
        theta += buf
