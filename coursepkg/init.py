"""Weight initializers, chosen by name.

Every initializer has the signature ``init(shape, fan_in, fan_out, rng, dtype) -> ndarray``,
where ``fan_in`` is the number of inputs of one unit (``n_in`` for a dense layer,
``c_in·k_h·k_w`` for a convolution) and ``fan_out`` the number of units it feeds.

| name            | distribution                                     | notes                                    |
|-----------------|--------------------------------------------------|------------------------------------------|
| ``"zeros"``     | w = 0                                            | never breaks the symmetry between units  |
| ``"normal"``    | w ~ N(0, 1)                                      | net input std ≈ √n_in: saturates sigmoids |
| ``"scaled_normal"`` | w ~ N(0, 1/n_in)                             | net input std ≈ 1                        |
| ``"xavier"``    | w ~ U(−a, a), a = √(6 / (n_in + n_out))          | Glorot & Bengio; for tanh / sigmoid      |
| ``"he"``        | w ~ N(0, 2/n_in)                                 | He et al.; for ReLU                      |
| ``"sparse"``    | k = 15 random incoming weights ~ N(0, 1), rest 0 | Martens; each unit gets k inputs         |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def zeros(shape, fan_in, fan_out, rng, dtype=np.float32):
    """w = 0 for every weight."""
    return np.zeros(shape, dtype=dtype)


def normal(shape, fan_in, fan_out, rng, dtype=np.float32):
    """w ~ N(0, 1)."""
    return rng.standard_normal(shape).astype(dtype)


def scaled_normal(shape, fan_in, fan_out, rng, dtype=np.float32):
    """w ~ N(0, 1/n_in), i.e. N(0,1)/√n_in, so that the net input z = Σⱼ wⱼxⱼ has std ≈ 1."""
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)


def xavier(shape, fan_in, fan_out, rng, dtype=np.float32):
    """Glorot uniform: w ~ U(−a, a) with a = √(6 / (n_in + n_out)), so Var(w) = 2 / (n_in + n_out)."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(dtype)


def he(shape, fan_in, fan_out, rng, dtype=np.float32):
    """He normal: w ~ N(0, 2/n_in), which keeps the variance of ReLU activations constant."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def sparse(shape, fan_in, fan_out, rng, dtype=np.float32, k: int = 15):
    """Sparse initialization: each unit receives ``k`` non-zero N(0, 1) weights, the rest are 0.

    For a dense weight of shape ``(n_in, n_out)`` each *column* (one unit's incoming weights)
    gets ``min(k, n_in)`` non-zero entries at random rows; for a convolution weight
    ``(c_out, c_in, k_h, k_w)`` each filter gets them among its ``c_in·k_h·k_w`` entries.
    """
    w = np.zeros(shape, dtype=dtype)
    # one column per unit, its incoming weights down the rows (a view into w)
    units = w if w.ndim == 2 else w.reshape(shape[0], -1).T
    n_in, n_units = units.shape
    k = min(k, n_in)
    # k distinct rows per unit without a Python loop over units: rank random keys
    rows = np.argsort(rng.random((n_in, n_units)), axis=0)[:k]
    cols = np.broadcast_to(np.arange(n_units), rows.shape)
    units[rows, cols] = rng.standard_normal(rows.shape)
    return w


INITIALIZERS: dict[str, Callable] = {
    "zeros": zeros,
    "normal": normal,
    "scaled_normal": scaled_normal,
    "xavier": xavier,
    "glorot": xavier,
    "he": he,
    "kaiming": he,
    "sparse": sparse,
}


def get(init) -> Callable:
    """Return the initializer named ``init`` (or ``init`` itself when it is callable)."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except KeyError:
        raise ValueError(
            f"unknown initializer {init!r}; choose one of {sorted(INITIALIZERS)} "
            "or pass a function init(shape, fan_in, fan_out, rng, dtype)."
        ) from None


def make_rng(rng=None) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``None`` (fresh entropy), a seed, or a generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)
