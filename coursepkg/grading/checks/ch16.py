"""Checkers for chapter 16, other architectures (``solutions/16_other_architectures.ipynb``).

The references are the package's: :func:`coursepkg.models.spiking.lif_step`,
:meth:`coursepkg.models.spiking.LIFNeuron.interspike_interval` and the neural Turing machine's
``content_weights`` of :mod:`coursepkg.models.ntm_addressing`.
Inputs are fresh random populations with random membrane parameters (``V_reset ≠ V_rest``, so
formulas that only hold when they are equal fail), in 1-D and 2-D (trials × neurons) to catch
loops and wrong axes. Beyond the generic hints of ``expect_close``, the checkers recognize this
chapter's typical mistakes: no reset or a reset to V_rest, a missing 1/τ_m or R,
the leak with the wrong sign, a missing refractory period, the simplified ISI formula, NaN instead
of ∞ below the rheobase, a dot product instead of the cosine, a missing key strength and the
softmax over the wrong axis.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ...models.ntm_addressing import content_weights
from ...models.spiking import LIFNeuron, lif_step
from ...nn import functional as F
from ..compare import call_learner, expect_close, expect_no_known_mistake, expect_shape, fail, matches
from ..registry import exercise

_matches = partial(matches, rtol=1e-06, atol=1e-09)
_known_mistakes = partial(expect_no_known_mistake, rtol=1e-06, atol=1e-09)

# the learner's function, called with this chapter's example of how to avoid in-place changes
_call = partial(call_learner, fix=(
    "`v = v + …` makes a new array, `v += …` and `v[spiked] = …` change the caller's"))


def _membrane(rng) -> dict:
    """Random LIF parameters in the package's units (ms, MΩ, mV), with V_reset below V_rest."""
    v_rest = float(rng.uniform(-72, -60))
    return {"tau": float(rng.uniform(5, 25)), "resistance": float(rng.uniform(5, 15)), "v_rest": v_rest,
            "v_reset": v_rest - float(rng.uniform(2, 8)), "v_threshold": v_rest + float(rng.uniform(12, 20))}


# ------------------------------------------------------------------------------------------- 16.1
@exercise("16.1", points=2, title="One Euler step of LIF neurons")
def _check_lif_euler_step(fn, rng):
    what = "lif_euler_step(v, current, dt, tau, resistance, v_rest, v_reset, v_threshold)"
    for shape in ((int(rng.integers(8, 15)),), (3, int(rng.integers(6, 10)))):
        p = _membrane(rng)
        dt = float(rng.uniform(0.5, 2.0))
        v = rng.uniform(p["v_reset"], p["v_threshold"] - 0.01, size=shape)
        current = rng.uniform(0, 3, size=shape) * (p["v_threshold"] - p["v_rest"]) / p["resistance"]
        v.flat[:2] = p["v_threshold"] - 0.01  # near the threshold: one fires, one cannot
        current.flat[:2] = (current.flat[0] + 100.0, 0.0)
        args = (v, current, dt, p["tau"], p["resistance"], p["v_rest"], p["v_reset"], p["v_threshold"])
        result = _call(fn, *args)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            fail(f"{what} should return a pair (v_new, spiked), e.g. `return v_new, spiked`; received "
                 f"{type(result).__name__}.")
        want_v, want_spiked = lif_step(v, current, dt, p["tau"], p["resistance"], p["v_rest"], p["v_reset"],
                                       p["v_threshold"])
        got_v = expect_shape(np.asarray(result[0], dtype=float), shape, f"v_new returned by {what}")
        got_spiked = expect_shape(np.asarray(result[1]), shape, f"spiked returned by {what}")
        euler = v + dt / p["tau"] * (-(v - p["v_rest"]) + p["resistance"] * current)
        _known_mistakes(got_v, want_v, [
            (euler, "v_new: the neurons whose *new* potential reached the threshold must be reset to v_reset "
                    "(np.where(spiked, v_reset, v_new))."),
            (np.where(euler >= p["v_threshold"], p["v_rest"], euler),
             "v_new: after a spike the potential goes to v_reset, which here differs from v_rest."),
            (lif_step(v, current, dt, 1.0, p["resistance"], p["v_rest"], p["v_reset"], p["v_threshold"])[0],
             "v_new: the change in one step is (dt / τ_m) · (−(V − V_rest) + R I); the division by τ_m is missing."),
            (lif_step(v, current / p["resistance"], dt, p["tau"], p["resistance"], p["v_rest"], p["v_reset"],
                      p["v_threshold"])[0],
             "v_new: the input enters as R · I (a current through the membrane resistance gives a voltage)."),
            (np.where(euler + 2 * dt / p["tau"] * (v - p["v_rest"]) >= p["v_threshold"], p["v_reset"],
                      euler + 2 * dt / p["tau"] * (v - p["v_rest"])),
             "v_new: the leak pulls V back *towards* V_rest: the term is −(V − V_rest), not +(V − V_rest)."),
        ])
        expect_close(got_v, want_v, what=f"v_new returned by {what}", inputs={"v": v, "current": current})
        if got_spiked.dtype != bool and not np.isin(got_spiked, (0, 1)).all():
            fail("spiked should be a boolean array (True where the neuron fired), e.g. `v_new >= v_threshold`.")
        expect_close(got_spiked.astype(float), want_spiked.astype(float), what=f"spiked returned by {what}",
                     inputs={"v": v, "current": current})


# ------------------------------------------------------------------------------------------- 16.2
_RATE_HINT = "return the interval in ms, not the rate."


@exercise("16.2", points=2, title="Interspike interval of a LIF neuron")
def _check_lif_interspike_interval(fn, rng):
    what = "lif_interspike_interval(current, tau, resistance, v_rest, v_reset, v_threshold, refractory)"
    p = _membrane(rng)
    refractory = float(rng.uniform(1, 4))
    rheobase = (p["v_threshold"] - p["v_rest"]) / p["resistance"]
    above = rheobase * rng.uniform(1.05, 4, size=int(rng.integers(6, 10)))
    below = rheobase * np.array([0.0, float(rng.uniform(0.2, 0.9)), 0.999])  # not exactly 1: rounding decides
    current = rng.permutation(np.concatenate([above, below]))
    args = (current, p["tau"], p["resistance"], p["v_rest"], p["v_reset"], p["v_threshold"], refractory)
    got = expect_shape(np.asarray(_call(fn, *args), dtype=float), current.shape, what)
    neuron = LIFNeuron(refractory=refractory, **p)
    want = neuron.interspike_interval(current)
    silent = ~np.isfinite(want)
    rate = 1000.0 / want  # 0 where the neuron never fires
    if _matches(got, rate):
        fail(_RATE_HINT)
    if np.any(np.isnan(got[silent])):
        fail("at or below the rheobase the neuron never fires: the interval should be np.inf, not NaN (the log of a "
             "negative number). Use np.where(fires, formula, np.inf) and keep the log's argument valid.")
    if not np.all(np.isposinf(got[silent])):
        fail("for currents at or below the rheobase (θ − V_rest)/R the neuron never fires: return np.inf there.")
    climb = want[~silent] - refractory
    v_inf = p["v_rest"] + p["resistance"] * current[~silent]
    _known_mistakes(got[~silent], want[~silent], [
        (climb, "the interval also contains the refractory period: ISI = t_ref + T."),
        (refractory + p["tau"] * np.log((v_inf - p["v_rest"]) / (v_inf - p["v_threshold"])),
         "V starts each climb from V_reset, not from V_rest: T = τ_m ln((V_∞ − V_reset)/(V_∞ − θ)) with "
         "V_∞ = V_rest + R I. (The short form τ_m ln(RI/(RI − (θ − V_rest))) only holds when V_reset = V_rest.)"),
        (refractory - climb, "the ratio inside the logarithm is upside down: the climb time T must be positive."),
        (refractory + climb / p["tau"], "T = τ_m ln(…): multiply the logarithm by the membrane time constant."),
        (rate[~silent], _RATE_HINT),
    ])
    expect_close(got, want, what=what, inputs={"current": current})


# ------------------------------------------------------------------------------------------- 16.3
@exercise("16.3", points=2, title="NTM content addressing")
def _check_content_weights(fn, rng):

    n, N, W = int(rng.integers(2, 5)), int(rng.integers(5, 9)), int(rng.integers(3, 6))
    M = rng.normal(size=(n, N, W)) * rng.uniform(0.5, 3, size=(n, N, 1))  # rows of different lengths
    k = rng.normal(size=(n, W)) * 2
    beta = rng.uniform(0.5, 8, size=n)
    what = "content_weights(M, k, beta)"
    got = expect_shape(np.asarray(_call(fn, M, k, beta), dtype=float), (n, N), what)
    want = content_weights(M, k, beta)
    dots = np.einsum("niw,nw->ni", M, k)
    cosine = dots / (np.linalg.norm(M, axis=-1) * np.linalg.norm(k, axis=-1)[:, None])
    _known_mistakes(got, want, [
        (F.softmax(beta[:, None] * dots), "the similarity is the cosine k·M_i / (‖k‖ ‖M_i‖), not the plain dot "
                                         "product: divide by both lengths, so a long memory row does not win by size."),
        (F.softmax(beta[:, None] * dots / np.linalg.norm(M, axis=-1)),
         "divide by the length of the key too: K(k, M_i) = k·M_i / (‖k‖ ‖M_i‖)."),
        (F.softmax(cosine), "the key strength β is missing: w_i ∝ exp(β K(k, M_i))."),
        (F.softmax(beta[:, None] * cosine, axis=0), "normalize over the memory locations (axis 1 / the last axis), "
                                                   "not over the batch: each row of w must sum to 1."),
        (beta[:, None] * cosine, "turn the scores into weights with a softmax over the locations."),
        (F.softmax(cosine / beta[:, None]), "multiply the cosine by β, do not divide: a large β sharpens the focus."),
    ])
    expect_close(got, want, what=what, inputs={})
