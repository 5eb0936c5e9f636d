"""Sign-driven per-weight step sizes: Rprop and adaptive gains.

Both look at whether a weight's gradient kept its sign since the previous step. Agreement
means the weight is still heading down a slope, so its step grows; a sign change means it
jumped over a valley floor, so its step shrinks. They need the *true* sign of the gradient:
use them with full-batch training (or very large mini-batches), where a sign change is not just
sampling noise. For mini-batches, use RMSprop.
"""

from __future__ import annotations

import numpy as np

from ..errors import check_positive
from .elementwise import ElementwiseOptimizer


def _check_range(bounds, who: str, name: str) -> tuple[float, float]:
    low, high = bounds
    if not (0 < low < high and np.isfinite(high)):
        raise ValueError(
            f"{who}: {name} must be (low, high) with 0 < low < high, received {bounds!r}."
        )
    return float(low), float(high)


def _sign_agreement(g, s) -> np.ndarray:
    """Fill the scratch array with ``g·g_prev`` (> 0: same sign, < 0: flipped) and return it."""
    np.multiply(g, s["prev_grad"], out=s["buffer"])
    return s["buffer"]


class Rprop(ElementwiseOptimizer):
    """Resilient backpropagation: each weight moves by its own step ``Δ``; only the sign of
    the gradient is used, never its size.

        Δ ← min(Δ η⁺, Δ_max)   if g·g_prev > 0   (same sign: speed up)
        Δ ← max(Δ η⁻, Δ_min)   if g·g_prev < 0   (sign flipped: we overshot, slow down)
        θ ← θ − sign(g) Δ

    ``lr`` is the initial step ``Δ₀`` of every weight; ``η⁺ = 1.2``, ``η⁻ = 0.5`` and the
    bounds ``step_range = (Δ_min, Δ_max)`` keep steps from vanishing or exploding. This is the
    rule of the notes (Rprop without weight backtracking): after a sign change the weight still
    moves, by the reduced step, in the new downhill direction. Because gradients of any size
    give the same step, Rprop is immune to exploding or vanishing gradients — but it needs the
    full-batch gradient (see the module docstring).
    """

    def __init__(self, params, lr: float = 0.01, etas: tuple[float, float] = (0.5, 1.2),
                 step_range: tuple[float, float] = (1e-6, 50.0)):
        super().__init__(params, lr)
        eta_minus, eta_plus = etas
        if not (0 < eta_minus < 1 < eta_plus):
            raise ValueError(f"Rprop: etas must be (η⁻, η⁺) with 0 < η⁻ < 1 < η⁺, received {etas!r}.")
        self.etas = (float(eta_minus), float(eta_plus))
        self.step_range = _check_range(step_range, "Rprop", "step_range")

    state_names = ("step", "prev_grad", "mask")

    def init_state(self, name, p):
        if name == "step":
            return np.full_like(p.data, self.lr)
        return super().init_state(name, p)

    def kernel(self, theta, g, s):
        step, mask = s["step"], s["mask"]
        agreement = _sign_agreement(g, s)
        eta_minus, eta_plus = self.etas
        np.greater(agreement, 0, out=mask)
        np.multiply(step, eta_plus, out=step, where=mask)
        np.less(agreement, 0, out=mask)
        np.multiply(step, eta_minus, out=step, where=mask)
        np.clip(step, *self.step_range, out=step)
        buf = s["buffer"]
        np.sign(g, out=buf)
        buf *= step
        theta -= buf
        np.copyto(s["prev_grad"], g)


class AdaptiveGains(ElementwiseOptimizer):
    """Separate adaptive learning rates: each weight's step is ``η`` times its own gain.

        gain ← gain + 0.05    if g·g_prev > 0   (same sign: grow additively)
        gain ← gain × 0.95    if g·g_prev < 0   (oscillating: shrink multiplicatively)
        gain ← clip(gain, gain_range)
        θ    ← θ − η · gain · g

    Gains start at 1. Additive growth and multiplicative decay make large gains collapse
    quickly once a weight starts to oscillate. Where ``g·g_prev = 0`` — on the very first step,
    which has no previous gradient, or for a weight with no gradient — the gain is left as it
    is (the notes' "otherwise" would shrink every gain on step one for no reason). Like Rprop it
    needs full-batch (or very large mini-batch) gradients.

    With ``momentum = μ > 0`` the gains combine with a velocity (Jacobs, 1988). A gain then grows
    when the weight keeps moving the way its gradient points and shrinks when they disagree:

        gain ← gain + 0.05    if −g·v > 0,      gain ← gain × 0.95    if −g·v < 0
        v    ← μ v − η · gain · g,              θ ← θ + v
    """

    def __init__(self, params, lr: float, increase: float = 0.05, decay: float = 0.95,
                 gain_range: tuple[float, float] = (0.1, 10.0), momentum: float = 0.0):
        super().__init__(params, lr)
        check_positive(increase, "AdaptiveGains", "increase")
        if not 0 < decay < 1:
            raise ValueError(f"AdaptiveGains: decay must lie in (0, 1), received {decay!r}.")
        if not 0 <= momentum < 1:
            raise ValueError(f"AdaptiveGains: momentum must lie in [0, 1), received {momentum!r}.")
        self.increase, self.decay, self.momentum = increase, decay, momentum
        self.gain_range = _check_range(gain_range, "AdaptiveGains", "gain_range")

    @property
    def state_names(self):
        return ("gain", "velocity", "mask") if self.momentum else ("gain", "prev_grad", "mask")

    def init_state(self, name, p):
        if name == "gain":
            return np.ones_like(p.data)
        return super().init_state(name, p)

    def kernel(self, theta, g, s):
        gain, mask, buf = s["gain"], s["mask"], s["buffer"]
        if self.momentum:
            agreement = np.multiply(g, s["velocity"], out=buf)
            np.negative(agreement, out=agreement)  # −g·v > 0: moving the way the gradient says
        else:
            agreement = _sign_agreement(g, s)
        np.greater(agreement, 0, out=mask)
        np.add(gain, self.increase, out=gain, where=mask)
        np.less(agreement, 0, out=mask)
        np.multiply(gain, self.decay, out=gain, where=mask)
        np.clip(gain, *self.gain_range, out=gain)
        np.multiply(gain, g, out=buf)
        buf *= -self.lr                              # −η · gain · g
        if self.momentum:
            v = s["velocity"]
            v *= self.momentum
            v += buf
            theta += v
        else:
            theta += buf
            np.copyto(s["prev_grad"], g)
