"""Checkers for chapter 7, stochastic training (``solutions/07_stochastic_training.ipynb``)."""

from __future__ import annotations

import warnings

import numpy as np

from ...nn import Parameter
from ...optim import Boltzmann, Cauchy
from ..compare import expect_close, expect_raises, expect_shape, expect_true, fail
from ..registry import exercise


def _reference_acceptance(c, T, k):
    """min(1, exp(−c/kT)), written so that a large negative c cannot overflow."""
    return np.exp(-np.maximum(c, 0.0) / (k * T))


def _call_quietly(fn, *args):
    """Call the learner's function, turning overflow warnings into a specific hint."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return fn(*args)
        except RuntimeWarning as warning:
            fail(f"Your function raised a NumPy warning ({warning}). For a very negative c, "
                 "exp(−c/kT) overflows: take exp of −max(c, 0)/kT (np.maximum), which is ≤ 0 — "
                 "downhill moves get probability exp(0) = 1 without ever computing a huge number.")


@exercise("7.1", points=2, title="The Metropolis acceptance probability")
def _check_acceptance(fn, rng):
    c = rng.normal(size=int(rng.integers(20, 40))) * 2.0
    c[:3] = (-0.5, 0.0, 0.7)                      # a downhill move, no change and an uphill move
    T, k = float(rng.uniform(0.3, 2.0)), float(rng.uniform(0.5, 3.0))
    got = expect_shape(_call_quietly(fn, c, T, k), c.shape, "acceptance_probability(c, T, k)")
    want = _reference_acceptance(c, T, k)
    if np.any(got > 1 + 1e-9):
        fail("Some probabilities are above 1 (for downhill moves, c < 0, exp(−c/kT) > 1). "
             "A probability cannot exceed 1: use min(1, exp(−c/kT)), i.e. always accept c ≤ 0.")
    if np.allclose(got, np.minimum(1, np.exp(np.minimum(c, 50) / (k * T)))):
        fail("Wrong sign in the exponent: an uphill move (c > 0) must become *less* likely, "
             "so the probability is exp(−c/kT).")
    if np.allclose(got, _reference_acceptance(c, T, 1.0)) and not np.isclose(k, 1.0):
        fail("Your probability ignores k: the Metropolis rule uses exp(−c/(k·T)).")
    if np.allclose(got, _reference_acceptance(c, 1.0, k)):
        fail("Your probability ignores the temperature T: it is exp(−c/(k·T)).")
    if np.allclose(got, np.exp(-np.maximum(c, 0) * k * T)) or np.allclose(got, np.exp(-np.maximum(c, 0) * T / k)):
        fail("Check how k and T enter: the exponent is −c divided by the product k·T.")
    expect_close(got, want, what="acceptance_probability(c, T, k)", inputs={"c": c})
    # extreme inputs: no overflow, exact limits
    huge = np.array([-1e4, -50.0, 1e4])
    got = expect_shape(_call_quietly(fn, huge, 0.01, 1.0), (3,), "acceptance_probability on extreme c")
    expect_true(np.all(np.isfinite(got)) and np.allclose(got, [1.0, 1.0, 0.0]),
                "For c = −10⁴ (far downhill) the probability must be exactly 1 and for c = +10⁴ "
                "it must be 0, without inf or nan: compute exp(−max(c, 0)/kT).")


def _reference_cauchy(u, T, rho):
    return rho * T * np.tan(np.pi * (u - 0.5))


@exercise("7.2", points=2, title="A Cauchy step by inverting the CDF")
def _check_cauchy_step(fn, rng):
    u = rng.uniform(0.02, 0.98, size=(int(rng.integers(5, 9)), int(rng.integers(2, 5))))
    T, rho = float(rng.uniform(0.2, 3.0)), float(rng.uniform(0.3, 2.0))
    got = expect_shape(fn(u, T, rho), u.shape, "cauchy_step(u, T, rho)")
    want = _reference_cauchy(u, T, rho)
    if np.allclose(got, rho * T * np.tan(u)):
        fail("You used tan(u) directly. u is uniform on [0, 1), not an angle: solve F(x) = u for "
             "the Cauchy CDF F(x) = ½ + arctan(x/(ρT))/π, which gives an angle π(u − ½) in (−π/2, π/2).")
    if np.allclose(got, rho * T * np.tan(np.pi * u)):
        fail("Close: the angle must be centred, π(u − ½), so that u = ½ (the median) gives a step of 0.")
    if np.allclose(got, -want):
        fail("Your steps have the wrong sign: u < ½ should give a negative step (F is increasing).")
    if np.allclose(got, T * np.tan(np.pi * (u - 0.5))) and not np.isclose(rho, 1.0):
        fail("Your step ignores ρ: the width of the distribution is ρ·T.")
    if np.allclose(got, rho * np.tan(np.pi * (u - 0.5))):
        fail("Your step ignores the temperature T: the width of the distribution is ρ·T.")
    expect_close(got, want, what="cauchy_step(u, T, rho)", inputs={"u": u})
    # the median maps to 0 and the quartiles to ±ρT
    got = expect_shape(fn(np.array([0.25, 0.5, 0.75]), T, rho), (3,), "cauchy_step at the quartiles")
    expect_close(got, [-rho * T, 0.0, rho * T], what="cauchy_step(u = [¼, ½, ¾], T, ρ)")


@exercise("7.3", points=2, title="Cooling schedules")
def _check_temperature(fn, rng):
    t = np.sort(rng.choice(np.arange(1, 5000), size=12, replace=False))
    T0 = float(rng.uniform(0.5, 20.0))
    one = [Parameter(np.zeros(1))]
    for name, reference in (("boltzmann", Boltzmann(one, T0=T0)), ("cauchy", Cauchy(one, T0=T0))):
        got = expect_shape(fn(t, T0, name), t.shape, f"temperature(t, T0, {name!r})")
        want = reference.temperature(t)
        if name == "boltzmann":
            if np.allclose(got[t > 1], T0 / np.log(t[t > 1])):
                fail("Boltzmann: you used log(t); the schedule is T0 / log(1 + t) (log(t) would "
                     "give T = ∞ at t = 1). np.log1p(t) computes log(1 + t).")
            if np.allclose(got, T0 / np.log10(1 + t)):
                fail("Boltzmann: use the natural logarithm (np.log or np.log1p), not log10.")
        elif np.allclose(got, T0 / t):
            fail("Cauchy: the schedule is T0 / (1 + t), not T0 / t.")
        expect_close(got, want, what=f"temperature(t, T0, {name!r})", inputs={"t": t})
    expect_raises(ValueError, fn, t, T0, "geometric", what="temperature(t, T0, 'geometric')")
