"""Checkers for chapter 14, generative adversarial networks (``solutions/14_gans.ipynb``).

The references are the package's :func:`~coursepkg.models.gan.discriminator_loss`,
:func:`~coursepkg.models.gan.generator_loss` and :func:`~coursepkg.models.gan.optimal_discriminator`,
run on fresh random logits and densities. Real and fake batches have different sizes, so a cost
divided by the wrong batch size (or by 2m, the notes' convention) is caught. Beyond the generic
hints of ``expect_close``, the checkers recognize this chapter's typical mistakes: the two targets
swapped, a gradient of the wrong sign or without the 1/m, the minimax gradient given for the
non-saturating cost, a log of a saturated sigmoid (``log 0``) on large logits, ``1 − D*`` instead of
``D*``, ``0/0`` where both densities vanish, and a JSD returned instead of the value ``V``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ...data.mixtures import GaussianMixture
from ...models.gan import discriminator_loss, generator_loss, optimal_discriminator
from ..compare import (
    call_learner,
    expect_close,
    expect_no_known_mistake,
    expect_parts,
    expect_scalar,
    expect_shape,
    expect_true,
    matches,
)
from ..registry import exercise

_matches = partial(matches, rtol=0.0001, atol=1e-07)
_known_mistakes = partial(expect_no_known_mistake, rtol=0.0001, atol=1e-07)


def _sigmoid(s):
    return 1 / (1 + np.exp(-s))


_MEAN_HINT = "Did you forget to average over the examples?"


def _logits(rng, m: int, scale: float = 3.0):
    return rng.normal(size=(m, 1)) * scale


# ------------------------------------------------------------------------------------------- 14.1
@exercise("14.1", points=3, title="The discriminator's cost and its gradients")
def _check_discriminator_cost(fn, rng):
    m_r = int(rng.integers(3, 7))
    m_f = m_r + int(rng.integers(1, 4))  # different sizes: each mean has its own 1/m
    real, fake = _logits(rng, m_r), _logits(rng, m_f)
    what = "discriminator_cost(real_logits, fake_logits)"
    cost, g_real, g_fake = expect_parts(call_learner(fn, real, fake), ("cost", "grad_real", "grad_fake"), what)
    want_cost, want_real, want_fake = discriminator_loss(real, fake)
    cost = expect_scalar(cost, f"the cost returned by {what}", _MEAN_HINT)
    swapped = -np.mean(np.log(1 - _sigmoid(real))) - np.mean(np.log(_sigmoid(fake)))
    _known_mistakes(np.array(cost), np.array(want_cost), [
        (np.array(swapped), "the targets are swapped: real examples should get D → 1 (cost −log D(x)), fakes D → 0 "
                            "(cost −log(1 − D(G(z))))."),
        (np.array(-want_cost), "the cost has the wrong sign: the discriminator *descends* C_D = −V, the negative "
                               "log-likelihood, which is positive."),
        (np.array(-(np.sum(np.log(_sigmoid(real))) + np.sum(np.log(1 - _sigmoid(fake)))) / (m_r + m_f)),
         "that is the mean over all real and fake examples together; here each batch has its own mean: "
         "C_D = −mean log D(x) − mean log(1 − D(G(z)))."),
    ])
    expect_close(cost, want_cost, what=f"the cost returned by {what}")
    g_real = expect_shape(g_real, real.shape, f"grad_real returned by {what}")
    g_fake = expect_shape(g_fake, fake.shape, f"grad_fake returned by {what}")
    real_sign = "grad_real has the wrong sign: ∂(−log σ(s))/∂s = σ(s) − 1, which is negative."
    _known_mistakes(g_real, want_real, [
        (_sigmoid(real) - 1, "grad_real is missing the factor 1/m_real of the mean.", 0.5),
        (1 - _sigmoid(real), real_sign, 0.5),
        ((1 - _sigmoid(real)) / m_r, real_sign, 0.5),
        (_sigmoid(real) / m_r, "grad_real uses target 0: for a real example the target is 1, so δ = (σ(s) − 1)/m.",
         0.5),
        ((_sigmoid(real) - 1) / (m_r + m_f), "grad_real is divided by m_real + m_fake; each batch's mean has its own "
                                            "1/m.", 0.5),
    ])
    expect_close(g_real, want_real, what=f"grad_real returned by {what}", inputs={"real_logits": real})
    _known_mistakes(g_fake, want_fake, [
        (_sigmoid(fake), "grad_fake is missing the factor 1/m_fake of the mean.", 0.5),
        (-_sigmoid(fake) / m_f, "grad_fake has the wrong sign: ∂(−log(1 − σ(s)))/∂s = +σ(s).", 0.5),
        ((_sigmoid(fake) - 1) / m_f, "grad_fake uses target 1: for a fake example the target is 0, so δ = σ(s)/m.",
         0.5),
    ])
    expect_close(g_fake, want_fake, what=f"grad_fake returned by {what}", inputs={"fake_logits": fake})
    # a confident discriminator: logits of ±800 make σ(s) round to exactly 0 or 1
    real, fake = np.array([[800.0], [-800.0], [2.0]]), np.array([[-800.0], [800.0], [-1.0]])
    cost, g_real, g_fake = expect_parts(call_learner(fn, real, fake), ("cost", "grad_real", "grad_fake"), what)
    expect_true(np.isfinite(expect_scalar(cost, f"the cost returned by {what}", _MEAN_HINT)),
                "with logits like ±800 your cost is infinite or NaN: log σ(s) underflows to log 0. Write −log σ(s) = "
                "log(1 + e^{−s}) and −log(1 − σ(s)) = log(1 + e^{s}), and compute them with np.logaddexp(0, ·).",
                partial=0.7)
    expect_close(cost, discriminator_loss(real, fake)[0], what=f"the cost for logits of ±800 returned by {what}")


# ------------------------------------------------------------------------------------------- 14.2
@exercise("14.2", points=2, title="The non-saturating generator cost")
def _check_non_saturating(fn, rng):
    m = int(rng.integers(3, 8))
    s = _logits(rng, m, scale=4.0)
    what = "non_saturating_cost(fake_logits)"
    cost, grad = expect_parts(call_learner(fn, s), ("cost", "grad"), what)
    want_cost, want_grad = generator_loss(s, "non_saturating")
    cost = expect_scalar(cost, f"the cost returned by {what}", _MEAN_HINT)
    minimax_cost, minimax_grad = generator_loss(s, "minimax")
    _known_mistakes(np.array(cost), np.array(want_cost), [
        (np.array(minimax_cost), "that is the minimax cost mean log(1 − D(G(z))); the non-saturating one is "
                                 "−mean log D(G(z))."),
        (np.array(-want_cost), "the cost has the wrong sign: the generator minimizes −mean log D(G(z)), which is "
                               "positive."),
    ])
    expect_close(cost, want_cost, what=f"the cost returned by {what}")
    grad = expect_shape(grad, s.shape, f"grad returned by {what}")
    _known_mistakes(grad, want_grad, [
        (minimax_grad, "that is the gradient of the minimax cost, −σ(s)/m, which vanishes when D(G(z)) → 0; "
                       "differentiate −log σ(s) instead.", 0.5),
        (_sigmoid(s) - 1, "grad is missing the factor 1/m of the mean.", 0.5),
        (1 - _sigmoid(s), "grad has the wrong sign: ∂(−log σ(s))/∂s = σ(s) − 1 ≤ 0 (descending it raises s).", 0.5),
        ((1 - _sigmoid(s)) / m, "grad has the wrong sign: ∂(−log σ(s))/∂s = σ(s) − 1 ≤ 0 (descending it raises s).",
         0.5),
    ])
    expect_close(grad, want_grad, what=f"grad returned by {what}", inputs={"fake_logits": s})
    rejected = np.full((m, 1), -800.0)  # the discriminator rejects every fake: σ(−800) is 0 in floating point
    cost, grad = expect_parts(call_learner(fn, rejected), ("cost", "grad"), what)
    expect_true(np.isfinite(expect_scalar(cost, f"the cost returned by {what}", _MEAN_HINT)),
                "for logits of −800 your cost is infinite: σ(s) rounds to 0 and log 0 = −∞. Use −log σ(s) = "
                "log(1 + e^{−s}), computed as np.logaddexp(0, −s).", partial=0.7)
    expect_close(grad, generator_loss(rejected, "non_saturating")[1],
                 what=f"grad for logits of −800 returned by {what}")


# ------------------------------------------------------------------------------------------- 14.3
def _densities(rng):
    """Two 1-D Gaussian-mixture densities on a grid that covers both (and their tails)."""
    x = np.linspace(-8, 8, int(rng.integers(1500, 2500)))
    data = GaussianMixture(rng.uniform(-2, 2, size=2), rng.uniform(0.4, 1.0, size=2), rng.uniform(0.3, 1, size=2))
    model = GaussianMixture(rng.uniform(-2, 2, size=1), rng.uniform(0.4, 1.5))
    return x, data.pdf(x), model.pdf(x)


def _value(p_data, p_g, x):
    """V(D*, G) = ∫ p_data log D* + p_g log(1 − D*) dx, with 0 log 0 = 0 (trapezoid rule)."""
    total = p_data + p_g
    safe = np.where(total > 0, total, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p_data > 0, p_data * np.log(np.where(p_data > 0, p_data, 1) / safe), 0.0) + \
            np.where(p_g > 0, p_g * np.log(np.where(p_g > 0, p_g, 1) / safe), 0.0)
    return float(np.trapezoid(terms, x))


@exercise("14.3", points=3, title="The optimal discriminator and V(D*, G)")
def _check_optimal_d(fn, rng):
    what = "optimal_d_and_value(p_data, p_g, x)"
    x, p_data, p_g = _densities(rng)
    d, value = expect_parts(call_learner(fn, p_data, p_g, x), ("d_star", "value"), what)
    want = optimal_discriminator(p_data, p_g)
    d = expect_shape(d, want.shape, f"d_star returned by {what}")
    _known_mistakes(d, want, [
        (1 - want, "d_star is 1 − D*: the discriminator's output is the probability of *real*, "
                   "p_data / (p_data + p_g)."),
        (p_data / np.maximum(p_g, 1e-300), "d_star is the ratio p_data / p_g; divide by the sum p_data + p_g."),
    ])
    expect_close(d, want, what=f"d_star returned by {what}", inputs={"x": x})
    value = expect_scalar(value, f"the value returned by {what}")
    expect_true(np.isfinite(value), "your value is infinite or NaN: in the tails D* rounds to 1 (or 0), and "
                "log(1 − D*) = log 0. Write 1 − D* as p_g / (p_data + p_g), and count p log(…) as 0 where p = 0.",
                partial=0.5)
    want_value = _value(p_data, p_g, x)
    jsd = (want_value + np.log(4)) / 2
    _known_mistakes(np.array(value), np.array(want_value), [
        (np.array(jsd), "that is the Jensen–Shannon divergence; the value is V(D*, G) = −log 4 + 2 JSD.", 0.5),
        (np.array(-want_value), "the value has the wrong sign: V(D*, G) = ∫ p_data log D* + p_g log(1 − D*) dx ≤ 0.",
         0.5),
    ])
    expect_close(value, want_value, what=f"the value returned by {what}", rtol=1e-3, atol=1e-5)
    # disjoint and overlapping uniform densities: zeros, ½ where they overlap, 0/0 where both vanish
    x = np.linspace(-1, 3, 801)
    p_data, p_g = ((x >= 0) & (x <= 1)).astype(float), ((x >= 0.5) & (x <= 2.5)) / 2.0
    d, value = expect_parts(call_learner(fn, p_data, p_g, x), ("d_star", "value"), what)
    d = expect_shape(d, x.shape, f"d_star returned by {what}")
    expect_true(np.all(np.isfinite(d)), "where both densities are 0 your d_star is NaN (0/0): the optimum is not "
                "determined there; return ½ (np.divide with `where=` and `out=` helps).", partial=0.6)
    expect_close(d, optimal_discriminator(p_data, p_g), what=f"d_star for two uniform densities, returned by {what}",
                 inputs={"x": x})
    expect_true(np.isfinite(expect_scalar(value, f"the value returned by {what}")),
                "with densities that are 0 somewhere your value is NaN or infinite: the terms p log(…) with p = 0 "
                "must count as 0 (the limit of p log p).", partial=0.7)
    expect_close(value, _value(p_data, p_g, x), what=f"the value for two uniform densities, returned by {what}",
                 rtol=1e-3, atol=1e-5)
