"""Checkers for chapter 8, regularization (``solutions/08_regularization.ipynb``).

The references come from the package: ``L2`` (the penalty's gradient ``(λ/n) w``) plus a plain SGD
step, ``Dropout`` with a fixed mask, and ``BatchNorm1d`` in training mode, all in float64.
"""

from __future__ import annotations

import numpy as np

from ...nn import BatchNorm1d, Dropout
from ...regularization import L2
from ..compare import expect_close, expect_shape, fail
from ..registry import exercise


def _quietly(fn, *args, **kwargs):
    """Call the learner's function with NumPy warnings silenced (the result is judged instead)."""
    with np.errstate(all="ignore"):
        return fn(*args, **kwargs)


def _matches(got, wrong) -> bool:
    return np.shape(got) == np.shape(wrong) and np.allclose(got, wrong, rtol=1e-6, atol=1e-9)


def _unpack(result, count: int, what: str, names: str):
    if not isinstance(result, (tuple, list)) or len(result) != count:
        fail(f"{what} should return {count} values, {names}; received {type(result).__name__}.")
    return result


def _unchanged(before: dict, after: dict, who: str) -> None:
    for name, value in before.items():
        if not np.array_equal(value, after[name]):
            fail(f"{who} changed its argument `{name}` in place (e.g. with `-=` or `*=`); compute new arrays "
                 "instead, e.g. `W_new = ...`.")


# ---------------------------------------------------------------------------------------------- 8.1
@exercise("8.1", points=2, title="One SGD step with L2 regularization")
def _check_l2_sgd_step(fn, rng):
    n_in, n_out = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    dW, db = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    eta, lam, n = float(rng.uniform(0.1, 1.0)), float(rng.uniform(50, 200)), int(rng.integers(500, 2000))
    args = dict(W=W, b=b, dW=dW, db=db)
    copies = {k: v.copy() for k, v in args.items()}
    W_new, b_new = _unpack(_quietly(fn, W, b, dW, db, eta, lam, n), 2, "l2_sgd_step", "the new (W, b)")
    _unchanged(copies, args, "l2_sgd_step")
    W_new = expect_shape(W_new, W.shape, "the new W").astype(np.float64)
    b_new = expect_shape(b_new, b.shape, "the new b").astype(np.float64)
    decay = L2(lam, n=n).gradient(W)  # (λ/n) W
    W_want, b_want = W - eta * (dW + decay), b - eta * db
    for wrong, hint in (
        (W - eta * dW, "your W ignores the penalty: multiply W by the decay factor (1 − ηλ/n) before the step."),
        (eta * lam / n - eta * dW, "the decay term must multiply W: (1 − ηλ/n)·W, not the constant ηλ/n "
                                   "(the notes' formula drops the w here; it is a known error)."),
        (W - eta * dW - eta * lam / n, "you subtracted the constant ηλ/n; the L2 decay is proportional to the "
                                       "weight: subtract (ηλ/n)·W."),
        ((1 - eta * lam) * W - eta * dW, "the decay factor is 1 − ηλ/n: divide λ by n, the training-set size."),
        ((1 - lam / n) * W - eta * dW, "the decay factor is 1 − ηλ/n: you left out η."),
        ((1 + eta * lam / n) * W - eta * dW, "the sign of the decay is wrong: the penalty pulls weights towards "
                                             "0, so the factor is 1 − ηλ/n."),
        ((1 - eta * lam / n) * W + eta * dW, "you stepped uphill: subtract η·dW."),
        ((1 - eta * lam / (2 * n)) * W - eta * dW, "the derivative of (λ/2n) w² is (λ/n) w: the ½ cancels "
                                                   "the 2, so the factor is 1 − ηλ/n, not 1 − ηλ/2n."),
    ):
        if _matches(W_new, wrong):
            fail(hint)
    expect_close(W_new, W_want, what="the new W", inputs={"W": W, "dW": dW})
    if _matches(b_new, (1 - eta * lam / n) * b - eta * db):
        fail("the biases are not penalized: b → b − η·db, with no decay factor.", partial=0.5)
    try:
        expect_close(b_new, b_want, what="the new b", inputs={"b": b, "db": db})
    except AssertionError as err:
        fail(f"{err} (Your W is right.)", partial=0.5)


# ---------------------------------------------------------------------------------------------- 8.2
def _reference_dropout(a, mask, p, grad_y):
    layer = Dropout(p)
    layer.mask, layer.resample = mask.copy(), False
    return layer.forward(a), layer.backward(grad_y)


@exercise("8.2", points=2, title="Inverted dropout, forward and backward")
def _check_dropout(forward, rng, backward=None):
    n, d = int(rng.integers(4, 9)), int(rng.integers(3, 7))
    p = float(rng.choice([0.2, 0.3, 0.4, 0.6, 0.7]))  # not 0.5: keep and drop probabilities must differ
    a, grad_y = rng.uniform(0.1, 2.0, size=(n, d)), rng.normal(size=(n, d))
    mask = rng.random((n, d)) >= p
    mask[0, 0], mask[0, 1] = True, False  # both cases occur
    y_want, g_want = _reference_dropout(a, mask, p, grad_y)
    copies = dict(a=a.copy(), mask=mask.copy())
    y = expect_shape(_quietly(forward, a, mask, p), (n, d), "dropout_forward(a, mask, p)").astype(np.float64)
    _unchanged(copies, dict(a=a, mask=mask), "dropout_forward")
    for wrong, hint in (
        (a * mask, "you did not rescale: inverted dropout divides the kept activations by the keep "
                   "probability 1 − p, so that the expected output equals a."),
        (a * mask / p, "you divided by p, but p is the probability of DROPPING a unit here; divide by the keep "
                       "probability 1 − p (the notes' code writes p for the keep probability)."),
        (a * mask * (1 - p), "you multiplied by 1 − p: that is the test-time scaling of standard dropout. "
                             "Inverted dropout divides by 1 − p during training."),
        (a * ~mask / (1 - p), "the mask is inverted: True means the unit is kept, so multiply by mask, "
                              "not by its negation."),
        (a / (1 - p), "you forgot to apply the mask: multiply by it, so that dropped units give 0."),
    ):
        if _matches(y, wrong):
            fail(f"dropout_forward: {hint}")
    expect_close(y, y_want, what="dropout_forward(a, mask, p)", inputs={"a": a, "mask": mask})
    if backward is None:
        fail("pass your backward function too: check(\"8.2\", dropout_forward, backward=dropout_backward).",
             partial=0.5)
    g = _quietly(backward, grad_y, mask, p)
    try:
        g = expect_shape(g, (n, d), "dropout_backward(grad_y, mask, p)").astype(np.float64)
        if _matches(g, grad_y * mask):
            fail("dropout_backward: the backward pass multiplies by the same factor as the forward pass, "
                 "mask/(1 − p); you left out the 1/(1 − p).")
        if _matches(g, grad_y):
            fail("dropout_backward: a dropped unit did not affect the cost, so its gradient is 0: multiply "
                 "grad_y by mask/(1 − p).")
        expect_close(g, g_want, what="dropout_backward(grad_y, mask, p)", inputs={"grad_y": grad_y, "mask": mask})
    except AssertionError as err:
        fail(f"{err} (Your forward pass is right.)", partial=0.5)


# ---------------------------------------------------------------------------------------------- 8.3
@exercise("8.3", points=3, title="Batch normalization, forward pass in training mode")
def _check_batchnorm_forward(fn, rng):
    d = int(rng.integers(3, 6))
    B = int(rng.choice([b for b in range(6, 12) if b != d]))
    z = rng.normal(size=(B, d)) * rng.uniform(0.5, 4, size=d) + rng.normal(size=d) * 3
    gamma, beta = rng.uniform(0.5, 2.0, size=d), rng.normal(size=d)
    eps = float(rng.choice([1e-5, 1e-3, 0.1]))
    bn = BatchNorm1d(d, eps=eps).double()
    bn.gamma.data[:], bn.beta.data[:] = gamma, beta
    zhat_want = bn.forward(z)
    mu_want, var_want = z.mean(axis=0), z.var(axis=0)
    copies = dict(z=z.copy(), gamma=gamma.copy(), beta=beta.copy())
    zhat, mu, var = _unpack(_quietly(fn, z, gamma, beta, eps), 3, "batchnorm_forward", "(zhat, mu, var)")
    _unchanged(copies, dict(z=z, gamma=gamma, beta=beta), "batchnorm_forward")
    mu = np.asarray(mu, dtype=np.float64)
    if mu.shape == (B,) or mu.shape == (B, 1):
        fail("your μ_B has one value per example: the statistics are per unit, over the batch — take the mean "
             "over axis 0 (the rows).")
    mu = expect_shape(mu, (d,), "mu").astype(np.float64)
    expect_close(mu, mu_want, what="mu", inputs={"z": z})
    var = expect_shape(var, (d,), "var").astype(np.float64)
    if _matches(var, z.var(axis=0, ddof=1)):
        fail("your variance divides by B − 1; batch norm's σ²_B is the biased variance, (1/B) Σ (zᵢ − μ_B)².")
    if _matches(var, z.std(axis=0)):
        fail("you returned the standard deviation; var should be σ²_B, its square.")
    expect_close(var, var_want, what="var", inputs={"z": z})
    zhat = expect_shape(zhat, (B, d), "zhat").astype(np.float64)
    u = (z - mu_want) / np.sqrt(var_want + eps)
    for wrong, hint in (
        ((z - mu_want) / np.sqrt(var_want) * gamma + beta, "add ε inside the square root: √(σ²_B + ε)."),
        ((z - mu_want) / (np.sqrt(var_want) + eps) * gamma + beta, "ε goes inside the square root: √(σ²_B + ε), "
                                                                  "not √σ²_B + ε."),
        ((z - mu_want) / (var_want + eps) * gamma + beta, "divide by the standard deviation √(σ²_B + ε), not "
                                                         "by the variance."),
        (u, "you returned u: scale and shift it with the learned parameters, γ·u + β."),
        (u * beta + gamma, "γ and β are swapped: ẑ = γ·u + β (γ scales, β shifts)."),
        ((z - mu_want) / np.sqrt(z.var(axis=0, ddof=1) + eps) * gamma + beta,
         "normalize with the biased variance (1/B) Σ (zᵢ − μ_B)², not the B − 1 version."),
    ):
        if _matches(zhat, wrong) and not _matches(zhat_want, wrong):  # a tiny ε can make a mistake ≈ right
            fail(f"zhat: {hint}", partial=0.5)
    row_mu, row_var = z.mean(axis=1, keepdims=True), z.var(axis=1, keepdims=True)
    if _matches(zhat, (z - row_mu) / np.sqrt(row_var + eps) * gamma + beta):
        fail("zhat: you normalized each row (example); batch norm normalizes each column (unit) over the batch: "
             "use axis=0.", partial=0.5)
    try:
        expect_close(zhat, zhat_want, what="zhat", inputs={"z": z})
    except AssertionError as err:
        fail(f"{err} (Your mu and var are right.)", partial=0.5)
