"""Checkers for chapter 5, weight initialization (``solutions/05_weight_initialization.ipynb``).

An initializer returns random numbers, so the checks test the *distribution* of a large sample
(mean, standard deviation, range, kurtosis) against the scheme's, with tolerances of many
standard errors, and recognize the usual wrong scales (a variance used as a standard deviation,
the wrong fan, the notes' "divide by √(2/n)"). They also test the contract of
:mod:`coursepkg.init`: shape, dtype, and randomness drawn only from the ``rng`` argument.
"""

from __future__ import annotations

import numpy as np

from ..compare import call_learner, expect_shape, expect_true, fail
from ..registry import exercise

#: Kurtosis E[(w − μ)⁴] / Var(w)² of a uniform and of a normal distribution.
KURTOSIS_UNIFORM, KURTOSIS_NORMAL = 1.8, 3.0


def _sample(fn, name: str, shape, fan_in, fan_out, seed: int, **kwargs) -> np.ndarray:
    """Call the learner's initializer with a fresh generator and check the array it returns."""
    got = call_learner(fn, shape, fan_in, fan_out, np.random.default_rng(seed), **kwargs)
    what = f"{name}({shape}, fan_in={fan_in}, fan_out={fan_out}, rng)"
    if not isinstance(got, np.ndarray):
        fail(f"{what} should return a NumPy array, received {type(got).__name__}.")
    expect_shape(got, shape, what)
    expect_true(np.all(np.isfinite(got)), f"{what} contains NaN or inf values.")
    return got


def _check_contract(fn, name: str, rng, shape, fan_in, fan_out, **kwargs) -> np.ndarray:
    """Shape, default dtype float32, dtype argument, and all randomness taken from ``rng``."""
    seed = int(rng.integers(2**31))
    w = _sample(fn, name, shape, fan_in, fan_out, seed, **kwargs)
    if w.dtype != np.float32:
        fail(f"{name} returned dtype {w.dtype}; the default dtype=np.float32 should be respected: "
             "convert the result with .astype(dtype).")
    w64 = call_learner(fn, shape, fan_in, fan_out, np.random.default_rng(seed), dtype=np.float64, **kwargs)
    if getattr(w64, "dtype", None) != np.float64:
        fail(f"{name}(..., dtype=np.float64) returned dtype {getattr(w64, 'dtype', type(w64).__name__)}: "
             "return the array in the dtype asked for.")
    again = _sample(fn, name, shape, fan_in, fan_out, seed, **kwargs)
    if not np.array_equal(w, again):
        fail(f"{name} gives different weights for two generators with the same seed: draw every random "
             "number from the rng argument (rng.uniform, rng.standard_normal, ...), not from np.random.")
    other = _sample(fn, name, shape, fan_in, fan_out, seed + 1, **kwargs)
    if np.array_equal(w, other):
        fail(f"{name} returns the same weights for different generators: the weights must be random, "
             "drawn from rng.")
    return w.astype(np.float64)


def _kurtosis(w: np.ndarray) -> float:
    c = w - w.mean()
    return float(np.mean(c**4) / np.mean(c**2) ** 2)


def _check_scale(name: str, w: np.ndarray, want_std: float, wrong: list[tuple[float, str]],
                 tol: float = 0.05) -> None:
    """Mean ≈ 0 and std ≈ ``want_std``; otherwise name the first wrong scale ``w`` matches."""
    std = float(w.std())
    expect_true(std > 0, f"{name}: all weights are equal; they must be random numbers.")
    if abs(w.mean()) > 0.1 * std:
        fail(f"{name}: the weights should have mean 0, but their mean is {w.mean() / std:.2f} standard "
             "deviations away from 0.")
    if abs(std / want_std - 1) < tol:
        return
    for scale, hint in wrong:
        if abs(std / scale - 1) < tol:
            fail(f"{name}: {hint}")
    ratio = std / want_std
    size = f"{ratio:.3g} times too large" if ratio > 1 else f"{1 / ratio:.3g} times too small"
    fail(f"{name}: the spread of the weights is wrong: their standard deviation is {size}.")


def _fans(rng) -> tuple[int, int]:
    """fan_in and fan_out of a dense layer, clearly different so a wrong fan shows.

    Their ratio keeps the wrong scales of 5.1 and 5.2 about 7% or more apart: at 0.5 and 2, Xavier with
    only fan_out (resp. fan_in) has the std √(6/(n_in + n_out)) of another mistake, and He with
    fan_out at ratio 2 the std √(1/n_in), so the hint named the wrong mistake.
    """
    fan_in = int(rng.integers(100, 301))
    fan_out = int(round(fan_in * float(rng.choice([0.4, 0.7, 1.5, 2.5]))))
    return fan_in, fan_out


# ---------------------------------------------------------------------------------------------- 5.1
@exercise("5.1", points=2, title="Xavier (Glorot) uniform initialization")
def _check_xavier_uniform(fn, rng):
    fan_in, fan_out = _fans(rng)
    w = _check_contract(fn, "xavier_uniform", rng, (fan_in, fan_out), fan_in, fan_out)
    s = fan_in + fan_out
    a = np.sqrt(6 / s)
    _check_scale("xavier_uniform", w, np.sqrt(2 / s), [
        (np.sqrt(2 / s) / np.sqrt(3), "your bound is a = √(2/(n_in + n_out)), which gives Var(w) = a²/3, three "
                                      "times too small: the variance of U(−a, a) is a²/3, so solve "
                                      "a²/3 = 2/(n_in + n_out)."),
        (a, "your weights have standard deviation √(6/(n_in + n_out)), the bound itself: draw uniformly from [−a, a] "
            "(rng.uniform(-a, a, size=shape)), whose standard deviation is a/√3."),
        (np.sqrt(2 / fan_in), "you used only fan_in: Xavier averages the two fans, Var(w) = 2/(n_in + n_out)."),
        (np.sqrt(2 / fan_out), "you used only fan_out: Xavier averages the two fans, Var(w) = 2/(n_in + n_out)."),
        (np.sqrt(1 / s), "your variance is 1/(n_in + n_out), half of Xavier's: the bound is a = √(6/(n_in + n_out))."),
        (np.sqrt(2 / (fan_in * fan_out)), "you multiplied the fans: Var(w) = 2/(n_in + n_out) uses their sum."),
        (2 * np.sqrt(2 / s), "your weights are twice too spread out: with rng.uniform(-a, a) the bound is a itself "
                             "(do not scale the interval again)."),
    ])
    if np.abs(w).max() > a * (1 + 1e-5):
        fail("xavier_uniform: some weights lie outside [−a, a] with a = √(6/(n_in + n_out)) — a uniform "
             "distribution, not a normal one, has a hard bound.")
    if _kurtosis(w) > (KURTOSIS_UNIFORM + KURTOSIS_NORMAL) / 2:
        fail("xavier_uniform: the variance is right but the weights look normally distributed (most of them near 0, "
             "few near ±a): Xavier's version here is uniform, every value in [−a, a] equally likely.")
    expect_true(np.abs(w).max() > 0.97 * a,
                "xavier_uniform: no weight comes close to ±a = ±√(6/(n_in + n_out)); draw from the whole "
                "interval [−a, a].")
    # fan_in and fan_out are not the shape's entries for a convolution weight
    c_out, c_in, k = int(rng.integers(8, 17)), int(rng.integers(3, 7)), 5
    conv_in, conv_out = c_in * k * k, c_out * k * k
    wc = _sample(fn, "xavier_uniform", (c_out, c_in, k, k), conv_in, conv_out, int(rng.integers(2**31)))
    bound = np.sqrt(6 / (conv_in + conv_out))
    if np.abs(wc).max() > bound * (1 + 1e-5) or np.abs(wc).max() < 0.9 * bound:
        fail("xavier_uniform: for a convolution weight of shape (c_out, c_in, k, k) the bound must come from the "
             "fan_in and fan_out arguments, not from the entries of shape.")


# ---------------------------------------------------------------------------------------------- 5.2
@exercise("5.2", points=2, title="He normal initialization")
def _check_he_normal(fn, rng):
    fan_in, fan_out = _fans(rng)
    w = _check_contract(fn, "he_normal", rng, (fan_in, fan_out), fan_in, fan_out)
    want = np.sqrt(2 / fan_in)
    _check_scale("he_normal", w, want, [
        (np.sqrt(fan_in / 2), "you divided ε by √(2/n): that is the notes' slip. The standard deviation must be "
                              "√(2/n_in), so multiply ε ~ N(0, 1) by √(2/n_in) (or divide it by √(n_in/2))."),
        (2 / fan_in, "your standard deviation is 2/n_in, which is the *variance* He asks for: scale ε by its square "
                     "root, √(2/n_in)."),
        (np.sqrt(1 / fan_in), "your variance is 1/n_in: that is the scaled normal of sigmoid nets. For ReLU, He "
                              "doubles it to 2/n_in, because a ReLU zeroes half of its inputs."),
        (np.sqrt(2 / fan_out), "you used fan_out: He's variance is 2/n_in, with the number of *inputs* of a unit."),
        (np.sqrt(4 / (fan_in + fan_out)), "you used both fans as in Xavier: He's variance is 2/n_in, the fan-in only."),
        (1.0, "your weights have standard deviation 1: scale ε ~ N(0, 1) by √(2/n_in)."),
    ])
    if _kurtosis(w) < (KURTOSIS_UNIFORM + KURTOSIS_NORMAL) / 2:
        fail("he_normal: the variance is right but the weights look uniformly distributed: draw them from a normal "
             "distribution (rng.standard_normal) and scale them.")


# ---------------------------------------------------------------------------------------------- 5.3
@exercise("5.3", points=2, title="Sparse initialization")
def _check_sparse_init(fn, rng):
    fan_in, fan_out = int(rng.integers(40, 121)), int(rng.integers(200, 301))
    k = int(rng.integers(5, 16))
    w = _check_contract(fn, "sparse_init", rng, (fan_in, fan_out), fan_in, fan_out, k=k)
    nonzero = w != 0
    per_unit, per_input = nonzero.sum(axis=0), nonzero.sum(axis=1)
    if not np.all(per_unit == k):
        if np.all(per_input == k):
            fail(f"sparse_init: each *row* has k = {k} non-zero weights; it should be each *column* (the incoming "
                 "weights of one unit, W has shape (fan_in, fan_out)).")
        if np.all(per_unit <= k) and per_unit.min() < k:
            fail(f"sparse_init: some units have fewer than k = {k} non-zero weights (as few as {per_unit.min()}): "
                 "the k rows of a unit must be distinct — draw them without replacement, e.g. "
                 "rng.choice(fan_in, k, replace=False) or the first k entries of a random permutation.")
        fail(f"sparse_init: every column should have exactly k = {k} non-zero weights; yours have between "
             f"{per_unit.min()} and {per_unit.max()}.")
    patterns = {tuple(np.flatnonzero(col)) for col in nonzero.T}
    if len(patterns) < fan_out // 2:
        fail(f"sparse_init: only {len(patterns)} different sets of rows among {fan_out} units: draw the k rows "
             "separately for every unit, so that different units listen to different inputs.")
    expect_true(per_input.min() < per_input.max(),
                "sparse_init: the non-zero weights are spread too evenly over the inputs; choose each unit's "
                "rows at random.")
    values = w[nonzero]
    _check_scale("sparse_init (the non-zero weights)", values, 1.0, [
        (np.sqrt(1 / fan_in), "the non-zero weights should be N(0, 1), not scaled by 1/√n_in: sparse initialization "
                              "controls the variance of z through the number k of inputs instead."),
        (1 / np.sqrt(3), "the non-zero weights look uniform on [−1, 1]: draw them from N(0, 1) with "
                         "rng.standard_normal."),
    ], tol=0.12)
    # k larger than fan_in: every weight of a unit is used
    small = _sample(fn, "sparse_init", (4, 50), 4, 50, int(rng.integers(2**31)), k=15)
    expect_true(np.all(np.count_nonzero(small, axis=0) == 4),
                "sparse_init: when k > fan_in, every unit gets min(k, fan_in) = fan_in non-zero weights "
                "(try shape (4, 50) with k = 15).")
