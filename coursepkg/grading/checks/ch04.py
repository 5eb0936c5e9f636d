"""Checkers for chapter 4, cost functions (``solutions/04_cost_functions.ipynb``).

Each exercise returns a pair ``(cost, gradient)``: the cost is the mean over the batch of the
per-example cost, the gradient is ``∂C/∂(prediction)`` of that mean (so it carries the 1/n). The
references are the package's loss modules; a right cost with a wrong gradient earns half the points.
"""

from __future__ import annotations

import numpy as np

from ...nn import BCELoss, CrossEntropyLoss, MultiMarginLoss
from ...nn import functional as F
from ..compare import call_learner, expect_close, expect_no_known_mistake, expect_shape, fail
from ..registry import exercise


def _cost_and_grad(result, what: str, shape: tuple):
    """Unpack ``(cost, grad)``: the cost a single finite-or-not number, the gradient of ``shape``."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{what} should return a pair (cost, grad), e.g. `return cost, grad`; "
             f"received {type(result).__name__}.")
    cost, grad = result
    arr = np.asarray(cost)
    if arr.dtype.kind not in "fiub":
        fail(f"{what}: the cost should be a number; received {type(cost).__name__}.")
    if arr.size != 1:
        fail(f"{what}: the cost should be a single number (the mean over the batch); received an array of "
             f"shape {arr.shape}. Sum each example's terms, then average over the n examples.")
    grad = expect_shape(grad, shape, f"the gradient returned by {what}").astype(np.float64)
    return float(arr.reshape(())), grad


def _reference(loss, prediction, target):
    return loss.forward(prediction, target), loss.backward()


def _check_cost(got: float, want: float, what: str, n: int, k: int, wrong=()):
    """Compare the cost; ``wrong`` holds (value, hint) pairs of known mistakes."""
    if np.isclose(got, want, rtol=1e-4, atol=1e-6):
        return
    if not np.isfinite(got):
        fail(f"{what}: the cost is {got}. A log of 0 or an overflowing exp? Use a numerically stable formula.")
    common = [(-want, "the cost has the wrong sign: ln of a probability is ≤ 0, so the cost needs a minus sign."),
              (want * n, "the cost is n times too large: average over the n examples (divide the sum by n)."),
              (want / k, "the cost is k times too small: sum over the k units/classes of one example and "
                         "average only over the n examples (axis 0)." if k > 1 else "")]
    for value, hint in list(wrong) + common:
        if hint and np.isclose(got, value, rtol=1e-4, atol=1e-6):
            fail(f"{what}: {hint}")
    side = "too large" if got > want else "too small"
    fail(f"{what}: the cost is wrong (yours is {got:.5g}, which is {side}). Check the formula term by term "
         "on a single example.")


def _check_grad(got, want, what: str, inputs: dict, wrong=()):
    """Compare the gradient (half credit: the cost was right); ``wrong`` holds (array, hint) pairs."""
    expect_no_known_mistake(got, want, [(value, f"{what}: {hint}") for value, hint in wrong], partial=0.5)
    try:
        expect_close(got, want, what=what, inputs=inputs, atol=1e-7)
    except AssertionError as err:  # right cost, wrong gradient: half the points
        fail(f"{err} (Your cost is right.)", partial=0.5)


# ------------------------------------------------------------------------------------------- 4.1
@exercise("4.1", points=2, title="Binary cross-entropy: cost and gradient")
def _check_binary_cross_entropy(fn, rng):
    n, k = int(rng.integers(5, 9)), int(rng.integers(2, 5))
    a = rng.uniform(0.02, 0.98, size=(n, k))
    y = (rng.random((n, k)) < 0.5).astype(float)
    y[0, 0] = rng.uniform(0.1, 0.9)  # a soft target: the formula must not assume y is 0 or 1
    cost, grad = _cost_and_grad(call_learner(fn, a, y), "binary_cross_entropy(a, y)", (n, k))
    want_cost, want_grad = _reference(BCELoss(), a, y)
    _check_cost(cost, want_cost, "binary_cross_entropy(a, y)", n, k, wrong=[
        (-np.sum(y * np.log(a)) / n, "you kept only the y ln a term; add (1 − y) ln(1 − a), the cost of "
                                     "the units whose target is 0."),
        (-np.sum(y * np.log(1 - a) + (1 - y) * np.log(a)) / n,
         "the two logarithms are swapped: y goes with ln a and (1 − y) with ln(1 − a)."),
    ])
    _check_grad(grad, want_grad, "∂C/∂a", {"a": a, "y": y}, wrong=[
        ((a - y) / n, "this is ∂C/∂z for a sigmoid unit (where σ'(z) = a(1 − a) cancels), not ∂C/∂a: divide "
                      "by a(1 − a)."),
        ((a - y) / (a * (1 - a)), "the gradient is n times too large: the cost is a mean over n examples, "
                                  "so every entry of its gradient carries a factor 1/n."),
        ((y - a) / (a * (1 - a)) / n, "the gradient has the wrong sign: ∂/∂a of −y ln a is −y/a, of "
                                      "−(1 − y) ln(1 − a) it is +(1 − y)/(1 − a)."),
    ])


# ------------------------------------------------------------------------------------------- 4.2
def _forgot_max(z, want_cost):
    """The cost of ``ln Σ e^{z − m} − z_y``: the row maximum m subtracted but never added back."""
    return (want_cost - np.mean(np.max(z, axis=1)),
            "you subtracted each row's maximum m inside the exponent but did not add it back: "
            "ln Σⱼ e^{zⱼ} = m + ln Σⱼ e^{zⱼ − m}.")


#: call_learner's example when softmax_cross_entropy changes z in place
_IN_PLACE_Z = "`z -= z.max(...)` changes the caller's z, `z = z - z.max(...)` makes a new array"


@exercise("4.2", points=3, title="Softmax cross-entropy from logits")
def _check_softmax_cross_entropy(fn, rng):
    n, k = int(rng.integers(5, 9)), int(rng.integers(3, 6))
    z = rng.normal(size=(n, k)) * 3
    labels = rng.integers(0, k, size=n)
    labels[: min(k, n)] = np.arange(min(k, n))  # every class occurs
    what = "softmax_cross_entropy(z, labels)"
    cost, grad = _cost_and_grad(call_learner(fn, z, labels, fix=_IN_PLACE_Z), what, (n, k))
    want_cost, want_grad = _reference(CrossEntropyLoss(), z, labels)
    p = F.softmax(z, axis=1)
    Y = np.eye(k)[labels]
    rows = np.arange(n)
    _check_cost(cost, want_cost, what, n, k, wrong=[
        (-np.mean(np.log(F.softmax(z, axis=0)[rows, labels])),
         "the softmax is taken over the batch (axis 0); take it over the k classes of each row (axis 1)."),
        (np.mean(F.logsumexp(z, axis=1)), "you dropped the − z_y term: C = ln Σⱼ e^{zⱼ} − z_y."),
        _forgot_max(z, want_cost),
    ])
    _check_grad(grad, want_grad, "∂C/∂z", {"z": z}, wrong=[
        (p / n, "only the softmax: subtract the one-hot target, ∂C/∂z = (softmax(z) − y)/n, i.e. subtract 1/n "
                "at each row's label."),
        (p - Y, "the gradient is n times too large: the cost is a mean over n examples, so divide by n."),
        ((Y - p) / n, "the gradient has the wrong sign: raising the true class's logit must lower the cost."),
    ])
    # large logits: rows around ±1000, and true classes far below the row maximum
    big = z * 100 + rng.choice([-1000.0, 1000.0], size=(n, 1))
    big_labels = np.argmin(big, axis=1)  # the least likely class: its probability underflows to 0
    big[np.arange(n), big_labels] -= 1000.0  # (even in a row whose logits are close together)
    cost_big, grad_big = _cost_and_grad(call_learner(fn, big, big_labels, fix=_IN_PLACE_Z),
                                        what + " for logits around ±1000", (n, k))
    want_cost_big, want_grad_big = _reference(CrossEntropyLoss(), big, big_labels)
    if np.isnan(cost_big) or np.isnan(grad_big).any():
        fail("For logits around ±1000 your result contains NaN: np.exp(1000) overflows to inf and inf/inf is NaN. "
             "Subtract each row's maximum, z − z.max(axis=1, keepdims=True), before exponentiating.")
    if np.isinf(cost_big):
        fail("For logits around ±1000 your cost is infinite although the gradient is finite: the true class's "
             "probability underflows to 0 and ln 0 = −inf. Never take the log of the softmax; use "
             "ln softmax(z)_y = (z_y − m) − ln Σⱼ e^{zⱼ − m} with m the row maximum (log-sum-exp).")
    _check_cost(cost_big, want_cost_big, what + " for logits around ±1000", n, k,
                wrong=[_forgot_max(big, want_cost_big)])
    _check_grad(grad_big, want_grad_big, "∂C/∂z for logits around ±1000", {"z": big})


# ------------------------------------------------------------------------------------------- 4.3
def _away_from_kinks(s, labels, margin):
    """Move scores whose margin term sᵢⱼ − s_y + Δ is within 0.05 of 0 (where the gradient jumps)."""
    rows = np.arange(len(s))
    for _ in range(10):
        terms = s - s[rows, labels][:, None] + margin
        near = np.abs(terms) < 0.05
        near[rows, labels] = False
        if not near.any():
            break
        s = s + 0.2 * near
    return s


@exercise("4.3", points=3, title="Multiclass hinge loss")
def _check_multiclass_hinge(fn, rng):
    n, k = int(rng.integers(6, 10)), int(rng.integers(3, 6))
    margin = float(rng.choice([0.5, 2.0]))
    labels = rng.integers(0, k, size=n)
    s = _away_from_kinks(rng.normal(size=(n, k)) * 1.5, labels, margin)
    s[0] = 0.0
    s[0, labels[0]] = margin + 3.0  # one example right by more than the margin: it costs nothing
    what = f"multiclass_hinge(s, labels, margin={margin:g})"
    cost, grad = _cost_and_grad(call_learner(fn, s, labels, margin=margin), what, (n, k))
    want_cost, want_grad = _reference(MultiMarginLoss(margin=margin), s, labels)
    worst, _ = _reference(MultiMarginLoss(margin=margin, aggregate="max"), s, labels)
    ignoring_margin, _ = _reference(MultiMarginLoss(margin=1.0), s, labels)
    _check_cost(cost, want_cost, what, n, k, wrong=[
        (want_cost + margin, "the cost is larger by exactly the margin: you included the term j = y, which is "
                             "always max(0, s_y − s_y + Δ) = Δ. Leave the true class out of the sum."),
        (worst, "you kept only the worst wrong class; this exercise sums max(0, sⱼ − s_y + Δ) over all j ≠ y."),
        (ignoring_margin, "you used the margin 1 instead of the `margin` argument."),
    ])
    violating = np.zeros_like(s)
    for i, (row, label) in enumerate(zip(s, labels)):
        violating[i] = (row - row[label] + margin > 0) & (np.arange(k) != label)
    _check_grad(grad, want_grad, "∂C/∂s", {"s": s}, wrong=[
        (violating / n, "the true class's entries are missing: s_y appears with a minus sign in every violating "
                        "term, so ∂C/∂s_y = −(number of violating classes)/n."),
        (want_grad * n, "the gradient is n times too large: the cost is a mean over n examples, so divide by n."),
        (-want_grad, "the gradient has the wrong sign: raising a wrong class's score sⱼ raises its term."),
    ])
    default_cost, _ = _cost_and_grad(call_learner(fn, s, labels), "multiclass_hinge(s, labels)", (n, k))
    _check_cost(default_cost, ignoring_margin, "multiclass_hinge(s, labels) with the default margin", n, k)
