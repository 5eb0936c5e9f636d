"""Checkers for chapter 12, recurrent neural networks (``solutions/12_rnns.ipynb``).

The references are the package's layers in float64 (``RNN``, ``GRU``) and
:func:`coursepkg.sampling.softmax_temperature`, run on fresh random inputs whose sizes differ
(``n_in ≠ hidden``), so swapped weight matrices fail with a shape error instead of passing by
accident. Beyond the generic hints of ``expect_close``, the checkers recognize this chapter's
typical mistakes: a missing activation or bias, the BPTT recursion without ``f'`` or without the
error carried back from the next step, ``OUT_t`` instead of ``OUT_{t−1}``, a missing sum over the
steps, the GRU's other gate convention or the reset gate applied after the product, and a
temperature that multiplies instead of divides.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ...nn import GRU, RNN
from ...sampling import softmax_temperature
from ..compare import call_learner, expect_close, expect_no_known_mistake, expect_shape, fail, matches
from ..registry import exercise

_matches = partial(matches, rtol=0.0001, atol=1e-07)
_known_mistakes = partial(expect_no_known_mistake, rtol=0.0001, atol=1e-07)

# the learner's function, called with this chapter's example of how to avoid in-place changes
_call = partial(call_learner, fix=(
    '`h = h @ W` makes a new array, `h += …` does not'))


def _sizes(rng):
    """Batch, input size, hidden size; the input and hidden sizes always differ."""
    n, n_in = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    return n, n_in, n_in + int(rng.integers(1, 4))


def _layer(cls, n_in: int, hidden: int, rng):
    """A float64 layer with random weights and a random (non-zero) bias."""
    layer = cls(n_in, hidden, rng=rng, dtype=np.float64)
    layer.b.data[:] = rng.normal(size=layer.b.shape) * 0.5
    return layer


def _one_step(cls, name, fn, rng):
    """One step of the learner's ``fn`` against one step of the package's layer ``cls`` on fresh
    random inputs: ``(got, want, (x_t, h_prev, W_x, W_r, b))``."""
    n, n_in, H = _sizes(rng)
    layer = _layer(cls, n_in, H, rng)
    args = (rng.normal(size=(n, n_in)), rng.normal(size=(n, H)), layer.W_x.data, layer.W_r.data, layer.b.data)
    want = layer(args[0][:, None], h0=args[1])[:, 0]
    got = expect_shape(_call(fn, *args), (n, H), f"{name}(x_t, h_prev, W_x, W_r, b)")
    return got, want, args


# ------------------------------------------------------------------------------------------- 12.1
@exercise("12.1", points=2, title="One step of a vanilla RNN")
def _check_rnn_step(fn, rng):
    got, want, (x_t, h_prev, W_x, W_r, b) = _one_step(RNN, "rnn_step", fn, rng)
    z = h_prev @ W_r + x_t @ W_x + b
    _known_mistakes(got, want, [
        (z, "you returned the net input z; apply the activation: OUT_t = tanh(z)."),
        (1 / (1 + np.exp(-z)), "this RNN uses tanh, not the sigmoid."),
        (np.tanh(h_prev @ W_r + x_t @ W_x), "the bias b is missing from the net input."),
        (np.tanh(x_t @ W_x + b), "the recurrent term OUT_{t−1} W_r is missing: the previous state must enter the "
                                 "net input, that is the layer's memory."),
        (np.tanh(h_prev + x_t @ W_x + b), "the previous state must be multiplied by the recurrent weights W_r."),
    ])
    expect_close(got, want, what="rnn_step(x_t, h_prev, W_x, W_r, b)", inputs={"h_prev": h_prev})


# ------------------------------------------------------------------------------------------- 12.2
def _deltas(hs, W_r, grad_hs, fprime=True, carry=True, transpose=True):
    """δ_t = ∂E/∂z_t of a tanh RNN for every step, or (a flag off) one of the typical wrong versions."""
    deltas = np.zeros_like(hs)
    back = np.zeros_like(hs[:, 0])
    for t in range(hs.shape[1] - 1, -1, -1):
        d_out = grad_hs[:, t] + back if carry else grad_hs[:, t]
        deltas[:, t] = d_out * (1 - hs[:, t] ** 2) if fprime else d_out
        back = deltas[:, t] @ (W_r.T if transpose else W_r)
    return deltas


def _weight_grads(x, prev, deltas):
    """(Σ_t X_tᵀ δ_t, Σ_t prevᵀ δ_t, Σ_t Σ_batch δ_t) over the steps given."""
    return (np.einsum("nti,ntj->ij", x, deltas), np.einsum("nti,ntj->ij", prev, deltas), deltas.sum(axis=(0, 1)))


@exercise("12.2", points=3, title="Backpropagation through time")
def _check_rnn_bptt(fn, rng):
    n, n_in, H = _sizes(rng)
    T = int(rng.integers(4, 7))
    layer = _layer(RNN, n_in, H, rng)
    W_r = layer.W_r.data
    x, h0 = rng.normal(size=(n, T, n_in)), rng.normal(size=(n, H)) * 0.5
    hs = layer(x, h0=h0)
    grad_hs = rng.normal(size=hs.shape)
    layer.backward(grad_hs)
    want = (layer.W_x.grad, layer.W_r.grad, layer.b.grad)
    what = "rnn_bptt(x, h0, hs, W_r, grad_hs)"
    result = _call(fn, x, h0, hs, W_r, grad_hs)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(f"{what} should return a triple (dW_x, dW_r, db), e.g. `return dW_x, dW_r, db`; received "
             f"{type(result).__name__}.")
    names = ("dW_x", "dW_r", "db")
    got = [expect_shape(g, w.shape, f"{name} returned by {what}") for g, w, name in zip(result, want, names)]
    wrong = [i for i in range(3) if not _matches(got[i], want[i])]
    if not wrong:
        return
    partial = (3 - len(wrong)) / 3  # a third of the points for each right gradient
    label = ", ".join(names[i] for i in wrong)
    prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)  # OUT_{t−1}
    deltas = _deltas(hs, W_r, grad_hs)
    variants = [
        (_weight_grads(x, prev, _deltas(hs, W_r, grad_hs, fprime=False)),
         "δ_t = ∂E/∂z_t needs the derivative of tanh: multiply ∂E/∂OUT_t by (1 − OUT_t²)."),
        (_weight_grads(x, prev, _deltas(hs, W_r, grad_hs, carry=False)),
         "∂E/∂OUT_t has two parts: the direct grad_hs[:, t] and the error coming back from step t+1, "
         "δ_{t+1} W_rᵀ. Walk the steps backwards (t = T−1 … 0) and carry it."),
        (_weight_grads(x, prev, _deltas(hs, W_r, grad_hs, transpose=False)),
         "the error goes back from step t+1 through the transposed recurrent weights, δ_{t+1} W_rᵀ (the forward "
         "pass multiplies by W_r)."),
        (_weight_grads(x, hs, deltas),
         "∂E/∂W_r pairs δ_t with the state that *entered* step t, OUT_{t−1} (h0 for the first step), not OUT_t."),
    ]
    for t in range(T):  # a single step's contribution instead of the sum over the steps
        step = slice(t, t + 1)
        variants.append((_weight_grads(x[:, step], prev[:, step], deltas[:, step]),
                         "that is the contribution of a single time step: the gradient of a shared weight is the "
                         "sum of the contributions of all T steps."))
    for variant, hint in variants:
        if all(_matches(got[i], variant[i]) for i in wrong):
            fail(f"{label}: {hint}", partial)
    try:
        expect_close(got[wrong[0]], want[wrong[0]], what=names[wrong[0]])
    except AssertionError as err:
        fail(f"{err} (Right so far: {', '.join(names[i] for i in range(3) if i not in wrong) or 'none'}.)", partial)


# ------------------------------------------------------------------------------------------- 12.3
@exercise("12.3", points=3, title="One step of a GRU")
def _check_gru_step(fn, rng):
    got, want, (x_t, h_prev, W_x, W_r, b) = _one_step(GRU, "gru_step", fn, rng)
    H = h_prev.shape[1]

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    a = x_t @ W_x + b
    block = [slice(k * H, (k + 1) * H) for k in range(3)]
    r, z = (sigmoid(a[:, s] + h_prev @ W_r[:, s]) for s in block[:2])
    cand = np.tanh(a[:, block[2]] + (r * h_prev) @ W_r[:, block[2]])
    r_swapped, z_swapped = z, r
    cand_swapped = np.tanh(a[:, block[2]] + (r_swapped * h_prev) @ W_r[:, block[2]])
    _known_mistakes(got, want, [
        (z * h_prev + (1 - z) * cand, "the update gate is the other way round: in this course's formula "
                                      "h_t = (1 − z) ⊙ h_{t−1} + z ⊙ h̃_t, so z is how much of the candidate to take."),
        ((1 - z_swapped) * h_prev + z_swapped * cand_swapped,
         "the gate blocks are in the order [r, z, h̃]: columns 0:H are the reset gate, H:2H the update gate."),
        ((1 - z) * h_prev + z * np.tanh(a[:, block[2]] + r * (h_prev @ W_r[:, block[2]])),
         "the reset gate multiplies the previous state *before* the recurrent product: (r ⊙ h_{t−1}) W_rh, "
         "not r ⊙ (h_{t−1} W_rh)."),
        ((1 - z) * h_prev + z * np.tanh(a[:, block[2]] + h_prev @ W_r[:, block[2]]),
         "the candidate must use the reset gate: h̃_t = tanh(X_t W_xh + (r ⊙ h_{t−1}) W_rh + b_h)."),
        (cand, "you returned the candidate h̃_t; the new state mixes it with h_{t−1} through the update gate z."),
    ])
    expect_close(got, want, what="gru_step(x_t, h_prev, W_x, W_r, b)", inputs={"h_prev": h_prev})


# ------------------------------------------------------------------------------------------- 12.4
@exercise("12.4", points=2, title="Softmax with a temperature")
def _check_temperature_softmax(fn, rng):
    n, V = int(rng.integers(2, 5)), int(rng.integers(5, 9))
    what = "temperature_softmax(logits, temperature)"
    for temperature in (1.0, float(rng.uniform(0.3, 0.8)), float(rng.uniform(1.5, 3.0))):
        logits = rng.normal(size=(n, V)) * 2
        got = expect_shape(_call(fn, logits, temperature), (n, V), what)
        want = softmax_temperature(logits, temperature)
        _known_mistakes(got, want, [
            (softmax_temperature(logits, 1 / temperature),
             f"at temperature {temperature:.3g} your distribution is sharpened/flattened the wrong way: divide the "
             "logits by τ (p ∝ e^{z/τ}), don't multiply."),
            (softmax_temperature(logits, 1.0),
             f"at temperature {temperature:.3g} you return the plain softmax: divide the logits by τ first."),
            (np.exp(logits / temperature) / np.exp(logits / temperature).sum(),
             "each row is its own distribution: normalize over the last axis (axis=-1, keepdims=True), not over "
             "the whole array."),
            (np.exp(logits / temperature), "normalize: divide e^{z/τ} by its sum over the last axis so that every "
                                           "row sums to 1."),
        ])
        expect_close(got, want, what=f"{what} at temperature {temperature:.3g}", inputs={"logits": logits})
    logits = rng.normal(size=V) * 2 + 400  # one distribution (1-D), huge logits, a low temperature
    got = expect_shape(_call(fn, logits, 0.5), (V,), f"{what} for a 1-D vector of logits")
    if not np.all(np.isfinite(got)):
        fail("for logits around 400 at temperature 0.5 your result contains NaN or inf: e^{800} overflows. "
             "Subtract the largest scaled logit first (it does not change the softmax).")
    expect_close(got, softmax_temperature(logits, 0.5), what=f"{what} for a 1-D vector of logits around 400")
