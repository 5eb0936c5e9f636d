"""Mixtures of Gaussians: toy distributions with a known density, for generative models.

A mixture of ``K`` isotropic Gaussians in ``d`` dimensions has the density

    p(x) = Σ_k π_k N(x; μ_k, σ_k² I),      N(x; μ, σ² I) = exp(−‖x − μ‖² / 2σ²) / (2πσ²)^{d/2}

with weights ``π_k ≥ 0`` summing to 1. Because ``p`` is known exactly we can draw it next to what
a generator produces, evaluate the optimal discriminator ``p_data / (p_data + p_g)``, and count
which modes a generator covers (mode collapse). ``GaussianMixture`` holds one such distribution;
``ring_of_gaussians`` builds the classic 2-D test of GANs: 8 narrow Gaussians on a circle.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, as_float_array, check_finite, check_positive, check_shape
from ..init import make_rng


class GaussianMixture:
    """The mixture ``p(x) = Σ_k π_k N(x; μ_k, σ_k² I)`` of ``K`` isotropic Gaussians.

    Parameters
    ----------
    means : ``(K, d)`` centres ``μ_k`` (a 1-D sequence gives ``K`` one-dimensional modes).
    stds : the standard deviations ``σ_k``, one number for all modes or ``K`` numbers.
    weights : the mixing weights ``π_k`` (normalized to sum to 1); equal weights by default.

    ``sample(n, rng)`` draws ``(n, d)`` points, ``pdf(x)`` evaluates ``p`` on ``(n, d)`` points,
    ``assign(x)`` finds each point's nearest mode and its distance in units of that mode's σ.
    """

    def __init__(self, means, stds=1.0, weights=None):
        who = "GaussianMixture"
        means = as_float_array(means, who, np.float64)
        if means.ndim == 1:
            means = means[:, None]
        if means.ndim != 2 or len(means) == 0:
            raise ShapeError(f"{who}: means must be a non-empty (K, d) array (or K numbers for 1-D modes), "
                             f"received shape {means.shape}.")
        check_finite(means, who, "means")
        K = len(means)
        stds = as_float_array(stds, who, np.float64)
        if stds.ndim == 0:
            stds = np.full(K, float(stds))
        check_shape(stds, who, (K,), "stds (one per mode, or a single number)")
        for s in stds:
            check_positive(float(s), who, "every standard deviation")
        weights = np.full(K, 1.0 / K) if weights is None else as_float_array(weights, who, np.float64)
        check_shape(weights, who, (K,), "weights (one per mode)")
        if np.any(weights < 0) or not weights.sum() > 0:
            raise ValueError(f"{who}: weights must be non-negative with a positive sum, received {weights}.")
        self.means, self.stds, self.weights = means, stds, weights / weights.sum()

    @property
    def dim(self) -> int:
        """The dimension ``d`` of the points."""
        return self.means.shape[1]

    def __len__(self) -> int:
        return len(self.means)

    def sample(self, n: int, rng=None, return_modes: bool = False, dtype=np.float32):
        """``n`` points ``x = μ_k + σ_k ε`` with ``k ~ π`` and ``ε ~ N(0, I)``: ``(n, d)`` (and the
        modes ``k``, ``(n,)``, with ``return_modes=True``)."""
        if int(n) != n or n < 1:
            raise ValueError(f"GaussianMixture.sample: n must be a positive integer, received {n!r}.")
        rng = make_rng(rng)
        modes = rng.choice(len(self), size=int(n), p=self.weights)
        x = self.means[modes] + self.stds[modes, None] * rng.standard_normal((int(n), self.dim))
        x = x.astype(dtype)
        return (x, modes) if return_modes else x

    def _points(self, x, who: str) -> np.ndarray:
        x = as_float_array(x, who, np.float64)
        if self.dim == 1 and x.ndim == 1:
            x = x[:, None]
        check_shape(x, who, (None, self.dim), f"points (n, {self.dim})")
        return x

    def pdf(self, x) -> np.ndarray:
        """The density ``p(x) = Σ_k π_k N(x; μ_k, σ_k² I)`` at each row of ``x`` ``(n, d)``
        (1-D mixtures also take ``(n,)``); returns ``(n,)``."""
        x = self._points(x, "GaussianMixture.pdf")
        sq = ((x[:, None, :] - self.means[None]) ** 2).sum(axis=-1)  # (n, K) squared distances
        var = self.stds**2
        normal = np.exp(-sq / (2 * var)) / (2 * np.pi * var) ** (self.dim / 2)
        return normal @ self.weights

    def assign(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Each point's nearest mode ``k`` and its distance ``‖x − μ_k‖ / σ_k`` in standard deviations."""
        x = self._points(x, "GaussianMixture.assign")
        dist = np.linalg.norm(x[:, None, :] - self.means[None], axis=-1)  # (n, K)
        nearest = dist.argmin(axis=1)
        return nearest, dist[np.arange(len(x)), nearest] / self.stds[nearest]

    def mode_coverage(self, x, within: float = 3.0, min_fraction: float = 0.01) -> tuple[int, float]:
        """How well the points ``x`` cover the mixture: ``(modes, quality)``.

        ``quality`` is the fraction of points within ``within`` standard deviations of their nearest
        mode; a mode counts as covered when at least ``min_fraction`` of all points lie that close to
        it. A generator that collapsed onto one mode scores ``(1, high quality)``; one that spreads
        everywhere scores ``(K, low quality)``.
        """
        nearest, dist = self.assign(x)
        close = dist <= within
        counts = np.bincount(nearest[close], minlength=len(self))
        return int(np.sum(counts >= min_fraction * len(nearest))), float(close.mean())

    def __repr__(self) -> str:
        return f"GaussianMixture({len(self)} modes in {self.dim}-D)"


def ring_of_gaussians(modes: int = 8, radius: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """``modes`` equally likely Gaussians (σ = ``std``) centred on a circle of ``radius``:
    ``μ_k = r (cos 2πk/K, sin 2πk/K)``. The standard 2-D test of mode collapse."""
    if int(modes) != modes or modes < 1:
        raise ValueError(f"ring_of_gaussians: modes must be a positive integer, received {modes!r}.")
    check_positive(radius, "ring_of_gaussians", "radius")
    angle = 2 * np.pi * np.arange(int(modes)) / int(modes)
    return GaussianMixture(radius * np.stack([np.cos(angle), np.sin(angle)], axis=1), std)
