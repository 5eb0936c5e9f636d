"""Checkers for chapter 6, gradient descent and optimizers
(``solutions/06_gradient_descent_and_optimizers.ipynb``).

Each learner function is compared with one step of the package's own optimizer (``SGD``,
``Adam``) or schedule (``InverseTime``) on fresh random inputs; common slips get a specific hint.
"""

from __future__ import annotations

import numpy as np

from ...nn import Parameter
from ...optim import SGD, Adam, InverseTime
from ..compare import expect_close, expect_shape, expect_true, fail
from ..registry import exercise


def _unpack(result, n: int, what: str, names: str):
    if not isinstance(result, (tuple, list)) or len(result) != n:
        fail(f"{what} should return {n} arrays {names}, e.g. `return {names.strip('()')}`; "
             f"received {type(result).__name__}.")
    return result


def _package_step(make_opt, theta, grad, state: dict, t: int):
    """Run the package optimizer made by ``make_opt`` one step from the given state at step ``t``."""
    p = Parameter(theta.copy())
    opt = make_opt([p])
    p.grad[...] = grad
    opt.t = t - 1
    opt.step()  # the first step creates the state arrays; overwrite them and step again from theta
    p.data[...] = theta
    for k, v in state.items():
        opt.state[0][k][...] = v
    opt.t = t - 1
    opt.step()
    return p.data, opt.state[0]


def _unchanged(arrays: dict, copies: dict, who: str) -> None:
    changed = [k for k in arrays if not np.array_equal(arrays[k], copies[k])]
    expect_true(not changed, f"{who} changed its argument(s) {', '.join(changed)} in place (e.g. `v *= mu`). "
                "Return new arrays instead (`new_v = mu * v - ...`): the caller keeps the old ones.")


@exercise("6.1", points=2, title="One step of momentum")
def _check_momentum_step(fn, rng):
    shape = (int(rng.integers(3, 6)), int(rng.integers(2, 5)))
    theta, v, g = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
    lr, mu = float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.5, 0.95))
    args = {"theta": theta, "v": v, "grad": g}
    copies = {k: a.copy() for k, a in args.items()}
    got_theta, got_v = _unpack(fn(theta, v, g, lr, mu), 2, "momentum_step(theta, v, grad, lr, mu)",
                               "(new_theta, new_v)")
    _unchanged(args, copies, "momentum_step")
    got_theta = expect_shape(got_theta, shape, "new_theta").astype(np.float64)
    got_v = expect_shape(got_v, shape, "new_v").astype(np.float64)
    want_theta, state = _package_step(lambda ps: SGD(ps, lr=lr, momentum=mu), theta, g, {"velocity": v}, 1)
    want_v = state["velocity"]
    for wrong, hint in (
        (mu * v + lr * g, "new_v: the velocity moves *down*hill: v ← μ v − η ∇C (you added η ∇C)."),
        (v - lr * g, "new_v: the old velocity must decay by the momentum factor μ before the new gradient is added."),
        (mu * v - (1 - mu) * lr * g, "new_v: this is an exponential average (1 − μ) η ∇C; the classical rule "
                                     "adds the whole −η ∇C."),
    ):
        if np.allclose(got_v, wrong):
            fail(hint)
    expect_close(got_v, want_v, what="new_v", inputs={"v": v, "grad": g})
    if np.allclose(got_theta, theta + v):
        fail("new_theta: you moved θ by the *old* velocity; update v first, then θ ← θ + v_new.")
    if np.allclose(got_theta, theta - lr * g):
        fail("new_theta: this is plain gradient descent; with momentum θ moves by the new velocity, θ ← θ + v_new.")
    expect_close(got_theta, want_theta, what="new_theta", inputs={"theta": theta, "grad": g})


def _adam_reference(theta, m, v, g, t, lr, b1, b2, eps):
    want, state = _package_step(lambda ps: Adam(ps, lr=lr, betas=(b1, b2), eps=eps), theta, g,
                                {"m": m, "v": v}, t)
    return want, state["m"], state["v"]


@exercise("6.2", points=3, title="Adam with bias correction")
def _check_adam_step(fn, rng):
    shape = (int(rng.integers(3, 7)),)
    b1, b2 = float(rng.uniform(0.8, 0.95)), float(rng.uniform(0.99, 0.9995))
    lr = float(rng.uniform(0.001, 0.1))

    def run(theta, m, v, g, t, eps):
        args = {"theta": theta, "m": m, "v": v, "grad": g}
        copies = {k: a.copy() for k, a in args.items()}
        out = _unpack(fn(theta, m, v, g, t, lr, b1, b2, eps), 3,
                      "adam_step(theta, m, v, grad, t, lr, beta1, beta2, eps)", "(new_theta, new_m, new_v)")
        _unchanged(args, copies, "adam_step")
        return [expect_shape(a, shape, n).astype(np.float64) for a, n in zip(out, ("new_theta", "new_m", "new_v"))]

    def expect_no_step_mistake(got_theta, theta, m, v, t, eps, want_theta, want_m, want_v):
        """The known mistakes of the update itself, recognized on the first step as on a later one (on
        the first, t − 1 divides by 1 − β⁰ = 0: NaN, and the old moments m = v = 0 give no step)."""
        with np.errstate(all="ignore"):
            mh, vh = want_m / (1 - b1 ** t), want_v / (1 - b2 ** t)
            mistakes = (
                (theta - lr * mh / np.sqrt(vh + eps), "ε belongs outside the root: η m̂ / (√v̂ + ε) (the notes "
                                                       "write √(v̂ + ε); this exercise follows the paper)."),
                (theta - lr * (want_m / (1 - b1 ** (t - 1))) / (np.sqrt(want_v / (1 - b2 ** (t - 1))) + eps),
                 "the bias correction uses the current step t (counted from 1): 1 − β₁ᵗ and 1 − β₂ᵗ."),
                (theta - lr * (want_m / (1 - b1 ** (t + 1))) / (np.sqrt(want_v / (1 - b2 ** (t + 1))) + eps),
                 "the bias correction uses the current step t as given (counted from 1), not t + 1."),
                (theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps),
                 "update m and v with the new gradient first, then use the *new* moments in the step."),
            )
        for wrong, hint in mistakes:
            if (np.allclose(got_theta, wrong, rtol=1e-6, atol=1e-9, equal_nan=True)
                    and not np.allclose(wrong, want_theta)):
                fail(f"new_theta at step t = {t}: {hint}")

    # the first step from m = v = 0: bias-corrected, every weight moves by ≈ η against its gradient
    theta, g = rng.normal(size=shape), rng.normal(size=shape) * rng.uniform(0.01, 100, size=shape)
    zeros = np.zeros(shape)
    got_theta, got_m, got_v = run(theta, zeros, zeros, g, 1, 1e-8)
    want_theta, want_m, want_v = _adam_reference(theta, zeros, zeros, g, 1, lr, b1, b2, 1e-8)
    if np.allclose(got_m, b1 * zeros + b1 * g):
        fail("new_m: the weights of the average are swapped: m ← β₁ m + (1 − β₁) g.")
    expect_close(got_m, want_m, what="new_m (the first moment m ← β₁ m + (1 − β₁) g, stored *without* "
                 "bias correction)", inputs={"grad": g})
    if np.allclose(got_v, (1 - b2) * np.abs(g)):
        fail("new_v: the second moment averages the *squared* gradient g², not |g|.")
    expect_close(got_v, want_v, what="new_v (the second moment v ← β₂ v + (1 − β₂) g², stored without "
                 "bias correction)", inputs={"grad": g})
    step = got_theta - theta
    uncorrected = -lr * (1 - b1) * g / (np.sqrt((1 - b2) * g * g) + 1e-8)
    if np.allclose(step, uncorrected, rtol=1e-3) and not np.allclose(want_theta - theta, uncorrected, rtol=1e-3):
        fail("new_theta: the first step is far too small: m and v start at 0, so divide them by "
             "(1 − β₁ᵗ) and (1 − β₂ᵗ) before the update (bias correction).")
    half_corrected = (lr * (1 - b1), lr / np.sqrt(1 - b2))  # |first step| with only v, or only m, corrected
    if any(np.allclose(np.abs(step), size, rtol=1e-3) for size in half_corrected):
        fail("new_theta: you corrected v but not m (or the other way round): both need their own factor.")
    expect_no_step_mistake(got_theta, theta, zeros, zeros, 1, 1e-8, want_theta, want_m, want_v)
    expect_close(step, want_theta - theta, what="the step new_theta − theta on the first step (t = 1, "
                 "it should be ≈ −η·sign(g) for every weight)", inputs={"grad": g})

    # a later step with non-zero moments and a large ε (where ε's place matters)
    t = int(rng.integers(2, 40))
    m, g = rng.normal(size=shape) * 0.5, rng.normal(size=shape)
    v = rng.uniform(0.01, 2.0, size=shape)
    eps = 0.1
    got_theta, got_m, got_v = run(theta, m, v, g, t, eps)
    want_theta, want_m, want_v = _adam_reference(theta, m, v, g, t, lr, b1, b2, eps)
    expect_close(got_m, want_m, what=f"new_m at step t = {t}", inputs={"m": m, "grad": g})
    expect_close(got_v, want_v, what=f"new_v at step t = {t}", inputs={"v": v, "grad": g})
    expect_no_step_mistake(got_theta, theta, m, v, t, eps, want_theta, want_m, want_v)
    expect_close(got_theta, want_theta, what=f"new_theta at step t = {t} (with eps = {eps})",
                 inputs={"theta": theta, "grad": g})


@exercise("6.3", points=1, title="An inverse-time learning-rate schedule")
def _check_inverse_time(fn, rng):
    lr0, lam = float(rng.uniform(0.05, 2.0)), float(rng.uniform(0.01, 1.0))
    t = np.arange(int(rng.integers(20, 60)), dtype=float)
    with np.errstate(all="ignore"):
        got = fn(t, lr0, lam)
    got = expect_shape(got, t.shape, "inverse_time_lr(t, lr0, lam) for an array t").astype(np.float64)
    want = InverseTime(lr0, lam)(t)
    for wrong, hint in (
        (lr0 / (1 + lam * t), "you left η₀ out of the denominator: η(t) = η₀ / (1 + η₀ λ t)."),
        (lr0 / (1 + lr0 * lam * (t + 1)), "at t = 0 the rate must be exactly η₀: use t as given, not t + 1."),
        (lr0 * (1 + lr0 * lam * t), "the rate should *decrease*: divide η₀ by (1 + η₀ λ t)."),
        (lr0 / (1 + lr0 * lam * t) ** 2, "the decay is 1/(1 + η₀ λ t), not its square."),
    ):
        if np.allclose(got, wrong):
            fail(f"inverse_time_lr: {hint}")
    expect_close(got, want, what="inverse_time_lr(t, lr0, lam)", inputs={"t": t})
    scalar = fn(7, lr0, lam)
    expect_true(np.ndim(scalar) == 0 and np.isclose(float(scalar), InverseTime(lr0, lam)(7)),
                "inverse_time_lr should also accept a single number t and return a single number.")
