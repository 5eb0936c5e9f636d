"""Small synthetic data sets for the first chapters: generated in microseconds, easy to plot.

Every generator takes ``rng=`` (a seed or a ``numpy.random.Generator``) and returns the same
data for the same seed. Inputs ``X`` are float32 by default (``dtype=``); class labels ``y``
are int64 of shape ``(n,)``; examples come in random order (except the four logic-gate rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import check_positive
from ..init import make_rng

_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xnor": (1, 0, 0, 1),
}

_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: 0.5 * x + 0.25,
    "quadratic": lambda x: x**2,
    "cubic": lambda x: x**3 - 0.5 * x,
    "sine": lambda x: np.sin(np.pi * x),
    "abs": np.abs,
    "step": lambda x: (x > 0).astype(x.dtype),
}


def _check_n(n, who: str, minimum: int = 1) -> int:
    if int(n) != n or n < minimum:
        raise ValueError(f"{who}: n must be an integer ≥ {minimum}, received {n!r}.")
    return int(n)


def _balanced_labels(n: int, classes: int) -> np.ndarray:
    """``n`` labels 0..classes-1 in blocks of (almost) equal size: 0,0,…,1,1,…"""
    return (np.arange(n) * classes // n).astype(np.int64)


def _shuffled(X, y, rng, dtype):
    order = rng.permutation(len(y))
    return X[order].astype(dtype), y[order]


def logic_gate(name: str, dtype=np.float32):
    """The truth table of a two-input logic gate: ``X`` (4, 2) of 0/1 inputs, ``y`` (4,) labels.

    ``name`` is one of ``"and", "or", "xor", "nand", "nor", "xnor"``. Rows are
    ``(0,0), (0,1), (1,0), (1,1)``. Chapter 1 uses them for the perceptron: AND, OR and NAND are
    linearly separable (a single perceptron learns them), XOR is not (it needs a hidden layer).
    """
    try:
        outputs = _GATES[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"logic_gate: unknown gate {name!r}; choose one of {sorted(_GATES)}.") from None
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    return X, np.array(outputs, dtype=np.int64)


def blobs(n: int = 200, centers=2, std: float = 0.5, rng=None, separable: bool = True,
          dtype=np.float32):
    """Gaussian clouds around ``centers`` points: ``x = c_y + ε``, ``ε ~ N(0, std²)``.

    ``centers`` is a number of classes k (centers evenly spaced on a circle, at least 5 apart)
    or a (k, d) array of center coordinates. With ``separable=True`` each point is kept within
    0.49 × (smallest distance between centers) of its center, so the classes are linearly
    separable (the nearest-center rule, a linear classifier, is always right); turn it off
    to let clouds overlap. For the perceptron and logistic-regression chapters:
    the simplest problem a single layer solves.
    Returns ``X`` (n, d) and labels ``y`` (n,).
    """
    n = _check_n(n, "blobs", 1)
    check_positive(std, "blobs", "std", allow_zero=True)
    rng = make_rng(rng)
    if np.ndim(centers) == 0:
        k = _check_n(centers, "blobs(centers)", 1)
        radius = 2.5 / np.sin(np.pi / k) if k > 2 else 2.5
        angle = 2 * np.pi * np.arange(k) / k + np.pi / 4
        centers = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2:
        raise ValueError(f"blobs: centers must be an int or a (k, d) array, received shape {centers.shape}.")
    y = _balanced_labels(n, len(centers))
    noise = rng.normal(0.0, std, size=(n, centers.shape[1]))
    if separable and len(centers) > 1:
        gaps = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
        limit = 0.49 * gaps[~np.eye(len(centers), dtype=bool)].min()
        norm = np.linalg.norm(noise, axis=1, keepdims=True)
        noise *= np.minimum(1.0, limit / np.maximum(norm, 1e-12))
    return _shuffled(centers[y] + noise, y, rng, dtype)


def moons(n: int = 200, noise: float = 0.1, rng=None, dtype=np.float32):
    """Two interleaving half circles (label 0 on top, label 1 below), plus N(0, noise²) noise.

    Not linearly separable: for the chapters on hidden layers and decision boundaries.
    Returns ``X`` (n, 2) and labels ``y`` (n,).
    """
    n = _check_n(n, "moons", 2)
    check_positive(noise, "moons", "noise", allow_zero=True)
    rng = make_rng(rng)
    y = _balanced_labels(n, 2)
    t = np.pi * rng.random(n)
    X = np.where(
        (y == 0)[:, None],
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    return _shuffled(X + rng.normal(0.0, noise, size=X.shape), y, rng, dtype)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, rng=None, dtype=np.float32):
    """A circle of radius ``factor`` (label 1) inside one of radius 1 (label 0), plus noise.

    No straight line separates them, but one hidden layer (or the feature x₁² + x₂²) does:
    for the chapters on hidden layers and feature spaces. Returns ``X`` (n, 2), ``y`` (n,).
    """
    n = _check_n(n, "circles", 2)
    check_positive(noise, "circles", "noise", allow_zero=True)
    if not 0 < factor < 1:
        raise ValueError(
            f"circles: factor (inner radius / outer radius) must lie in (0, 1), received {factor!r}."
        )
    rng = make_rng(rng)
    y = _balanced_labels(n, 2)
    t = 2 * np.pi * rng.random(n)
    r = np.where(y == 0, 1.0, factor)[:, None]
    X = r * np.stack([np.cos(t), np.sin(t)], axis=1)
    return _shuffled(X + rng.normal(0.0, noise, size=X.shape), y, rng, dtype)


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, rng=None, dtype=np.float32):
    """``classes`` interleaved spiral arms: arm k is ``x = r (sin θ, cos θ)`` with r from 0 to 1
    and θ from 4k to 4(k+1) radians plus N(0, noise²) noise on θ.

    A classic multi-class problem that needs a hidden layer (softmax chapter, decision
    boundaries). Returns ``X`` (n, 2) and labels ``y`` (n,) in 0..classes-1.
    """
    n = _check_n(n, "spirals", 1)
    classes = _check_n(classes, "spirals(classes)", 1)
    check_positive(noise, "spirals", "noise", allow_zero=True)
    rng = make_rng(rng)
    y = _balanced_labels(n, classes)
    # position along its arm, 0..1, of each example (evenly spaced inside each block)
    counts = np.bincount(y, minlength=classes)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    r = (np.arange(n) - first[y]) / np.maximum(counts[y] - 1, 1)
    theta = 4 * (y + r) + rng.normal(0.0, noise, size=n)
    X = r[:, None] * np.stack([np.sin(theta), np.cos(theta)], axis=1)
    return _shuffled(X, y, rng, dtype)


def regression_1d(n: int = 100, fn="sine", noise: float = 0.1, rng=None, low: float = -1.0,
                  high: float = 1.0, dtype=np.float32):
    """Noisy samples ``y = f(x) + ε`` of a 1-D function, ε ~ N(0, noise²), x ~ U(low, high).

    ``fn`` is a callable or one of ``"linear", "quadratic", "cubic", "sine"`` (sin πx),
    ``"abs", "step"``. For the regression chapters and the universal-approximation chapter
    (a hidden layer of sigmoids fits any of them). Returns ``x`` and ``y`` of shape (n, 1),
    sorted by ``x`` so that ``plt.plot(x, y)`` draws a line.
    """
    n = _check_n(n, "regression_1d", 1)
    check_positive(noise, "regression_1d", "noise", allow_zero=True)
    if not callable(fn):
        try:
            fn = _FUNCTIONS[fn]
        except (KeyError, TypeError):
            raise ValueError(f"regression_1d: unknown fn {fn!r}; choose one of {sorted(_FUNCTIONS)} "
                             "or pass a function f(x).") from None
    if not low < high:
        raise ValueError(f"regression_1d: need low < high, received low={low!r}, high={high!r}.")
    rng = make_rng(rng)
    x = np.sort(rng.uniform(low, high, size=n))[:, None]
    y = fn(x) + rng.normal(0.0, noise, size=x.shape)
    return x.astype(dtype), np.asarray(y, dtype=dtype).reshape(n, 1)
