"""Checkers for chapter 9, choosing hyper-parameters (``solutions/09_hyperparameters.ipynb``).

The references are the package's own tools: ``hyperopt.expected_improvement`` (9.1), the
log-uniform sampling of ``hyperopt.Real(..., log=True)`` judged statistically (9.2) and
``optim.PlateauHalving`` (9.3).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ...hyperopt import expected_improvement as reference_ei
from ...optim.schedules import PlateauHalving
from ..compare import call_learner, expect_close, expect_no_known_mistake, expect_shape, fail
from ..registry import exercise


# ------------------------------------------------------------------------------------------- 9.1
@exercise("9.1", points=2, title="Expected improvement")
def _check_expected_improvement(fn, rng):
    m = int(rng.integers(6, 12))
    mean = rng.normal(size=m)
    std = rng.uniform(0.05, 1.5, size=m)
    best = float(rng.normal(-0.3, 0.3))
    got = expect_shape(call_learner(fn, mean, std, best), (m,), "expected_improvement(mean, std, best)")
    got = got.astype(np.float64)
    want = reference_ei(mean, std, best, xi=0.0)
    gain, z = best - mean, (best - mean) / std
    known = [
        (reference_ei(-mean, std, -best, xi=0.0),
         "this is the expected improvement for maximization (μ − f⁺). Here lower is better: the improvement is "
         "max(f⁺ − f, 0), so use f⁺ − μ."),
        (gain * stats.norm.cdf(z), "the exploration term is missing: add σ φ(z), the part of the improvement due "
                                   "to the uncertainty."),
        (gain * stats.norm.pdf(z) + std * stats.norm.cdf(z),
         "φ and Φ are swapped: (f⁺ − μ) multiplies the distribution function Φ(z) (scipy.stats.norm.cdf) and σ "
         "the density φ(z) (norm.pdf)."),
        (gain * stats.norm.cdf(z) - std * stats.norm.pdf(z),
         "the sign of σ φ(z) is wrong: −∫ ε φ(ε) dε from −∞ to z equals +φ(z)."),
        (reference_ei(mean, std ** 2, best, xi=0.0),
         "you used σ² where the formula needs σ: `std` is already the standard deviation."),
        (np.maximum(gain, 0), "you returned max(f⁺ − μ, 0), which ignores the uncertainty; that is the value "
                              "only where σ = 0."),
    ]
    expect_no_known_mistake(got, want, known)
    if np.any(got < -1e-9):
        fail("some of your values are negative; an expected improvement is the mean of max(f⁺ − f, 0) ≥ 0.")
    expect_close(got, want, what="expected_improvement(mean, std, best)",
                 inputs={"mean": mean, "std": std}, rtol=1e-4, atol=1e-7)
    # σ = 0: no uncertainty, the improvement is certain (or nothing)
    mean_z = np.array([best - 0.5, best + 0.5, best, best - 0.1])
    std_z = np.array([0.0, 0.0, 0.0, 0.3])
    got_z = expect_shape(call_learner(fn, mean_z, std_z, best), (4,), "expected_improvement with std = 0")
    got_z = got_z.astype(np.float64)
    if not np.all(np.isfinite(got_z)):
        fail("where std = 0 your result is NaN or inf (0/0 in z). There the improvement is certain: return "
             "max(f⁺ − μ, 0), e.g. with np.where(std > 0, ..., ...) and z computed only where std > 0.")
    expect_close(got_z, reference_ei(mean_z, std_z, best, xi=0.0), what="expected_improvement with std = 0 "
                 "(it should be max(f⁺ − μ, 0) there)", inputs={"mean": mean_z, "std": std_z}, atol=1e-7)


# ------------------------------------------------------------------------------------------- 9.2
def _samples(fn, low, high, size, seed, what):
    out = call_learner(fn, low, high, size, np.random.default_rng(seed))
    out = expect_shape(out, (size,), what).astype(np.float64)
    if not np.all(np.isfinite(out)):
        fail(f"{what} contains NaN or inf.")
    return out


@exercise("9.2", points=2, title="Log-uniform sampling of a scale hyper-parameter")
def _check_sample_log_uniform(fn, rng):
    low = float(10.0 ** rng.uniform(-5, -2))
    high = low * float(10.0 ** rng.uniform(3, 5))
    size = 20000
    seed = int(rng.integers(0, 2**31))
    what = f"sample_log_uniform({low:.3g}, {high:.3g}, {size}, rng)"
    x = _samples(fn, low, high, size, seed, what)
    if x.min() < low * (1 - 1e-9) or x.max() > high * (1 + 1e-9):
        hint = ("some samples lie outside [low, high]: a mix of bases? If you draw u uniformly between ln(low) and "
                "ln(high), return exp(u), not 10**u (and log10 goes with 10**u).")
        if x.min() <= 0:
            hint = "some samples are ≤ 0: a scale hyper-parameter is positive; sample its logarithm, then exponentiate."
        fail(hint)
    again = _samples(fn, low, high, size, seed, what)
    if not np.array_equal(x, again):
        fail("two calls with generators made from the same seed gave different samples: draw the random numbers "
             "from the `rng` argument (rng.uniform(...)), not from np.random.")
    other = _samples(fn, low, high, size, seed + 1, what)
    if np.array_equal(x, other):
        fail("generators with different seeds gave the same samples: use the `rng` argument to draw them.")
    if len(np.unique(x)) < size // 2:
        fail("many samples are repeated; each sample should be an independent draw.")
    log_u = (np.log(x) - np.log(low)) / (np.log(high) - np.log(low))
    if stats.kstest(log_u, "uniform").statistic < 0.03:
        return
    linear_u = (x - low) / (high - low)
    top_decade = np.mean(x > high / 10)
    if stats.kstest(linear_u, "uniform").statistic < 0.03:
        fail(f"your samples are uniform in x itself: {top_decade:.0%} of them lie in the top decade "
             "[high/10, high]. For a scale parameter each decade should get the same share: draw the logarithm "
             "uniformly between log(low) and log(high), then exponentiate.")
    fail("the logarithms of your samples are not uniformly spread between log(low) and log(high) (a histogram of "
         "np.log(samples) should be flat). Draw u = rng.uniform(log(low), log(high)) and return exp(u).")


# ------------------------------------------------------------------------------------------- 9.3
def _reference_rates(val_acc, lr0, patience, factor, min_ratio):
    plateau = PlateauHalving(lr0, factor=factor, patience=patience, min_ratio=min_ratio, mode="max")
    rates = []
    for value in val_acc:
        rates.append(plateau.update(value))
        if plateau.finished:
            break
    return np.array(rates)


def _variant_rates(val_acc, lr0, patience, factor, min_ratio, reset=True, ties=False):
    """Known mistakes: no reset of the count after a halving, ties counted as improvements."""
    best, wait, lr, rates = -np.inf, 0, lr0, []
    for value in val_acc:
        if value > best or (ties and value == best):
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience and lr > lr0 * min_ratio * (1 + 1e-9):
                lr *= factor
                if reset:
                    wait = 0
        rates.append(lr)
        if lr <= lr0 * min_ratio * (1 + 1e-9):
            break
    return np.array(rates)


def _accuracy_curve(rng, epochs):
    """A noisy, saturating validation-accuracy curve rounded to 0.001 (ties happen)."""
    t = np.arange(1, epochs + 1)
    curve = 0.97 - 0.5 * np.exp(-t / rng.uniform(2, 6)) + rng.normal(0, 0.004, epochs)
    return np.round(curve, 3)


@exercise("9.3", points=3, title="Halve the learning rate on a plateau until 1/1024")
def _check_halving_schedule(fn, rng):
    cases = [(_accuracy_curve(rng, 80), float(rng.choice([0.5, 1.0, 3.0])), int(rng.integers(1, 4)), 0.5, 1 / 1024),
             (_accuracy_curve(rng, 25), 0.1, 2, 0.5, 1 / 8),
             (_accuracy_curve(rng, 40), 2.0, 1, float(rng.choice([0.1, 0.25])), 1e-3)]
    # a constructed case with exact ties and a late improvement
    cases.append((np.array([0.5, 0.6, 0.6, 0.6, 0.65, 0.64, 0.65, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.7, 0.7,
                            0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]), 1.0, 2, 0.5, 1 / 16))
    for val_acc, lr0, patience, factor, min_ratio in cases:
        ratio = f"1/{1 / min_ratio:.0f}" if np.isclose(1 / min_ratio, round(1 / min_ratio)) else f"{min_ratio:g}"
        what = (f"halving_schedule(val_acc, lr0={lr0:g}, patience={patience}, factor={factor:g}, "
                f"min_ratio={ratio})")
        given = list(val_acc)  # the learner's list: call_learner only watches arrays
        got = call_learner(fn, given, lr0, patience=patience, factor=factor, min_ratio=min_ratio)
        got = np.asarray(got, dtype=np.float64).reshape(-1)
        want = _reference_rates(val_acc, lr0, patience, factor, min_ratio)
        if len(got) == len(want) and np.allclose(got, want, rtol=1e-9):
            continue
        if not np.array_equal(given, val_acc):
            fail("halving_schedule changed the list of accuracies in place.")
        args = (val_acc, lr0, patience, factor, min_ratio)
        if len(got) == len(val_acc) and len(want) < len(val_acc) and np.allclose(got[:len(want)], want):
            fail(f"{what}: your rates are right but you did not stop: return the list as soon as η has reached "
                 "lr0·min_ratio (that epoch's rate is the last entry).")
        for variant, hint in [
            (dict(reset=False), "after a halving, start counting the epochs without a new best again from 0: "
                                "otherwise η is halved every epoch of a long plateau."),
            (dict(ties=True), "an accuracy equal to the best so far is not an improvement: use a strict >."),
        ]:
            alt = _variant_rates(*args, **variant)
            if len(got) == len(alt) and np.allclose(got, alt, rtol=1e-9):
                fail(f"{what}: {hint}")
        if len(got) and got[0] != want[0]:
            fail(f"{what}: the first epoch's rate should be lr0 = {lr0:g} (the first accuracy is always a new best).")
        n = min(len(got), len(want))
        wrong = np.flatnonzero(~np.isclose(got[:n], want[:n], rtol=1e-9))
        if len(wrong):
            e = int(wrong[0])
            fail(f"{what}: the rate after epoch {e + 1} is {got[e]:.4g}, expected a value "
                 f"{'smaller' if got[e] > want[e] else 'larger'}. Halve (η ← factor·η) only when the accuracy has "
                 "not beaten its best for `patience` epochs in a row, then restart the count.")
        fail(f"{what}: you returned {len(got)} rates where {len(want)} were expected: one rate per epoch, stopping "
             "after the epoch at which η reaches lr0·min_ratio (or at the end of the list).")
