"""Checkers for chapter 2, activation functions (``solutions/02_activation_functions.ipynb``)."""

from __future__ import annotations

import numpy as np

from ...nn import LeakyReLU
from ...nn import functional as F
from ..compare import call_learner, expect_close, expect_shape, expect_true, fail
from ..registry import exercise


@exercise("2.1", points=1, title="The sigmoid's derivative")
def _check_sigmoid_prime(fn, rng):
    z = rng.normal(size=(int(rng.integers(3, 7)), int(rng.integers(2, 5)))) * 4
    z[0, 0], z[-1, -1] = 0.0, -float(rng.uniform(20, 40))  # the peak and a saturated unit
    got = expect_shape(call_learner(fn, z), z.shape, "sigmoid_prime(z)").astype(np.float64)
    s = F.sigmoid(z)
    for wrong, hint in (
        (s, "you returned σ(z) itself; the derivative is σ(z)·(1 − σ(z))."),
        (s * (1 - z), "you multiplied σ(z) by (1 − z); the derivative is σ(z)·(1 − σ(z))."),
        (1 - s, "you returned 1 − σ(z); multiply it by σ(z)."),
        (-s * (1 - s), "the sign is wrong: σ is increasing, so σ'(z) > 0 everywhere."),
    ):
        if np.allclose(got, wrong, rtol=1e-4, atol=1e-7):
            fail(f"sigmoid_prime(z): {hint}")
    expect_close(got, F.sigmoid_prime(z), what="sigmoid_prime(z)", inputs={"z": z}, atol=1e-7)
    expect_true(np.isclose(got[0, 0], 0.25), "sigmoid_prime(0) should be exactly 1/4, the largest slope.")


def _softmax_ref(z):
    return F.softmax(np.asarray(z, dtype=np.float64), axis=-1)


@exercise("2.2", points=2, title="A numerically stable softmax")
def _check_softmax(fn, rng):
    n, k = int(rng.integers(3, 7)), int(rng.integers(3, 6))
    z = rng.normal(size=(n, k)) * 2
    got = expect_shape(call_learner(fn, z), (n, k), "softmax(z)").astype(np.float64)
    if np.allclose(got.sum(axis=0), 1) and not np.allclose(got.sum(axis=1), 1):
        fail("softmax(z): each column sums to 1, but each *row* (one example's k scores) should: "
             "take the max and the sum along axis=-1 with keepdims=True.")
    expect_true(np.allclose(got.sum(axis=1), 1), "softmax(z): the entries of each row should sum to 1.")
    expect_close(got, _softmax_ref(z), what="softmax(z)", inputs={"z": z})
    offset = rng.choice([-1000.0, 1000.0], size=(n, 1))
    offset[:2] = [[-1000.0], [1000.0]]  # rows of both signs: subtracting the overall maximum fails
    big = z * 50 + offset  # scores around ±1000
    got_big = expect_shape(call_learner(fn, big), (n, k), "softmax(z) for large z").astype(np.float64)
    if not np.all(np.isfinite(got_big)):
        fail("softmax(z) returns NaN or inf when the scores are around ±1000 (np.exp(1000) overflows). "
             "Softmax does not change when you add the same constant to every score of a row: "
             "subtract each row's own maximum, np.max(z, axis=-1, keepdims=True), before taking np.exp "
             "(the overall maximum is not enough when rows differ a lot).")
    expect_close(got_big, _softmax_ref(big), what="softmax(z) for scores around ±1000", inputs={"z": big})
    cube = rng.normal(size=(2, 3, k))
    expect_close(expect_shape(call_learner(fn, cube), cube.shape, "softmax(z) for a 3-D z"),
                 _softmax_ref(cube), what="softmax(z) for a 3-D z (normalize along the last axis)")


@exercise("2.3", points=2, title="The leaky ReLU's backward pass")
def _check_leaky_relu_backward(fn, rng):
    shape = (int(rng.integers(3, 7)), int(rng.integers(2, 6)))
    z, g = rng.normal(size=shape), rng.normal(size=shape)
    z[0, 0], z[-1, -1] = -abs(z[0, 0]), abs(z[-1, -1])  # both slopes occur
    alpha = float(rng.uniform(0.05, 0.3))
    got = expect_shape(fn(g, z, alpha), shape, "leaky_relu_backward(grad_out, z, alpha)").astype(np.float64)
    layer = LeakyReLU(alpha)
    layer(z)
    want = layer.backward(g)
    slope = F.leaky_relu_prime(z, alpha)
    for wrong, hint in (
        (slope, "you returned the slope f'(z) alone; multiply it by grad_out (the chain rule: "
                "∂C/∂z = ∂C/∂a ⊙ f'(z))."),
        (g * np.where(z > 0, alpha, 1.0), "the slopes are swapped: 1 where z > 0 and alpha where z ≤ 0."),
        (g * (z > 0), "this is the plain ReLU's backward: where z ≤ 0 the leaky ReLU has slope alpha, not 0."),
        (g * F.leaky_relu(z, alpha), "you multiplied grad_out by the forward output f(z); use the slope f'(z)."),
    ):
        if np.allclose(got, wrong) and not np.allclose(want, wrong):  # e.g. ReLU's when no z ≤ 0
            fail(f"leaky_relu_backward: {hint}")
    expect_close(got, want, what="leaky_relu_backward(grad_out, z, alpha)", inputs={"z": z, "grad_out": g})
