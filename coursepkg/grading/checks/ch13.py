"""Checkers for chapter 13, autoencoders, sparse coding and RBMs (``solutions/13_autoencoders_rbms.ipynb``).

The references are the package's own implementations in float64: :class:`SparsityPenalty` (13.1), the
deterministic CD-1 of :meth:`RBM.contrastive_divergence` (13.2) and :func:`ista_step` (13.3), run on
fresh random inputs whose sizes differ (batch ≠ units, visible ≠ hidden, features ≠ atoms) so that a
transposed matrix or a reduction over the wrong axis fails with a shape hint instead of passing by
accident. Beyond the generic hints of ``expect_close``, the checkers recognize this chapter's typical
mistakes: the KL divergence reversed or missing its second term, ρ̂ averaged over the wrong axis, the
CD gradient in the ascent direction or with the positive statistics in the negative phase, the wrong
bias in a conditional, and a hard instead of soft threshold or one that forgets the step size.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ...models.autoencoder import SparsityPenalty
from ...models.rbm import RBM
from ...models.sparse_coding import ista_step, soft_threshold
from ..compare import (
    call_learner,
    expect_close,
    expect_no_known_mistake,
    expect_parts,
    expect_scalar,
    expect_shape,
    fail,
    matches,
)
from ..registry import exercise

_matches = partial(matches, rtol=0.0001, atol=1e-08)
_known_mistakes = partial(expect_no_known_mistake, rtol=0.0001, atol=1e-08)

# the learner's function, called with this chapter's example of how to avoid in-place changes
_call = partial(call_learner, fix=(
    '`h = h - g` makes a new array, `h -= g` does not'))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------------------------------- 13.1
def _kl(p, q):
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


@exercise("13.1", points=3, title="The KL sparsity penalty and its gradient")
def _check_kl_sparsity(fn, rng):
    n, k = int(rng.integers(4, 8)), int(rng.integers(2, 4))  # n ≠ k
    h = rng.uniform(0.02, 0.6, size=(n, k))
    rho, beta = float(rng.uniform(0.03, 0.2)), float(rng.uniform(1.5, 4.0))
    reference = SparsityPenalty(rho, beta)
    what = "kl_sparsity(h, rho, beta)"
    value, grad = expect_parts(_call(fn, h, rho, beta), ("penalty", "grad"), what)
    value = expect_scalar(value, f"the penalty Ω returned by {what}")
    want_value = reference.penalty(h)
    q = h.mean(axis=0)
    value_ok = _matches(value, want_value)
    if not value_ok:
        _known_mistakes(value, want_value, [
            (want_value / beta, "the penalty is weighted: multiply the sum of the KL divergences by β."),
            (beta * np.sum(_kl(q, rho)), "the divergence is reversed: use KL(ρ ‖ ρ̂ⱼ) = ρ ln(ρ/ρ̂ⱼ) + "
                                        "(1 − ρ) ln((1 − ρ)/(1 − ρ̂ⱼ)), with the target ρ first."),
            (beta * np.sum(rho * np.log(rho / q)), "KL between two Bernoulli distributions has two terms; the "
                                                  "second, (1 − ρ) ln((1 − ρ)/(1 − ρ̂ⱼ)), is missing."),
            (beta * np.mean(_kl(rho, q)), "sum the divergences over the hidden units, don't average them."),
            (beta * np.sum(_kl(rho, h.mean(axis=1))), "ρ̂ⱼ is the mean activation of unit j over the batch: average "
                                                      "over the examples (axis 0), not over the units."),
        ], partial=0.0)
        expect_close(value, want_value, what=f"the penalty Ω returned by {what}")
    grad = expect_shape(grad, (n, k), f"the gradient ∂Ω/∂h returned by {what} (one entry per activation)")
    want_grad = reference.gradient(h)
    partial = 0.5 if value_ok else 0.0
    row = beta * (-rho / q + (1 - rho) / (1 - q))
    _known_mistakes(grad, want_grad, [
        (np.broadcast_to(row, (n, k)), "ρ̂ⱼ is a mean over the n examples, so ∂ρ̂ⱼ/∂hᵢⱼ = 1/n: divide by the batch "
                                       "size."),
        (-want_grad, "the sign is flipped: ∂KL/∂ρ̂ = −ρ/ρ̂ + (1 − ρ)/(1 − ρ̂) is positive when ρ̂ > ρ."),
        (want_grad / beta, "the gradient carries the weight β too."),
    ], partial)
    try:
        expect_close(grad, want_grad, what=f"the gradient ∂Ω/∂h returned by {what}", inputs={"h": h})
    except AssertionError as err:
        fail(str(err), partial)


# ------------------------------------------------------------------------------------------- 13.2
def _rbm(rng):
    """A float64 RBM with random weights and biases, n_visible ≠ n_hidden."""
    n_v = int(rng.integers(5, 8))
    rbm = RBM(n_v, n_v - int(rng.integers(1, 3)), rng=rng, dtype=np.float64)
    for p in rbm.parameters():
        p.data[...] = rng.normal(size=p.shape)
    return rbm


@exercise("13.2", points=3, title="RBM conditionals and the CD-1 gradient")
def _check_rbm_cd1(hidden_probs, cd1_weight_gradient, rng):
    rbm = _rbm(rng)
    W, b, c = rbm.W.data, rbm.b.data, rbm.c.data
    n = int(rng.integers(3, 5))
    v = (rng.random((n, rbm.n_visible)) < 0.5).astype(np.float64)
    what = "rbm_hidden_probs(v, W, c)"
    got = expect_shape(_call(hidden_probs, v, W, c), (n, rbm.n_hidden), what)
    want = rbm.hidden_probs(v)
    _known_mistakes(got, want, [
        (v @ W + c, "that is the net input; p(h = 1 | v) applies the sigmoid to it."),
        (_sigmoid(v @ W), "the hidden bias c is missing from the net input."),
        (_sigmoid(-(v @ W + c)), "the sign is flipped: p(hⱼ = 1 | v) = σ(cⱼ + (vW)ⱼ) = 1/(1 + e^{−(cⱼ + (vW)ⱼ)})."),
    ])
    expect_close(got, want, what=what, inputs={"v": v})

    what = "cd1_weight_gradient(v, W, b, c)"
    v = rng.random((n, rbm.n_visible))  # probabilities are valid data too
    got = expect_shape(_call(cd1_weight_gradient, v, W, b, c), W.shape, f"{what} (the shape of W)")
    rbm.zero_grad()
    rbm.contrastive_divergence(v, k=1, sample=False)
    want = rbm.W.grad
    p0 = _sigmoid(v @ W + c)
    v1 = _sigmoid(p0 @ W.T + b)
    partial = 1 / 3  # the conditional was right
    _known_mistakes(got, want, [
        (-want, "that is the direction that *raises* the likelihood; the exercise asks for the gradient of the "
                "negative log-likelihood, −(v⁰ᵀp⁰ − v¹ᵀp¹)/n, which an optimizer subtracts."),
        (want * n, "average over the batch: divide by the number of examples n."),
        (-(v.T @ p0 - v1.T @ p0) / n, "the negative phase pairs the reconstruction v¹ with *its own* hidden "
                                      "probabilities p¹ = p(h = 1 | v¹), not with p⁰."),
        (-(v.T @ p0 - _sigmoid(p0 @ W.T).T @ _sigmoid(_sigmoid(p0 @ W.T) @ W + c)) / n,
         "the reconstruction v¹ = σ(p⁰Wᵀ + b) needs the visible bias b."),
    ], partial)
    try:
        expect_close(got, want, what=what, inputs={"v": v})
    except AssertionError as err:
        fail(str(err), partial)


# ------------------------------------------------------------------------------------------- 13.3
@exercise("13.3", points=2, title="One ISTA step")
def _check_ista_step(fn, rng):
    n, d = int(rng.integers(2, 5)), int(rng.integers(6, 9))
    k = d + int(rng.integers(2, 5))  # an overcomplete dictionary, k ≠ d
    D = rng.normal(size=(d, k))
    D /= np.linalg.norm(D, axis=0)
    X, h = rng.normal(size=(n, d)), rng.normal(size=(n, k)) * 0.5
    lam, step = float(rng.uniform(0.2, 0.6)), float(rng.uniform(0.05, 0.1))
    what = "ista_step(h, X, D, lam, step)"
    got = expect_shape(_call(fn, h, X, D, lam, step), (n, k), f"{what} (one code per row)")
    want = ista_step(h, X, D, lam, step)
    u = h - step * ((h @ D.T - X) @ D)
    _known_mistakes(got, want, [
        (soft_threshold(u, lam), "the threshold is the step size times λ, ηλ: the L1 part is scaled by η like the "
                                 "gradient step."),
        (np.where(np.abs(u) > step * lam, u, 0), "that is a *hard* threshold: the soft threshold also shrinks the "
                                                 "surviving entries towards 0 by ηλ."),
        (np.maximum(u - step * lam, 0), "entries below −ηλ must survive too (shrunk towards 0): "
                                        "S_t(u) = sign(u) max(|u| − t, 0)."),
        (u, "after the gradient step, apply the soft threshold S_{ηλ}."),
        (soft_threshold(h + step * ((h @ D.T - X) @ D), step * lam),
         "the gradient of ½‖x − hDᵀ‖² with respect to h is (hDᵀ − x)D: step *against* it."),
    ])
    expect_close(got, want, what=what, inputs={"h": h})
