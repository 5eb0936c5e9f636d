"""The hints of the exercise checkers of chapters 9-16 (``coursepkg/grading/checks/ch09.py`` … ``ch16.py``).

For every exercise a right answer must pass with full credit, and for every typical mistake its
checker knows (a known wrong value, an explicit ``fail``/``expect_true`` hint) a function making
exactly that mistake must fail with that hint -- and with the partial credit the checker gives for
it. The learners' functions are written here: the right ones as in ``solutions/``, each mistake as a
small change of them. The checkers draw fresh random inputs, so every case runs on a few seeds.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from coursepkg.grading import registry
from coursepkg.grading.checker import FAILED, PASSED, run_checker
from coursepkg.nn import Dense

SEEDS = (0, 1, 2)
CHAPTERS = range(9, 17)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@dataclass(frozen=True)
class Mistake:
    """A wrong answer to ``exercise``: the learner's functions, a phrase of the hint it must get, the credit."""

    exercise: str
    name: str
    fns: tuple
    hint: str
    credit: float = 0.0
    seeds: tuple = SEEDS


RIGHT: dict[str, tuple] = {}  # exercise → the learner's functions of a right answer
MISTAKES: list[Mistake] = []


def right(exercise_id, *fns):
    RIGHT[exercise_id] = fns


def mistake(exercise_id, name, fns, hint, credit=0.0, seeds=SEEDS):
    MISTAKES.append(Mistake(exercise_id, name, fns if isinstance(fns, tuple) else (fns,), hint, credit, seeds))


def outcome(exercise_id, fns, seed):
    return run_checker(registry.get(exercise_id), args=fns, rng=np.random.default_rng(seed))


# ================================================================================== chapter 9
def expected_improvement(mean, std, best):
    gain = best - mean
    safe = np.where(std > 0, std, 1.0)
    z = gain / safe
    return np.where(std > 0, gain * stats.norm.cdf(z) + safe * stats.norm.pdf(z), np.maximum(gain, 0.0))


def _ei(formula):
    """An expected improvement ``formula(gain, std, z)`` with no care for std = 0."""
    return lambda mean, std, best: formula(best - mean, std, (best - mean) / std)


def _ei_in_place(mean, std, best):
    mean -= best
    return expected_improvement(mean, std, 0.0)


Phi, phi = stats.norm.cdf, stats.norm.pdf
right("9.1", expected_improvement)
mistake("9.1", "maximization", lambda m, s, b: expected_improvement(-m, s, -b), "for maximization (μ − f⁺)")
mistake("9.1", "no-exploration", _ei(lambda g, s, z: g * Phi(z)), "the exploration term is missing")
mistake("9.1", "phi-Phi-swapped", _ei(lambda g, s, z: g * phi(z) + s * Phi(z)), "φ and Φ are swapped")
mistake("9.1", "minus-sigma-phi", _ei(lambda g, s, z: g * Phi(z) - s * phi(z)), "the sign of σ φ(z) is wrong")
mistake("9.1", "variance", lambda m, s, b: expected_improvement(m, s**2, b), "you used σ² where")
mistake("9.1", "plain-gain", lambda m, s, b: np.maximum(b - m, 0), "which ignores the uncertainty")
mistake("9.1", "negative", lambda m, s, b: b - m, "some of your values are negative")
mistake("9.1", "nan-at-std-0", _ei(lambda g, s, z: g * Phi(z) + s * phi(z)), "where std = 0 your result is NaN")
mistake("9.1", "zero-at-std-0", lambda m, s, b: np.where(s > 0, expected_improvement(m, s, b), 0.0),
        "(it should be max(f⁺ − μ, 0) there)")
mistake("9.1", "in-place", _ei_in_place, "changed its argument 1 in place")


def _log_uniform(draw):
    """A sampler ``draw(log_low, log_high, size, rng)``."""
    return lambda low, high, size, rng: draw(np.log(low), np.log(high), size, rng)


right("9.2", _log_uniform(lambda a, b, size, rng: np.exp(rng.uniform(a, b, size))))
mistake("9.2", "mixed-bases", _log_uniform(lambda a, b, size, rng: 10 ** rng.uniform(a, b, size)), "a mix of bases")
mistake("9.2", "no-exp", _log_uniform(lambda a, b, size, rng: rng.uniform(a, b, size)), "some samples are ≤ 0")
mistake("9.2", "nan", lambda low, high, size, rng: np.exp(np.log(rng.uniform(low - 1, high, size))),
        "contains NaN or inf")
mistake("9.2", "global-generator", _log_uniform(lambda a, b, size, rng: np.exp(np.random.uniform(a, b, size))),
        "from the `rng` argument (rng.uniform(...)), not from np.random")
mistake("9.2", "fixed-generator",
        _log_uniform(lambda a, b, size, rng: np.exp(np.random.default_rng(0).uniform(a, b, size))),
        "generators with different seeds gave the same samples")
mistake("9.2", "repeated", _log_uniform(lambda a, b, size, rng: np.exp(rng.choice(rng.uniform(a, b, 100), size))),
        "many samples are repeated")
mistake("9.2", "uniform-in-x", lambda low, high, size, rng: rng.uniform(low, high, size), "uniform in x itself")
mistake("9.2", "skewed-logs", _log_uniform(lambda a, b, size, rng: np.exp(a + (b - a) * rng.random(size) ** 2)),
        "not uniformly spread")


def halving_schedule(val_acc, lr0, patience=1, factor=0.5, min_ratio=1 / 1024, *, reset=True, ties=False,
                     stop="after"):
    """The plateau schedule; ``reset``, ``ties``, ``stop`` ("after", "before", None) make the known mistakes."""
    best, wait, lr, rates = -np.inf, 0, lr0, []
    floor = lr0 * min_ratio * (1 + 1e-9)
    for value in val_acc:
        if value > best or (ties and value == best):
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                lr, wait = lr * factor, 0 if reset else wait
        if stop == "before" and lr <= floor:
            break
        rates.append(lr)
        if stop == "after" and lr <= floor:
            break
    return rates


def _halving_in_place(val_acc, lr0, **kw):
    val_acc.reverse()
    return halving_schedule(val_acc, lr0, **kw)


right("9.3", halving_schedule)
mistake("9.3", "no-stop", lambda *a, **kw: halving_schedule(*a, **kw, stop=None), "you did not stop")
mistake("9.3", "no-reset", lambda *a, **kw: halving_schedule(*a, **kw, reset=False),
        "start counting the epochs without a new best again from 0")
mistake("9.3", "ties-improve", lambda *a, **kw: halving_schedule(*a, **kw, ties=True), "use a strict >")
mistake("9.3", "first-rate-halved", lambda acc, lr0, **kw: halving_schedule(acc, lr0 * kw["factor"], **kw),
        "the first epoch's rate should be lr0")
mistake("9.3", "patience-off-by-one", lambda acc, lr0, patience, **kw: halving_schedule(acc, lr0, patience + 1, **kw),
        "Halve (η ← factor·η) only when")
mistake("9.3", "stop-too-early", lambda *a, **kw: halving_schedule(*a, **kw, stop="before"), "rates where")
mistake("9.3", "in-place", _halving_in_place, "changed the list of accuracies in place")


# ================================================================================== chapter 10
def collapse_linear(weights, biases):
    W, b = weights[0], biases[0]
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next + b_next
    return W, b


def _collapse_transposed(weights, biases):
    W, b = collapse_linear(weights, biases)
    return W.T, b


def _collapse_without_last_bias(weights, biases):
    if len(weights) == 1:
        return collapse_linear(weights, biases)
    return collapse_linear(weights, biases[:-1] + [np.zeros_like(biases[-1])])


right("10.1", collapse_linear)
mistake("10.1", "W-transposed", _collapse_transposed, "W is transposed")
mistake("10.1", "b-last-only", lambda ws, bs: (collapse_linear(ws, bs)[0], bs[-1]), "b is only the last layer's bias")
mistake("10.1", "b-without-last", _collapse_without_last_bias, "b is missing the last layer's own bias")
mistake("10.1", "b-summed", lambda ws, bs: (collapse_linear(ws, bs)[0], sum(bs)), "you added the biases")


def bias_gradient_norms(model, loss, x, y, *, zero=True, param="b", order=1):
    if zero:
        model.zero_grad()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    norms = [np.linalg.norm(getattr(layer, param).grad) for layer in model if isinstance(layer, Dense)]
    return np.array(norms[::order])


def _zero_grad_once():
    """Zeroes the gradients only the first time it sees a model."""
    seen = weakref.WeakSet()

    def fn(model, loss, x, y):
        norms = bias_gradient_norms(model, loss, x, y, zero=model not in seen)
        seen.add(model)
        return norms

    return fn


def _norms_per_parameter(model, loss, x, y):
    bias_gradient_norms(model, loss, x, y)
    return np.array([np.linalg.norm(p.grad) for p in model.parameters()])


right("10.2", bias_gradient_norms)
mistake("10.2", "none", lambda *args: None, "returned None")
mistake("10.2", "per-parameter", _norms_per_parameter, "one norm per Dense layer")
mistake("10.2", "reversed", lambda *args: bias_gradient_norms(*args, order=-1), "the order is reversed")
mistake("10.2", "weights", lambda *args: bias_gradient_norms(*args, param="W"), "these are the norms of ∂C/∂W")
mistake("10.2", "no-zero-grad", lambda *args: bias_gradient_norms(*args, zero=False), "Did you zero the gradients")
mistake("10.2", "zero-grad-once", _zero_grad_once(), "a second call gives different numbers")


def _global_norm(grads):
    return float(np.sqrt(sum(np.sum(g**2) for g in grads)))


def clip_by_global_norm(grads, max_norm, *, norm_of=_global_norm, reported=None, scale_of=None):
    """``norm_of(grads)`` the norm used, ``reported(norm, max_norm)`` the one returned, ``scale_of(g, norm,
    max_norm)`` the factor of each array."""
    norm = norm_of(grads)
    scale = (lambda g, n, m: m / n if n > m else 1.0) if scale_of is None else scale_of
    return [g * scale(g, norm, max_norm) for g in grads], norm if reported is None else reported(norm, max_norm)


def _clip_in_place(grads, max_norm):
    norm = _global_norm(grads)
    for g in grads:
        g *= min(1.0, max_norm / norm)
    return grads, norm


right("10.3", clip_by_global_norm)
mistake("10.3", "in-place", _clip_in_place, "changed the input arrays in place")
mistake("10.3", "one-array", lambda grads, m: (np.concatenate([g.ravel() for g in clip_by_global_norm(grads, m)[0]]),
                                               _global_norm(grads)), "`clipped` should be a list")
mistake("10.3", "norm-after", lambda *a: clip_by_global_norm(*a, reported=min), "the norm *before* clipping")
mistake("10.3", "sum-of-squares", lambda *a: clip_by_global_norm(*a, norm_of=lambda gs: _global_norm(gs) ** 2),
        "take its square root")
mistake("10.3", "largest-array-norm", lambda *a: clip_by_global_norm(
    *a, norm_of=lambda gs: max(map(np.linalg.norm, gs))), "not one array's norm")
mistake("10.3", "own-norms", lambda *a: clip_by_global_norm(
    *a, scale_of=lambda g, n, m: min(1.0, m / np.linalg.norm(g))), "by its own norm")
mistake("10.3", "by-value", lambda grads, m: ([np.clip(g, -m, m) for g in grads], _global_norm(grads)),
        "clipping by value")
mistake("10.3", "factor-upside-down", lambda *a: clip_by_global_norm(
    *a, scale_of=lambda g, n, m: n / m if n > m else 1.0), "the factor is upside down")
mistake("10.3", "always-rescaled", lambda *a: clip_by_global_norm(*a, scale_of=lambda g, n, m: m / n),
        "must be returned unchanged")


# ================================================================================== chapter 11
def conv2d(x, W, b, mode="valid", *, pad_mode="constant", extra=1):
    """``pad_mode``: how to pad; ``extra``: the +1 of the output size n + 2p − k + 1."""
    k = W.shape[2]
    p = {"valid": 0, "same": k // 2, "full": k - 1}[mode]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode=pad_mode)
    oh, ow = xp.shape[2] - k + extra, xp.shape[3] - k + extra
    z = np.zeros((x.shape[0], W.shape[0], oh, ow)) + b[None, :, None, None]
    for kk in range(k):
        for ll in range(k):
            z += np.einsum("nchw,fc->nfhw", xp[:, :, kk:kk + oh, ll:ll + ow], W[:, :, kk, ll])
    return z


right("11.1", conv2d)
mistake("11.1", "mode-ignored", lambda x, W, b, mode: conv2d(x, W, b), "has the size of border mode 'valid'")
mistake("11.1", "no-plus-one", lambda *a: conv2d(*a, extra=0), "off by one pixel per side")
mistake("11.1", "rows-columns-swapped", lambda *a: conv2d(*a).transpose(0, 1, 3, 2), "rows and columns are swapped")
mistake("11.1", "filters-summed", lambda *a: conv2d(*a).sum(axis=1), "the output should have shape (n, c_out")
mistake("11.1", "flipped-kernel", lambda x, W, b, mode: conv2d(x, W[:, :, ::-1, ::-1], b, mode), "kernel is flipped")
mistake("11.1", "no-bias", lambda x, W, b, mode: conv2d(x, W, 0 * b, mode), "the bias is missing")
mistake("11.1", "bias-summed", lambda x, W, b, mode: conv2d(x, W, 0 * b, mode) + b.sum(), "not the sum of all biases")
mistake("11.1", "edge-padding", lambda *a: conv2d(*a, pad_mode="edge"), "pad with zeros")


def max_pool_backward(x, grad_out, size, *, pick=lambda windows: np.argmax(windows, axis=-1), swap=False):
    """δ to the window entry ``pick`` chooses; ``swap``: the chosen row and column swapped."""
    n, c, h, w = x.shape
    oh, ow = h // size, w // size
    windows = x.reshape(n, c, oh, size, ow, size).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, size * size)
    chosen = pick(windows)
    if swap:
        chosen = chosen % size * size + chosen // size
    grad = np.zeros_like(windows)
    np.put_along_axis(grad, chosen[..., None], grad_out[..., None], axis=-1)
    return grad.reshape(n, c, oh, ow, size, size).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)


def _upsample(a, size):
    return np.repeat(np.repeat(a, size, axis=2), size, axis=3)


def _window_sums(a, size):
    n, c, h, w = a.shape
    return a.reshape(n, c, h // size, size, w // size, size).sum(axis=(3, 5))


def _window_maxima(x, size):
    """True at every maximum of its window, ties included."""
    n, c, h, w = x.shape
    return x == _upsample(x.reshape(n, c, h // size, size, w // size, size).max(axis=(3, 5)), size)


def _split_over_ties(x, grad_out, size):
    is_max = _window_maxima(x, size)
    return _upsample(grad_out, size) * is_max / _upsample(_window_sums(is_max, size), size)


right("11.2", max_pool_backward)
mistake("11.2", "average-pooling", lambda x, g, s: _upsample(g, s) / s**2, "the gradient of *average* pooling")
mistake("11.2", "copied", lambda x, g, s: _upsample(g, s), "you copied δ to every pixel")
mistake("11.2", "argmin", lambda x, g, s: max_pool_backward(-x, g, s), "argmax, not argmin")
mistake("11.2", "row-column-swapped", lambda *a: max_pool_backward(*a, swap=True), "rows and columns are mixed up")
mistake("11.2", "all-tied-maxima", lambda x, g, s: _upsample(g, s) * _window_maxima(x, s),
        "you give δ to all of them", 0.5)
mistake("11.2", "last-maximum", lambda *a: max_pool_backward(
    *a, pick=lambda w: w.shape[-1] - 1 - np.argmax(w[..., ::-1], axis=-1)), "not the last", 0.5)
mistake("11.2", "split-over-ties", _split_over_ties, "right without ties, wrong when", 0.5)


def conv2d_backward(x, W, grad_out, *, rotate_x=True):
    """``rotate_x=False``: ∂C/∂x with the kernel unrotated."""
    k = W.shape[2]
    oh, ow = grad_out.shape[2:]
    grad_x, grad_W = np.zeros(x.shape), np.zeros(W.shape)
    for kk in range(k):
        for ll in range(k):
            grad_W[:, :, kk, ll] = np.einsum("nfij,ncij->fc", grad_out, x[:, :, kk:kk + oh, ll:ll + ow])
            w = W[:, :, kk, ll] if rotate_x else W[:, :, k - 1 - kk, k - 1 - ll]
            grad_x[:, :, kk:kk + oh, ll:ll + ow] += np.einsum("nfij,fc->ncij", grad_out, w)
    return grad_x, grad_W, grad_out.sum(axis=(0, 2, 3))


def _conv_grads(grad_x=None, grad_W=None, grad_b=None):
    """conv2d_backward with some of its three results replaced: ``f(x, W, grad_out, right_result)``."""
    changes = (grad_x, grad_W, grad_b)

    def fn(x, W, grad_out):
        result = conv2d_backward(x, W, grad_out)
        return tuple(r if f is None else f(x, W, grad_out, r) for f, r in zip(changes, result))

    return fn


right("11.3", conv2d_backward)
mistake("11.3", "two-results", lambda *a: conv2d_backward(*a)[:2], "should return three arrays")
mistake("11.3", "b-per-example", _conv_grads(grad_b=lambda x, W, g, r: g.sum(axis=(2, 3))),
        "grad_b: also sum over the batch", 2 / 3)
mistake("11.3", "b-batch-mean", _conv_grads(grad_b=lambda x, W, g, r: r / len(x)), "grad_b is n times too small", 2 / 3)
mistake("11.3", "b-mean", _conv_grads(grad_b=lambda x, W, g, r: g.mean(axis=(0, 2, 3))),
        "Hint: sum δ over the batch and over all positions", 2 / 3)
mistake("11.3", "W-axes-swapped", _conv_grads(grad_W=lambda x, W, g, r: r.transpose(1, 0, 2, 3)),
        "grad_W has shape (c_in, c_out, k, k)", 2 / 3)
mistake("11.3", "W-rotated", _conv_grads(grad_W=lambda x, W, g, r: r[:, :, ::-1, ::-1]), "grad_W is rotated by 180°",
        2 / 3)
mistake("11.3", "W-batch-mean", _conv_grads(grad_W=lambda x, W, g, r: r / len(x)), "grad_W is n times too small", 2 / 3)
mistake("11.3", "W-doubled", _conv_grads(grad_W=lambda x, W, g, r: 2 * r), "Hint: for each kernel offset (k, l)", 2 / 3)
mistake("11.3", "x-unrotated-kernel", lambda *a: conv2d_backward(*a, rotate_x=False),
        "grad_x uses the kernel unrotated", 2 / 3)
mistake("11.3", "x-doubled", _conv_grads(grad_x=lambda x, W, g, r: 2 * r), "Hint: every pixel collects δ · W", 2 / 3)
mistake("11.3", "two-wrong", _conv_grads(grad_W=lambda x, W, g, r: r[:, :, ::-1, ::-1],
                                         grad_b=lambda x, W, g, r: r / len(x)), "(1 of the 3 gradients are right.)",
        1 / 3)


# ================================================================================== chapter 12
def rnn_step(x_t, h_prev, W_x, W_r, b, *, act=np.tanh, recurrent=True, weighted=True, bias=True):
    memory = (h_prev @ W_r if weighted else h_prev) if recurrent else 0
    return act(memory + x_t @ W_x + (b if bias else 0))


right("12.1", rnn_step)
mistake("12.1", "no-activation", lambda *a: rnn_step(*a, act=lambda z: z), "you returned the net input z")
mistake("12.1", "sigmoid", lambda *a: rnn_step(*a, act=_sigmoid), "this RNN uses tanh")
mistake("12.1", "no-bias", lambda *a: rnn_step(*a, bias=False), "the bias b is missing")
mistake("12.1", "no-recurrence", lambda *a: rnn_step(*a, recurrent=False),
        "the recurrent term OUT_{t−1} W_r is missing")
mistake("12.1", "no-W_r", lambda *a: rnn_step(*a, weighted=False), "multiplied by the recurrent weights W_r")


def rnn_bptt(x, h0, hs, W_r, grad_hs, *, fprime=True, carry=True, transpose=True, entered=True, accumulate=True):
    """The flags off make the known mistakes (``entered=False``: OUT_t in ∂E/∂W_r, ``accumulate=False``: ``=``
    instead of ``+=``, which keeps step 0 only)."""
    n, T, H = hs.shape
    dW_x, dW_r, db = np.zeros((x.shape[2], H)), np.zeros((H, H)), np.zeros(H)
    back = np.zeros((n, H))
    for t in range(T - 1, -1, -1):
        delta = (grad_hs[:, t] + (back if carry else 0)) * ((1 - hs[:, t] ** 2) if fprime else 1)
        prev = (h0 if t == 0 else hs[:, t - 1]) if entered else hs[:, t]
        keep = 1 if accumulate else 0
        dW_x, dW_r, db = keep * dW_x + x[:, t].T @ delta, keep * dW_r + prev.T @ delta, keep * db + delta.sum(axis=0)
        back = delta @ (W_r.T if transpose else W_r)
    return dW_x, dW_r, db


right("12.2", rnn_bptt)
mistake("12.2", "pair", lambda *a: rnn_bptt(*a)[:2], "should return a triple (dW_x, dW_r, db)")
mistake("12.2", "no-fprime", lambda *a: rnn_bptt(*a, fprime=False), "needs the derivative of tanh")
mistake("12.2", "no-carry", lambda *a: rnn_bptt(*a, carry=False), "has two parts")
mistake("12.2", "W_r-not-transposed", lambda *a: rnn_bptt(*a, transpose=False), "through the transposed recurrent")
mistake("12.2", "OUT_t", lambda *a: rnn_bptt(*a, entered=False),
        "dW_r: ∂E/∂W_r pairs δ_t with the state that *entered*", 2 / 3)
mistake("12.2", "single-step", lambda *a: rnn_bptt(*a, accumulate=False), "the contribution of a single time step")
mistake("12.2", "dW_x-doubled", lambda *a: (2 * rnn_bptt(*a)[0], *rnn_bptt(*a)[1:]), "(Right so far: dW_r, db.)", 2 / 3)


def gru_step(x_t, h_prev, W_x, W_r, b, *, gates="rz", update="new", reset="before", output="state"):
    """``gates``: the order of the gate blocks; ``update``: what z weighs; ``reset``: where r acts."""
    H = h_prev.shape[1]
    a = x_t @ W_x + b
    s = _sigmoid(a[:, :2 * H] + h_prev @ W_r[:, :2 * H])
    r, z = (s[:, :H], s[:, H:]) if gates == "rz" else (s[:, H:], s[:, :H])
    recurrent = {"before": (r * h_prev) @ W_r[:, 2 * H:], "after": r * (h_prev @ W_r[:, 2 * H:]),
                 "none": h_prev @ W_r[:, 2 * H:]}[reset]
    candidate = np.tanh(a[:, 2 * H:] + recurrent)
    if output == "candidate":
        return candidate
    return (1 - z) * h_prev + z * candidate if update == "new" else z * h_prev + (1 - z) * candidate


right("12.3", gru_step)
mistake("12.3", "update-other-way", lambda *a: gru_step(*a, update="old"), "the update gate is the other way round")
mistake("12.3", "gates-swapped", lambda *a: gru_step(*a, gates="zr"), "the gate blocks are in the order [r, z, h̃]")
mistake("12.3", "reset-after-product", lambda *a: gru_step(*a, reset="after"), "*before* the recurrent product")
mistake("12.3", "no-reset", lambda *a: gru_step(*a, reset="none"), "the candidate must use the reset gate")
mistake("12.3", "candidate", lambda *a: gru_step(*a, output="candidate"), "you returned the candidate h̃_t")


def temperature_softmax(logits, temperature):
    return _softmax(np.asarray(logits, dtype=float) / temperature)


right("12.4", temperature_softmax)
mistake("12.4", "multiplied", lambda z, t: temperature_softmax(z, 1 / t), "the wrong way: divide the logits by τ")
mistake("12.4", "plain-softmax", lambda z, t: temperature_softmax(z, 1.0), "you return the plain softmax")
mistake("12.4", "whole-array", lambda z, t: np.exp(z / t) / np.exp(z / t).sum(), "each row is its own distribution")
mistake("12.4", "unnormalized", lambda z, t: np.exp(z / t), "normalize: divide e^{z/τ} by its sum")
mistake("12.4", "overflow", lambda z, t: np.exp(z / t) / np.exp(z / t).sum(axis=-1, keepdims=True), "e^{800} overflows")
mistake("12.4", "clipped-logits", lambda z, t: _softmax(np.clip(z / t, -300, 300)),
        "for a 1-D vector of logits around 400")


# ================================================================================== chapter 13
def _kl(p, q):
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def _kl_penalty(h, rho, beta):
    return float(beta * np.sum(_kl(rho, h.mean(axis=0))))


def _kl_gradient(h, rho, beta):
    q = h.mean(axis=0)
    return np.broadcast_to(beta * (-rho / q + (1 - rho) / (1 - q)) / len(h), h.shape)


def _kl_with(penalty=_kl_penalty, gradient=_kl_gradient):
    return lambda h, rho, beta: (penalty(h, rho, beta), gradient(h, rho, beta))


right("13.1", _kl_with())
mistake("13.1", "penalty-no-beta", _kl_with(penalty=lambda h, rho, beta: _kl_penalty(h, rho, 1.0)),
        "multiply the sum of the KL divergences by β")
mistake("13.1", "penalty-reversed", _kl_with(penalty=lambda h, rho, beta: beta * np.sum(_kl(h.mean(axis=0), rho))),
        "the divergence is reversed")
mistake("13.1", "penalty-one-term", _kl_with(
    penalty=lambda h, rho, beta: beta * np.sum(rho * np.log(rho / h.mean(axis=0)))), "has two terms")
mistake("13.1", "penalty-mean", _kl_with(penalty=lambda h, rho, beta: beta * np.mean(_kl(rho, h.mean(axis=0)))),
        "sum the divergences over the hidden units")
mistake("13.1", "penalty-axis-1", _kl_with(penalty=lambda h, rho, beta: beta * np.sum(_kl(rho, h.mean(axis=1)))),
        "average over the examples (axis 0)")
mistake("13.1", "penalty-per-unit", _kl_with(penalty=lambda h, rho, beta: beta * _kl(rho, h.mean(axis=0))),
        "should be a single number")
mistake("13.1", "gradient-no-1/n", _kl_with(gradient=lambda h, rho, beta: _kl_gradient(h, rho, beta) * len(h)),
        "divide by the batch size", 0.5)
mistake("13.1", "gradient-sign", _kl_with(gradient=lambda h, rho, beta: -_kl_gradient(h, rho, beta)),
        "the sign is flipped", 0.5)
mistake("13.1", "gradient-no-beta", _kl_with(gradient=lambda h, rho, beta: _kl_gradient(h, rho, 1.0)),
        "the gradient carries the weight β too", 0.5)
mistake("13.1", "gradient-halved", _kl_with(gradient=lambda h, rho, beta: _kl_gradient(h, rho, beta) / 2),
        "0.5 times the expected ones", 0.5)


def rbm_hidden_probs(v, W, c):
    return _sigmoid(v @ W + c)


def cd1_weight_gradient(v, W, b, c, *, negative="p1", visible_bias=True, sign=-1, mean=True):
    p0 = rbm_hidden_probs(v, W, c)
    v1 = _sigmoid(p0 @ W.T + (b if visible_bias else 0))
    p1 = rbm_hidden_probs(v1, W, c) if negative == "p1" else p0
    return sign * (v.T @ p0 - v1.T @ p1) / (len(v) if mean else 1)


right("13.2", rbm_hidden_probs, cd1_weight_gradient)
mistake("13.2", "net-input", (lambda v, W, c: v @ W + c, cd1_weight_gradient), "that is the net input")
mistake("13.2", "no-hidden-bias", (lambda v, W, c: _sigmoid(v @ W), cd1_weight_gradient),
        "the hidden bias c is missing")
mistake("13.2", "sign-flipped", (lambda v, W, c: _sigmoid(-(v @ W + c)), cd1_weight_gradient), "the sign is flipped")
mistake("13.2", "ascent", (rbm_hidden_probs, lambda *a: cd1_weight_gradient(*a, sign=1)),
        "the direction that *raises* the likelihood", 1 / 3)
mistake("13.2", "summed", (rbm_hidden_probs, lambda *a: cd1_weight_gradient(*a, mean=False)),
        "average over the batch", 1 / 3)
mistake("13.2", "negative-phase-p0", (rbm_hidden_probs, lambda *a: cd1_weight_gradient(*a, negative="p0")),
        "pairs the reconstruction v¹ with *its own* hidden probabilities", 1 / 3)
mistake("13.2", "no-visible-bias", (rbm_hidden_probs, lambda *a: cd1_weight_gradient(*a, visible_bias=False)),
        "needs the visible bias b", 1 / 3)


def ista_step(h, X, D, lam, step, *, threshold=None, direction=-1):
    """``threshold(u, t)`` the thresholding with t = ηλ (default: the soft threshold)."""
    u = h + direction * step * ((h @ D.T - X) @ D)
    t = step * lam
    return np.sign(u) * np.maximum(np.abs(u) - t, 0) if threshold is None else threshold(u, t)


right("13.3", ista_step)
mistake("13.3", "threshold-lambda", lambda h, X, D, lam, step: ista_step(h, X, D, lam / step, step),
        "the threshold is the step size times λ")
mistake("13.3", "hard-threshold", lambda *a: ista_step(*a, threshold=lambda u, t: np.where(np.abs(u) > t, u, 0)),
        "that is a *hard* threshold")
mistake("13.3", "one-sided", lambda *a: ista_step(*a, threshold=lambda u, t: np.maximum(u - t, 0)),
        "entries below −ηλ must survive too")
# (seed 0 has no entry below the threshold: there no threshold is a hard threshold, and gets its hint)
mistake("13.3", "no-threshold", lambda *a: ista_step(*a, threshold=lambda u, t: u), "apply the soft threshold",
        seeds=(1, 2, 3))
mistake("13.3", "ascent", lambda *a: ista_step(*a, direction=1), "step *against* it")


# ================================================================================== chapter 14
def _bce(s, target, log=lambda s, target: np.logaddexp(0, -s) if target else np.logaddexp(0, s)):
    return float(np.mean(log(s, target)))


def _naive_log(s, target):
    return -np.log(_sigmoid(s)) if target else -np.log(1 - _sigmoid(s))


def discriminator_cost(real, fake, *, cost=None, grad_real=None, grad_fake=None):
    """``cost(real, fake)``, ``grad_real(σ(real), m_real)``, ``grad_fake(σ(fake), m_fake)`` replace the right ones."""
    c = _bce(real, 1) + _bce(fake, 0) if cost is None else cost(real, fake)
    gr = (_sigmoid(real) - 1) / len(real) if grad_real is None else grad_real(_sigmoid(real), len(real))
    gf = _sigmoid(fake) / len(fake) if grad_fake is None else grad_fake(_sigmoid(fake), len(fake))
    return c, gr, gf


def _cost_pooled(real, fake):
    return float((np.sum(np.logaddexp(0, -real)) + np.sum(np.logaddexp(0, fake))) / (len(real) + len(fake)))


def _grad_real_pooled(real, fake):
    return discriminator_cost(real, fake, grad_real=lambda p, m: (p - 1) / (len(real) + len(fake)))


right("14.1", discriminator_cost)
mistake("14.1", "targets-swapped", lambda *a: discriminator_cost(*a, cost=lambda r, f: _bce(r, 0) + _bce(f, 1)),
        "the targets are swapped")
mistake("14.1", "cost-sign", lambda *a: discriminator_cost(*a, cost=lambda r, f: -(_bce(r, 1) + _bce(f, 0))),
        "the cost has the wrong sign")
mistake("14.1", "pooled-mean", lambda *a: discriminator_cost(*a, cost=_cost_pooled),
        "the mean over all real and fake examples together")
mistake("14.1", "grad_real-no-1/m", lambda *a: discriminator_cost(*a, grad_real=lambda p, m: p - 1),
        "grad_real is missing the factor 1/m_real", 0.5)
mistake("14.1", "grad_real-sign-no-1/m", lambda *a: discriminator_cost(*a, grad_real=lambda p, m: 1 - p),
        "grad_real has the wrong sign", 0.5)
mistake("14.1", "grad_real-sign", lambda *a: discriminator_cost(*a, grad_real=lambda p, m: (1 - p) / m),
        "grad_real has the wrong sign", 0.5)
mistake("14.1", "grad_real-target-0", lambda *a: discriminator_cost(*a, grad_real=lambda p, m: p / m),
        "grad_real uses target 0", 0.5)
mistake("14.1", "grad_real-pooled", _grad_real_pooled, "grad_real is divided by m_real + m_fake", 0.5)
mistake("14.1", "grad_fake-no-1/m", lambda *a: discriminator_cost(*a, grad_fake=lambda p, m: p),
        "grad_fake is missing the factor 1/m_fake", 0.5)
mistake("14.1", "grad_fake-sign", lambda *a: discriminator_cost(*a, grad_fake=lambda p, m: -p / m),
        "grad_fake has the wrong sign", 0.5)
mistake("14.1", "grad_fake-target-1", lambda *a: discriminator_cost(*a, grad_fake=lambda p, m: (p - 1) / m),
        "grad_fake uses target 1", 0.5)
mistake("14.1", "log-of-sigmoid", lambda *a: discriminator_cost(
    *a, cost=lambda r, f: _bce(r, 1, _naive_log) + _bce(f, 0, _naive_log)), "log σ(s) underflows to log 0", 0.7)
mistake("14.1", "clipped-logits", lambda *a: discriminator_cost(
    *a, cost=lambda r, f: _bce(np.clip(r, -30, 30), 1) + _bce(np.clip(f, -30, 30), 0)), "for logits of ±800")


def non_saturating_cost(s, *, cost=None, grad=None):
    """``cost(s)``, ``grad(σ(s), m)`` replace the right ones."""
    c = _bce(s, 1) if cost is None else cost(s)
    return c, (_sigmoid(s) - 1) / len(s) if grad is None else grad(_sigmoid(s), len(s))


right("14.2", non_saturating_cost)
mistake("14.2", "minimax-cost", lambda s: non_saturating_cost(s, cost=lambda s: -_bce(s, 0)),
        "that is the minimax cost")
mistake("14.2", "cost-sign", lambda s: non_saturating_cost(s, cost=lambda s: -_bce(s, 1)),
        "the cost has the wrong sign")
mistake("14.2", "minimax-grad", lambda s: non_saturating_cost(s, grad=lambda p, m: -p / m),
        "that is the gradient of the minimax cost", 0.5)
mistake("14.2", "no-1/m", lambda s: non_saturating_cost(s, grad=lambda p, m: p - 1), "missing the factor 1/m", 0.5)
mistake("14.2", "grad-sign-no-1/m", lambda s: non_saturating_cost(s, grad=lambda p, m: 1 - p),
        "grad has the wrong sign", 0.5)
mistake("14.2", "grad-sign", lambda s: non_saturating_cost(s, grad=lambda p, m: (1 - p) / m), "grad has the wrong sign",
        0.5)
mistake("14.2", "log-of-sigmoid", lambda s: non_saturating_cost(s, cost=lambda s: _bce(s, 1, _naive_log)),
        "for logits of −800 your cost is infinite", 0.7)
mistake("14.2", "grad-via-sigmoid-derivative", lambda s: non_saturating_cost(
    s, grad=lambda p, m: -p * (1 - p) / p / m), "grad for logits of −800")


def _p_log(p, q):
    """p log q, with 0 log(anything) = 0."""
    return np.where(p > 0, p * np.log(np.where(p > 0, q, 1.0)), 0.0)


def optimal_d_and_value(p_data, p_g, x, *, d_star=None, value=None):
    """``d_star(p_data, p_g)`` and ``value(p_data, p_g, x)`` replace the right ones."""
    total = p_data + p_g
    safe = np.where(total > 0, total, 1.0)
    d = np.where(total > 0, p_data / safe, 0.5) if d_star is None else d_star(p_data, p_g)
    v = np.trapezoid(_p_log(p_data, p_data / safe) + _p_log(p_g, p_g / safe), x) if value is None else \
        value(p_data, p_g, x)
    return d, float(v)


def _value_of_d(p_data, p_g, x):
    """V from log D* and log(1 − D*) directly."""
    d = p_data / (p_data + p_g)
    return np.trapezoid(p_data * np.log(d) + p_g * np.log(1 - d), x)


def _value_0_log_0(p_data, p_g, x):
    """V without the convention 0 log 0 = 0."""
    total = p_data + p_g
    safe = np.where(total > 0, total, 1.0)
    return np.trapezoid(p_data * np.log(p_data / safe) + p_g * np.log(p_g / safe), x)


right("14.3", optimal_d_and_value)
mistake("14.3", "one-minus-D", lambda *a: optimal_d_and_value(*a, d_star=lambda pd, pg: pg / (pd + pg)),
        "d_star is 1 − D*")
mistake("14.3", "ratio", lambda *a: optimal_d_and_value(*a, d_star=lambda pd, pg: pd / pg), "d_star is the ratio")
# (seeds where D* rounds to 1 in a tail; elsewhere the mistake shows only on the uniform densities, with 0.7)
mistake("14.3", "log-of-D", lambda *a: optimal_d_and_value(*a, value=_value_of_d), "your value is infinite or NaN",
        0.5, seeds=(2, 5, 8))
mistake("14.3", "jsd", lambda *a: optimal_d_and_value(
    *a, value=lambda *b: (optimal_d_and_value(*b)[1] + np.log(4)) / 2), "that is the Jensen–Shannon divergence", 0.5)
mistake("14.3", "value-sign", lambda *a: optimal_d_and_value(*a, value=lambda *b: -optimal_d_and_value(*b)[1]),
        "the value has the wrong sign", 0.5)
mistake("14.3", "d-0/0", lambda *a: optimal_d_and_value(*a, d_star=lambda pd, pg: pd / (pd + pg)),
        "where both densities are 0 your d_star is NaN", 0.6)
mistake("14.3", "d-0-where-both-vanish", lambda *a: optimal_d_and_value(
    *a, d_star=lambda pd, pg: np.where(pd + pg > 0, pd / np.where(pd + pg > 0, pd + pg, 1), 0.0)),
        "d_star for two uniform densities")
mistake("14.3", "value-0-log-0", lambda *a: optimal_d_and_value(*a, value=_value_0_log_0),
        "the terms p log(…) with p = 0 must count as 0", 0.7)


# ================================================================================== chapter 15
def tournament_selection(fitness, n, k, rng, *, pick=np.argmax, result="index"):
    contestants = rng.integers(0, len(fitness), size=(n, k))
    best = pick(fitness[contestants], axis=1)
    return {"index": contestants[np.arange(n), best], "position": best}[result]


def _without_replacement(fitness, n, k, rng):
    contestants = np.argsort(rng.random((n, len(fitness))), axis=1)[:, :k]
    return contestants[np.arange(n), np.argmax(fitness[contestants], axis=1)]


def _tournament(output=lambda winners, fitness: winners, **options):
    return lambda fitness, n, k, rng: output(tournament_selection(fitness, n, k, rng, **options), fitness)


right("15.1", tournament_selection)
mistake("15.1", "fitness-values", _tournament(output=lambda w, f: f[w]), "you returned fitness values")
mistake("15.1", "float-indices", _tournament(output=lambda w, f: w.astype(float)), "should return integer indices")
mistake("15.1", "one-based", _tournament(output=lambda w, f: w + 1), "returned indices outside 0…P−1")
mistake("15.1", "positions", _tournament(result="position"), "positions *within* each tournament")
mistake("15.1", "argmin", _tournament(pick=np.argmin), "the *worst* contestant wins")
mistake("15.1", "random-winner", lambda f, n, k, rng: tournament_selection(f, n, 1, rng),
        "every individual is picked about equally often")
mistake("15.1", "without-replacement", _without_replacement, "drawn *without* replacement", 0.5)
mistake("15.1", "k-minus-1", lambda f, n, k, rng: tournament_selection(f, n, k - 1, rng), "not those of k-tournaments")
mistake("15.1", "unseeded-generator", lambda f, n, k, rng: tournament_selection(f, n, k, np.random.default_rng()),
        "different results for two generators with the same seed")
mistake("15.1", "fixed-generator", lambda f, n, k, rng: tournament_selection(f, n, k, np.random.default_rng(0)),
        "the same result for different seeds")
mistake("15.1", "k-capped", lambda f, n, k, rng: tournament_selection(f, n, min(k, len(f)), rng),
        "with a huge tournament")


def _genes(a, b):
    """(E, D, N, |w_a − w_b| of the matching genes)."""
    unmatched = a.keys() ^ b.keys()
    cutoff = min(max(a), max(b))
    excess = sum(1 for i in unmatched if i > cutoff)
    return excess, len(unmatched) - excess, max(len(a), len(b)), np.array([a[i] - b[i] for i in a.keys() & b.keys()])


def _distance(formula):
    """A compatibility distance ``formula(E, D, N, diffs, c1, c2, c3, a, b)``."""
    return lambda a, b, c1, c2, c3: formula(*_genes(a, b), c1, c2, c3, a, b)


def _distance_in_place(a, b, c1, c2, c3):
    distance = compatibility_distance(a, b, c1, c2, c3)
    a.clear()
    return distance


def _distance_wrong_guard(a, b, c1, c2, c3):
    """Guards the mean of an empty list by testing the wrong set (unmatched instead of matching genes)."""
    E, D, N, diffs = _genes(a, b)
    return c1 * E / N + c2 * D / N + c3 * (np.abs(diffs).mean() if a.keys() ^ b.keys() else 1.0)


compatibility_distance = _distance(lambda E, D, N, d, c1, c2, c3, a, b: c1 * E / N + c2 * D / N + c3 * np.abs(d).mean())
right("15.2", compatibility_distance)
mistake("15.2", "excess-disjoint-swapped", _distance(
    lambda E, D, N, d, c1, c2, c3, a, b: c1 * D / N + c2 * E / N + c3 * np.abs(d).mean()),
        "excess and disjoint are swapped")
mistake("15.2", "no-N", _distance(lambda E, D, N, d, c1, c2, c3, a, b: c1 * E + c2 * D + c3 * np.abs(d).mean()),
        "divide the excess and disjoint counts by N")
mistake("15.2", "N-smaller", _distance(lambda E, D, N, d, c1, c2, c3, a, b: (c1 * E + c2 * D) / min(len(a), len(b))
                                       + c3 * np.abs(d).mean()), "N is the number of genes of the *larger* genome.")
mistake("15.2", "sum-of-differences", _distance(
    lambda E, D, N, d, c1, c2, c3, a, b: c1 * E / N + c2 * D / N + c3 * np.abs(d).sum()), "not their sum")
mistake("15.2", "signed-differences", _distance(
    lambda E, D, N, d, c1, c2, c3, a, b: c1 * E / N + c2 * D / N + c3 * abs(d.mean())), "the *absolute* differences")
mistake("15.2", "c1-for-both", _distance(lambda E, D, N, d, c1, c2, c3, a, b: c1 * (E + D) / N + c3 * np.abs(d).mean()),
        "disjoint genes are weighted by c2")
mistake("15.2", "N-union", _distance(lambda E, D, N, d, c1, c2, c3, a, b: (c1 * E + c2 * D) / len(a.keys() | b.keys())
                                     + c3 * np.abs(d).mean()), "not of both together")
mistake("15.2", "no-c3", _distance(lambda E, D, N, d, c1, c2, c3, a, b: c1 * E / N + c2 * D / N + np.abs(d).mean()),
        "Check E, D, N and W̄ one at a time")
mistake("15.2", "in-place", _distance_in_place, "changed one of the genomes")
mistake("15.2", "tuple", _distance(lambda E, D, N, d, c1, c2, c3, a, b: (E, D, np.abs(d).mean())),
        "should return one finite number")
mistake("15.2", "distance-to-itself", _distance_wrong_guard, "a genome's distance to itself should be 0")


def gaussian_mutation(genomes, rate, sigma, rng, *, mask_shape=None, mutated=lambda u, rate: u < rate,
                      noise=lambda rng, sigma, shape: sigma * rng.standard_normal(shape)):
    mask = mutated(rng.random(genomes.shape if mask_shape is None else mask_shape(genomes.shape)), rate)
    return genomes + mask * noise(rng, sigma, genomes.shape)


def _mutation_in_place(genomes, rate, sigma, rng):
    genomes += (rng.random(genomes.shape) < rate) * sigma * rng.standard_normal(genomes.shape)
    return genomes


def _mutation(**options):
    return lambda genomes, rate, sigma, rng: gaussian_mutation(genomes, rate, sigma, rng, **options)


def _noise(draw):
    """Mutations ``draw(rng, sigma, shape)`` instead of σ·N(0, 1)."""
    return _mutation(noise=draw)


right("15.3", gaussian_mutation)
mistake("15.3", "every-gene", lambda g, r, s, rng: g + s * rng.standard_normal(g.shape), "every gene changed")
mistake("15.3", "whole-genomes", _mutation(mask_shape=lambda shape: (shape[0], 1)),
        "whole genomes are mutated or left alone")
mistake("15.3", "mask-inverted", _mutation(mutated=lambda u, rate: u > rate),
        "the fraction of mutated genes should be close to `rate`")
# (σ², √σ and σ cannot be told apart where σ ≈ 1, as with seed 5: the seeds here draw σ away from 1)
mistake("15.3", "variance", _noise(lambda rng, s, shape: rng.normal(0, s**2, shape)), "standard deviation σ², not σ")
mistake("15.3", "sqrt-sigma", _noise(lambda rng, s, shape: rng.normal(0, s**0.5, shape)),
        "should have standard deviation σ")
mistake("15.3", "sigma-as-mean", _noise(lambda rng, s, shape: rng.normal(s, s, shape)), "should have mean 0")
mistake("15.3", "global-generator", lambda g, r, s, rng: gaussian_mutation(g, r, s, np.random),
        "different results for two generators with the same seed")
mistake("15.3", "in-place", _mutation_in_place, "changed its argument 1 in place")


# ================================================================================== chapter 16
def lif_euler_step(v, current, dt, tau, resistance, v_rest, v_reset, v_threshold, *, leak=-1, reset_to=None,
                   spiked_from=None):
    """``leak``: the sign of (V − V_rest); ``reset_to``: where a spike sends V (default v_reset, "none": no reset);
    ``spiked_from(v, v_new, v_threshold)``: the spike output."""
    v_new = v + (dt / tau) * (leak * (v - v_rest) + resistance * current)
    spiked = v_new >= v_threshold
    after = v_new if reset_to == "none" else np.where(spiked, v_reset if reset_to is None else reset_to, v_new)
    return after, spiked if spiked_from is None else spiked_from(v, v_new, v_threshold)


def _lif(**changes):
    """lif_euler_step with some of its parameters changed by ``changes`` (name → f(args))."""
    names = ("v", "current", "dt", "tau", "resistance", "v_rest", "v_reset", "v_threshold")

    def fn(*args):
        given = dict(zip(names, args))
        return lif_euler_step(**{**given, **{k: f(given) for k, f in changes.items()}})

    return fn


right("16.1", lif_euler_step)
mistake("16.1", "no-reset", lambda *a: lif_euler_step(*a, reset_to="none"), "must be reset to v_reset")
mistake("16.1", "reset-to-rest", lambda *a: lif_euler_step(*a, reset_to=a[5]), "which here differs from v_rest")
mistake("16.1", "no-tau", _lif(tau=lambda p: 1.0), "the division by τ_m is missing")
mistake("16.1", "no-resistance", _lif(current=lambda p: p["current"] / p["resistance"]), "the input enters as R · I")
mistake("16.1", "leak-sign", lambda *a: lif_euler_step(*a, leak=1), "the leak pulls V back *towards* V_rest")
mistake("16.1", "spiked-as-sign", lambda *a: lif_euler_step(*a, spiked_from=lambda v, new, th: np.sign(new - th)),
        "spiked should be a boolean array")
mistake("16.1", "spiked-from-old-v", lambda *a: lif_euler_step(*a, spiked_from=lambda v, new, th: v >= th),
        "spiked returned by")


def lif_interspike_interval(current, tau, resistance, v_rest, v_reset, v_threshold, refractory, *, start=None,
                            upside_down=False, time_constant=True, silent=np.inf):
    """``start``: where each climb starts (default V_reset); ``silent``: the result below the rheobase."""
    v_inf = v_rest + resistance * np.asarray(current, dtype=float)
    fires = v_inf > v_threshold
    gap = np.where(fires, v_inf - v_threshold, 1.0)
    ratio = (v_inf - (v_reset if start is None else start)) / gap
    climb = (tau if time_constant else 1) * np.log(1 / ratio if upside_down else ratio)
    return np.where(fires, refractory + climb, silent)


def _isi_without_care(current, tau, resistance, v_rest, v_reset, v_threshold, refractory):
    v_inf = v_rest + resistance * current
    return refractory + tau * np.log((v_inf - v_reset) / (v_inf - v_threshold))


def _rate(silent):
    """The firing rate 1000/ISI (in Hz) instead of the interval, and ``silent`` below the rheobase."""
    def fn(*args):
        isi = lif_interspike_interval(*args)
        return np.where(np.isfinite(isi), 1000.0 / isi, silent)

    return fn


right("16.2", lif_interspike_interval)
mistake("16.2", "nan-below-rheobase", _isi_without_care, "the interval should be np.inf, not NaN")
mistake("16.2", "zero-below-rheobase", lambda *a: lif_interspike_interval(*a, silent=0.0), "return np.inf there")
mistake("16.2", "no-refractory", lambda *a: lif_interspike_interval(*a[:-1], 0.0),
        "the interval also contains the refractory period")
mistake("16.2", "start-at-rest", lambda *a: lif_interspike_interval(*a, start=a[3]),
        "V starts each climb from V_reset, not from V_rest")
mistake("16.2", "ratio-upside-down", lambda *a: lif_interspike_interval(*a, upside_down=True),
        "the ratio inside the logarithm is upside down")
mistake("16.2", "no-tau", lambda *a: lif_interspike_interval(*a, time_constant=False),
        "multiply the logarithm by the membrane time constant")
mistake("16.2", "rate", _rate(silent=0.0), "return the interval in ms, not the rate")
mistake("16.2", "rate-inf-when-silent", _rate(silent=np.inf), "return the interval in ms, not the rate")


def content_weights(M, k, beta, *, similarity="cosine", strength=lambda beta, s: beta[:, None] * s, axis=-1,
                    normalize=True):
    dots = np.einsum("niw,nw->ni", M, k)
    length = {"cosine": np.linalg.norm(M, axis=-1) * np.linalg.norm(k, axis=-1)[:, None],
              "dot": 1.0, "memory-only": np.linalg.norm(M, axis=-1)}[similarity]
    scores = strength(beta, dots / length)
    return _softmax(scores, axis=axis) if normalize else scores


right("16.3", content_weights)
mistake("16.3", "dot-product", lambda *a: content_weights(*a, similarity="dot"), "not the plain dot product")
mistake("16.3", "memory-length-only", lambda *a: content_weights(*a, similarity="memory-only"),
        "divide by the length of the key too")
mistake("16.3", "no-strength", lambda *a: content_weights(*a, strength=lambda beta, s: s),
        "the key strength β is missing")
mistake("16.3", "softmax-over-batch", lambda *a: content_weights(*a, axis=0), "not over the batch")
mistake("16.3", "no-softmax", lambda *a: content_weights(*a, normalize=False), "with a softmax over the locations")
mistake("16.3", "divided-by-strength", lambda *a: content_weights(*a, strength=lambda beta, s: s / beta[:, None]),
        "multiply the cosine by β, do not divide")


# ================================================================================== the tests
def test_every_exercise_of_chapters_9_to_16_is_covered():
    ids = {i for i in registry.all_exercises() if int(i.split(".")[0]) in CHAPTERS}
    assert ids == set(RIGHT)
    assert ids == {m.exercise for m in MISTAKES}


@pytest.mark.parametrize("exercise_id", sorted(RIGHT, key=lambda i: tuple(map(int, i.split(".")))))
def test_right_answer_passes_with_full_credit(exercise_id):
    for seed in SEEDS:
        result = outcome(exercise_id, RIGHT[exercise_id], seed)
        assert (result.status, result.message, result.credit) == (PASSED, "", 1.0), f"seed {seed}"


@pytest.mark.parametrize("case", MISTAKES, ids=lambda m: f"{m.exercise}-{m.name}")
def test_known_mistake_gets_its_hint(case):
    for seed in case.seeds:
        result = outcome(case.exercise, case.fns, seed)
        assert result.status == FAILED, f"seed {seed}: {result.status} {result.message}"
        assert case.hint in result.message, f"seed {seed}"
        assert result.credit == pytest.approx(case.credit), f"seed {seed}: {result.message}"
