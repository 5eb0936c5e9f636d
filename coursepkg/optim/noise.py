"""Annealed Gaussian gradient noise: ``g ← g + N(0, σₜ²)`` with ``σₜ² = η / (1 + t)^γ``.

Noise that fades with time helps a network escape poor regions early on (bad initialisation,
saddle points, sharp local minima) and then lets it settle. Inside ``fit`` use the
``coursepkg.callbacks.GradientNoise`` callback; by hand, call ``add_gradient_noise`` between
``backward`` and ``optimizer.step()``.
"""

from __future__ import annotations

import numpy as np

from ..errors import check_positive
from ..init import make_rng


def noise_variance(t, eta: float = 0.01, gamma: float = 0.55):
    """``σₜ² = η / (1 + t)^γ`` at step ``t`` (0 for the first step; ``t`` may be an array).

    ``η`` here is the noise scale, not the learning rate; ``η ∈ {0.01, 0.3, 1}`` and
    ``γ = 0.55`` are the usual choices.
    """
    check_positive(eta, "noise_variance", "eta", allow_zero=True)
    check_positive(gamma, "noise_variance", "gamma", allow_zero=True)
    return eta / (1.0 + np.asarray(t, dtype=float)) ** gamma


def add_gradient_noise(params, t: int, eta: float = 0.01, gamma: float = 0.55, rng=None) -> float:
    """Add independent ``N(0, σₜ²)`` noise to every gradient component, in place.

    Returns the standard deviation ``σₜ`` used. ``rng`` is a seed or ``numpy.random.Generator``
    (pass the same generator every step so the noise differs between steps).
    """
    rng = make_rng(rng)
    sigma = float(np.sqrt(noise_variance(t, eta, gamma)))
    for p in params:
        p.grad += sigma * rng.standard_normal(p.shape, dtype=p.grad.dtype)
    return sigma
