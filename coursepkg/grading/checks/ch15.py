"""Checkers for chapter 15, neuroevolution (``solutions/15_neuroevolution.ipynb``).

15.1 and 15.3 are random operators, so their checks are statistical: many draws on fresh inputs,
compared with the probabilities the operator must have (tolerances of about five standard
errors, so a right answer fails less than once in a million). The references are the package's
:func:`coursepkg.models.neuroevolution.tournament_selection` (for its win probabilities) and
:func:`coursepkg.models.neat.compatibility_distance`. Typical mistakes recognized: argmin instead of
argmax, returning fitness values instead of indices, the global NumPy generator instead of
``rng``, swapped excess/disjoint counts, N = the smaller genome, a sum instead of a mean of the
weight differences, signed differences, σ² instead of σ, mutating whole genomes instead of genes,
changing the argument in place.
"""

from __future__ import annotations

from functools import partial
from math import comb

import numpy as np

from ...models.neat import compatibility_distance
from ..compare import call_learner, expect_shape, expect_true, fail
from ..registry import exercise

# the learner's function, with this chapter's example of how to avoid changing the arguments
_draw = partial(call_learner, fix="return a new array, e.g. `genomes + noise`")


def _same_with_same_seed(fn, args: tuple, what: str, rng) -> None:
    """Two calls with generators seeded alike must agree, and differ for another seed."""
    seed = int(rng.integers(2**31))
    first = np.asarray(_draw(fn, *args, rng=np.random.default_rng(seed)))
    again = np.asarray(_draw(fn, *args, rng=np.random.default_rng(seed)))
    other = np.asarray(_draw(fn, *args, rng=np.random.default_rng(seed + 1)))
    expect_true(np.array_equal(first, again),
                f"{what} gave different results for two generators with the same seed: draw every random "
                "number from the `rng` argument (rng.integers, rng.random, rng.normal), not from np.random.")
    expect_true(not np.array_equal(first, other),
                f"{what} gave the same result for different seeds: use the `rng` argument for the random draws.")


# ------------------------------------------------------------------------------------------- 15.1
def _win_probabilities(P: int, k: int, replacement: bool) -> np.ndarray:
    """P(the individual of rank r = 1…P (1 = worst) wins a k-tournament)."""
    r = np.arange(1, P + 1)
    if replacement:
        return (r / P) ** k - ((r - 1) / P) ** k
    return np.array([comb(int(i) - 1, k - 1) for i in r]) / comb(P, k)


@exercise("15.1", points=3, title="Tournament selection")
def _check_tournament(fn, rng):
    P, k, n = int(rng.integers(6, 11)), 3, 40000
    fitness = rng.permutation(P) + rng.random(P)  # distinct values in random order
    what = "tournament_selection(fitness, n, k, rng)"
    picks = expect_shape(_draw(fn, fitness, n, k, rng=np.random.default_rng(int(rng.integers(2**31)))), (n,), what)
    if picks.dtype.kind == "f" and np.isin(picks, fitness).mean() > 0.5:
        fail("you returned fitness values; return the *indices* of the winners (e.g. via argmax).")
    expect_true(picks.dtype.kind in "iu", f"{what} should return integer indices, received dtype {picks.dtype}.")
    expect_true(picks.min() >= 0 and picks.max() < P, f"{what} returned indices outside 0…P−1.")
    if picks.max() < k:
        fail("your indices are all below k: they look like positions *within* each tournament; return the winners' "
             "indices into the population (look them up in your (n, k) array of contestants).")
    rank = np.empty(P, dtype=int)
    rank[np.argsort(fitness)] = np.arange(P)  # 0 = worst
    freq = np.bincount(rank[picks], minlength=P) / n

    def like(p):  # within five standard errors of the probabilities p, for every rank
        return bool(np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-3))

    if like(_win_probabilities(P, k, True)[::-1]):
        fail("the *worst* contestant wins your tournaments: the winner has the highest fitness (argmax).")
    if like(np.full(P, 1 / P)):
        fail("every individual is picked about equally often: the winner of each tournament must be the "
             "contestant with the highest fitness, not a random contestant.")
    if like(_win_probabilities(P, k, False)):
        fail("your contestants are drawn *without* replacement; draw them with replacement, "
             "independently (rng.integers), as the exercise asks.", partial=0.5)
    expect_true(like(_win_probabilities(P, k, True)),
                "the winners' frequencies are not those of k-tournaments: draw k random contestants for each "
                "of the n tournaments (an (n, k) array of indices) and keep the fittest of each row.")
    _same_with_same_seed(fn, (fitness, 50, k), what, rng)
    best = _draw(fn, fitness, 200, 40 * P, rng=np.random.default_rng(1))
    expect_true(np.all(np.asarray(best) == np.argmax(fitness)),
                "with a huge tournament (k ≫ P) the best individual should (almost surely) always win.")


# ------------------------------------------------------------------------------------------- 15.2
def _genomes(rng):
    """Two innovation→weight dicts with matching, disjoint and excess genes (the excess in ``a``)."""
    shared = rng.choice(np.arange(1, 30), size=int(rng.integers(3, 7)), replace=False)
    rest = np.setdiff1d(np.arange(1, 30), shared)
    only = rng.choice(rest, size=int(rng.integers(4, 9)), replace=False)
    split = len(only) // 2
    top = max(shared.max(), only.max())
    a_only = list(only[:split]) + list(range(top + 1, top + 1 + int(rng.integers(2, 4))))
    b_only = list(only[split:])
    a = {int(i): float(w) for i, w in zip(list(shared) + a_only, rng.normal(size=len(shared) + len(a_only)))}
    b = {int(i): float(w) for i, w in zip(list(shared) + b_only, rng.normal(size=len(shared) + len(b_only)))}
    return (a, b) if rng.random() < 0.5 else (b, a)


def _mistakes(a, b, c1, c2, c3):
    """Wrong versions of δ that learners often write, with hints."""
    matching = sorted(a.keys() & b.keys())
    unmatched = a.keys() ^ b.keys()
    cutoff = min(max(a), max(b))
    E, D = sum(i > cutoff for i in unmatched), sum(i <= cutoff for i in unmatched)
    diffs = np.array([a[i] - b[i] for i in matching])
    N, w = max(len(a), len(b)), np.abs(diffs).mean()
    return [
        (c1 * D / N + c2 * E / N + c3 * w, "excess and disjoint are swapped: excess genes lie beyond the *other* "
                                           "genome's largest innovation number, disjoint ones inside its range."),
        (c1 * E + c2 * D + c3 * w, "divide the excess and disjoint counts by N, the number of genes of the "
                                   "larger genome."),
        (c1 * E / min(len(a), len(b)) + c2 * D / min(len(a), len(b)) + c3 * w,
         "N is the number of genes of the *larger* genome."),
        (c1 * E / N + c2 * D / N + c3 * np.abs(diffs).sum(), "W̄ is the *mean* weight difference of the matching genes, "
                                                            "not their sum."),
        (c1 * E / N + c2 * D / N + c3 * abs(diffs.mean()), "average the *absolute* differences |w_a − w_b|."),
        (c1 * (E + D) / N + c3 * w, "disjoint genes are weighted by c2 and excess genes by c1."),
        ((c1 * E + c2 * D) / len(a.keys() | b.keys()) + c3 * w, "N is the number of genes of the larger genome, not "
                                                                "of both together."),
    ]


@exercise("15.2", points=3, title="NEAT's compatibility distance")
def _check_distance(fn, rng):
    for _ in range(4):
        a, b = _genomes(rng)
        c1, c2, c3 = (float(c) for c in rng.uniform(0.3, 2.0, size=3))
        copies = (dict(a), dict(b))
        got = _draw(fn, a, b, c1, c2, c3)
        if (a, b) != copies:
            fail("compatibility_distance changed one of the genomes (dicts) it received; only read them.")
        expect_true(np.ndim(got) == 0 and np.isfinite(float(got)),
                    f"compatibility_distance should return one finite number, received {got!r}.")
        want = compatibility_distance(a, b, c1, c2, c3)
        if np.isclose(float(got), want, rtol=1e-6, atol=1e-9):
            continue
        for value, hint in _mistakes(a, b, c1, c2, c3):
            if np.isclose(float(got), value, rtol=1e-6, atol=1e-9):
                fail(hint)
        fail(f"compatibility_distance is {'too large' if float(got) > want else 'too small'} for genomes with "
             f"{len(a)} and {len(b)} genes ({len(a.keys() & b.keys())} matching). Check E, D, N and W̄ one at a time "
             "on the example of the exercise.")
    same = {1: 0.3, 2: -0.7}
    expect_true(np.isclose(float(_draw(fn, same, dict(same), 1.0, 1.0, 0.4)), 0.0),
                "a genome's distance to itself should be 0.")


# ------------------------------------------------------------------------------------------- 15.3
@exercise("15.3", points=3, title="Gaussian mutation")
def _check_mutation(fn, rng):
    P, G = 400, int(rng.integers(150, 250))
    rate, sigma = float(rng.uniform(0.05, 0.3)), float(rng.uniform(0.2, 2.0))
    genomes = rng.normal(size=(P, G))
    what = "gaussian_mutation(genomes, rate, sigma, rng)"
    out = expect_shape(_draw(fn, genomes, rate, sigma, rng=np.random.default_rng(int(rng.integers(2**31)))),
                       (P, G), what)
    changed = out != genomes
    n = changed.size
    frac = changed.mean()
    if frac > 0.99:
        fail("every gene changed: each gene should mutate only with probability `rate` (draw a Boolean mask).")
    rows = changed.any(axis=1)
    expect_true(not np.array_equal(changed, np.repeat(rows[:, None], G, axis=1)),
                "whole genomes are mutated or left alone: the coin is tossed for every *gene* separately.")
    expect_true(abs(frac - rate) < 5 * np.sqrt(rate * (1 - rate) / n),
                "the fraction of mutated genes should be close to `rate` (each gene independently).")
    delta = (out - genomes)[changed]
    std = delta.std()
    if abs(std - sigma**2) < 0.1 * sigma**2 and abs(sigma**2 - sigma) > 0.2 * sigma:
        fail("the mutations have standard deviation σ², not σ: `rng.normal(0, sigma)` takes the standard deviation.")
    expect_true(abs(std - sigma) < 0.1 * sigma,
                "the changes θ_g' − θ_g should have standard deviation σ (= `sigma`): add σ·ε with ε ~ N(0, 1).")
    expect_true(abs(delta.mean()) < 6 * sigma / np.sqrt(len(delta)),
                "the changes should have mean 0 (add noise, don't shift the genes).")
    _same_with_same_seed(fn, (genomes[:5], rate, sigma), what, rng)
