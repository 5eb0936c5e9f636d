"""Checkers for chapter 1, neurons and perceptrons (``solutions/01_neurons_and_perceptrons.ipynb``)."""

from __future__ import annotations

import numpy as np

from ...data import logic_gate
from ...perceptron import delta_rule_gradient, perceptron_update
from ..compare import expect_close, expect_parts, expect_scalar, expect_shape, expect_true, fail
from ..registry import exercise


def _problem(rng, n=None, d=None):
    """A random perceptron problem: some rows wrong, one of them decided by the bias alone, and errors
    that do not cancel (so that a bias ignored, or left unchanged, shows)."""
    n = int(rng.integers(6, 13)) if n is None else n
    d = int(rng.integers(2, 6)) if d is None else d
    X = rng.normal(size=(n, d))
    w, b = rng.normal(size=d), float(rng.normal())
    t = (rng.random(n) < 0.5).astype(float)
    # row 0 has x·w = −b/2: only the bias decides its output, and that output is wrong
    X[0] -= (X[0] @ w + b / 2) / (w @ w) * w
    t[0] = float(b < 0)
    if t.sum() == np.sum(X @ w + b > 0):  # the errors cancel and b would not move: flip one more target
        t[1] = 1 - t[1]
    return X, t, w, b


@exercise("1.1", points=2, title="The perceptron rule on a batch")
def _check_perceptron_update(fn, rng):
    X, t, w, b = _problem(rng)
    lr = float(rng.uniform(0.2, 2.0))
    w_before, X_before = w.copy(), X.copy()
    got_w, got_b = expect_parts(fn(w, b, X, t, lr), ("new_w", "new_b"), "perceptron_update(w, b, X, t, lr)")
    expect_true(np.array_equal(w, w_before) and np.array_equal(X, X_before),
                "perceptron_update changed its arguments w or X in place (e.g. `w += ...`). Return "
                "new arrays instead (`new_w = w + ...`): the caller may still need the old weights.")
    got_w = expect_shape(got_w, w.shape, "new_w")
    got_b = expect_scalar(got_b, "new_b")
    want_w, want_b = perceptron_update(w, b, X, t, lr)
    a = (X @ w + b > 0).astype(float)
    if np.allclose(got_w - w, lr * X.T @ (t - (X @ w > 0)), atol=1e-6) and not np.allclose(got_w, want_w):
        fail("Your outputs a ignore the bias: the unit computes a = step(X @ w + b), with b inside the step.")
    if np.allclose(got_w - w, lr * X.T @ (t - a) / len(X), atol=1e-6) and not np.allclose(got_w, want_w):
        fail("Your change of w is 1/n of the expected one: the perceptron rule *adds* the updates of "
             "the examples (Xᵀ(t − a)), it does not average them.")
    expect_close(got_w - w, want_w - w, what="the change new_w − w", inputs={"w": w})
    if np.isclose(got_b, b) and not np.isclose(want_b, b):
        fail("new_b equals b: the bias learns too, b ← b + η Σₙ (tₙ − aₙ) (a weight on an input fixed at 1).")
    expect_close(got_b - b, want_b - b,
                 what="the change new_b − b (each example moves b by η (t − a), as if it had an input fixed at 1)")
    # when every example is already right, nothing may change
    t_right = a.copy()
    got_w, got_b = expect_parts(fn(w, b, X, t_right, lr), ("new_w", "new_b"), "perceptron_update(w, b, X, t, lr)")
    expect_true(np.allclose(got_w, w) and np.isclose(expect_scalar(got_b, "new_b"), b),
                "When the unit already classifies every example correctly (t == a everywhere), the "
                "perceptron rule must leave w and b unchanged.")


@exercise("1.2", points=2, title="The delta-rule gradient")
def _check_delta_rule_gradient(fn, rng):
    n, d = int(rng.integers(5, 15)), int(rng.integers(2, 5))
    X, t = rng.normal(size=(n, d)), rng.normal(size=n)
    w, b = rng.normal(size=d), float(rng.normal())
    got = expect_parts(fn(w, b, X, t), ("dE_dw", "dE_db"), "delta_rule_gradient(w, b, X, t)")
    want_w, want_b = delta_rule_gradient(w, b, X, t)
    got_w = expect_shape(got[0], (d,), "dE_dw")
    if np.allclose(got_w, -want_w):
        fail("dE_dw has the wrong sign. The residual is r = t − y, and E = ½·mean(r²) grows when y moves "
             "away from t, so ∂E/∂w = −(1/n) Xᵀ r (the delta rule then *adds* η (1/n) Xᵀ r).")
    expect_close(got_w, want_w, what="dE_dw", inputs={"w": w, "X": X})
    expect_close(expect_scalar(got[1], "dE_db"), want_b,
                 what="dE_db (the bias is a weight on an input that is always 1)")


def _nand_hint(outputs, targets) -> str:
    wrong = [f"({x1}, {x2})" for (x1, x2), o, tt in zip(((0, 0), (0, 1), (1, 0), (1, 1)), outputs, targets)
             if o != tt]
    return ", ".join(wrong)


@exercise("1.3", points=1, title="A perceptron that computes NAND")
def _check_nand_weights(fn, rng):
    got = expect_parts(fn(), ("w", "b"), "nand_weights()")
    w = expect_shape(got[0], (2,), "w").astype(float)
    b = expect_scalar(got[1], "b")
    X, t = logic_gate("nand", dtype=np.float64)
    out = (X @ w + b > 0).astype(int)
    if np.array_equal(out, 1 - t):
        fail("Your unit computes AND, the opposite of NAND: flip the signs of w and of b.")
    if not np.array_equal(out, t):
        fail(f"step(x·w + b) is wrong on the input(s) {_nand_hint(out, t)}. NAND is 0 only for (1, 1): "
             "b alone must be > 0, and w₁ + w₂ + b must be ≤ 0.")
    noisy = np.repeat(X, 25, axis=0) + rng.uniform(-0.05, 0.05, size=(100, 2))
    expect_true(np.array_equal((noisy @ w + b > 0).astype(int), np.repeat(t, 25)),
                "Your line passes too close to a corner: inputs moved by at most ±0.05 get the wrong "
                "answer. Keep every net input z = x·w + b at least about 0.1·(|w₁| + |w₂|) away from 0.")
