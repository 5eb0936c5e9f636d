"""Checkers for chapter 10, deep nets and unstable gradients (``solutions/10_deep_nets.ipynb``).

References come from the package: a ``Sequential`` of linear ``Dense`` layers (10.1),
:func:`coursepkg.diagnostics.layer_gradient_norms` (10.2) and :func:`coursepkg.optim.clip_grad_norm`
(10.3), so the checks also hold the learner's answers against what ``coursepkg`` does.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ...diagnostics import layer_gradient_norms
from ...nn import CrossEntropyLoss, Dense, MSELoss, Sequential, Sigmoid, Tanh
from ...nn.module import Parameter
from ...optim import clip_grad_norm
from ..compare import expect_close, expect_parts, expect_shape, expect_true, fail, matches
from ..registry import exercise


def _quietly(fn, *args):
    with np.errstate(all="ignore"):
        return fn(*args)


_close = partial(matches, rtol=1e-5, atol=1e-9)


# --------------------------------------------------------------------------------------------- 10.1
def _linear_stack(rng, depth):
    sizes = [int(v) for v in rng.choice(np.arange(2, 9), size=depth + 1, replace=depth + 1 > 7)]
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=b) for b in sizes[1:]]
    return weights, biases


def _reference_collapse(weights, biases):
    """The function of the stack as a package network, read off at x = 0 and x = the identity."""
    layers = []
    for W, b in zip(weights, biases):
        dense = Dense(*W.shape, dtype=np.float64)
        dense.W.data[...], dense.b.data[...] = W, b
        layers.append(dense)
    net = Sequential(*layers)
    n_in = weights[0].shape[0]
    b = net(np.zeros((1, n_in)))[0]
    return net(np.eye(n_in)) - b, b


def _check_collapse_case(fn, weights, biases):
    what = "collapse_linear(weights, biases)"
    copies = [w.copy() for w in weights], [b.copy() for b in biases]
    W, b = expect_parts(_quietly(fn, copies[0], copies[1]), ("W", "b"), what)
    want_W, want_b = _reference_collapse(weights, biases)
    # before the shape check: W of a stack of layers of different sizes is not square
    if (np.shape(W) == want_W.T.shape and not _close(want_W, want_W.T)
            and _close(expect_shape(W, want_W.T.shape, "W"), want_W.T)):
        fail("W is transposed: with z = xW + b the layers' matrices multiply left to right, W = W¹W²⋯Wᴸ.")
    W = expect_shape(W, want_W.shape, "W").astype(np.float64)
    expect_close(W, want_W, what="W", rtol=1e-6)
    b = expect_shape(b, want_b.shape, "b").astype(np.float64)
    if len(weights) > 1:
        if _close(b, biases[-1]):
            fail("b is only the last layer's bias: the earlier biases pass through the later layers' weights too, "
                 "e.g. for two layers b = b¹W² + b².")
        prop_no_last = want_b - biases[-1]
        if _close(b, prop_no_last):
            fail("b is missing the last layer's own bias bᴸ: after multiplying by Wᴸ, add bᴸ.")
        if all(bb.shape == biases[-1].shape for bb in biases) and _close(b, sum(biases)):
            fail("you added the biases: each bias is multiplied by the weights of every layer after it, "
                 "b = (⋯((b¹W² + b²)W³ + b³)⋯)Wᴸ + bᴸ.")
    expect_close(b, want_b, what="b", rtol=1e-6)


def _square_stack(rng, depth):
    """Layers of one size: the only stacks whose biases can be added (the known mistake)."""
    size = int(rng.integers(3, 7))
    return [rng.normal(size=(size, size)) for _ in range(depth)], [rng.normal(size=size) for _ in range(depth)]


@exercise("10.1", points=2, title="Collapse a stack of linear layers")
def _check_collapse_linear(fn, rng):
    stacks = [_linear_stack(rng, depth) for depth in (1, int(rng.integers(2, 4)), 5)]
    stacks.insert(1, _square_stack(rng, 3))  # before the others, where the sum of the biases cannot be formed
    for weights, biases in stacks:
        _check_collapse_case(fn, weights, biases)


# --------------------------------------------------------------------------------------------- 10.2
def _random_net(rng):
    depth = int(rng.integers(3, 6))
    act = (Sigmoid, Tanh)[int(rng.integers(2))]
    sizes = [int(rng.integers(5, 12)) for _ in range(depth + 1)]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [Dense(a, b, rng=rng, dtype=np.float64), act()]
    n_out = int(rng.integers(3, 6))
    return Sequential(*layers, Dense(sizes[-1], n_out, rng=rng, dtype=np.float64)), sizes[0], n_out


@exercise("10.2", points=2, title="Per-layer gradient norms")
def _check_bias_gradient_norms(fn, rng):
    net, n_in, n_out = _random_net(rng)
    n = int(rng.integers(8, 20))
    x = rng.normal(size=(n, n_in))
    if rng.random() < 0.5:
        loss, y = CrossEntropyLoss(), rng.integers(0, n_out, size=n)
    else:
        loss, y = MSELoss(), rng.normal(size=(n, n_out))
    want = layer_gradient_norms(net, loss, x, y)
    want_W = layer_gradient_norms(net, loss, x, y, param="W")
    for p in net.parameters():  # stale gradients, as after a training step
        p.grad += rng.normal(size=p.grad.shape)
    what = "bias_gradient_norms(model, loss, x, y)"
    got = _quietly(fn, net, loss, x, y)
    if got is None:
        fail(f"{what} returned None: return the array of norms.")
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        fail(f"{what} returned {got.size} values for a model with {len(want)} Dense layers: one norm per Dense "
             "layer (not per layer of the Sequential, not per parameter), output layer included.")
    if _close(got, want[::-1]):
        fail(f"{what}: the order is reversed: the first entry belongs to the layer next to the input.")
    if _close(got, want_W):
        fail(f"{what}: these are the norms of ∂C/∂W; the exercise asks for the biases' gradients, layer.b.grad.")
    if not _close(got, want):
        fail(f"{what}: the norms are wrong. Did you zero the gradients first? `.grad` still held the previous "
             "step's values, and backward adds to them (model.zero_grad() before the forward pass).")
    again = np.asarray(_quietly(fn, net, loss, x, y), dtype=np.float64)
    expect_true(_close(again, want), f"{what}: a second call gives different numbers: zero the gradients "
                                     "(model.zero_grad()) before the backward pass, since backward adds to .grad.")


# --------------------------------------------------------------------------------------------- 10.3
def _random_grads(rng):
    shapes = [tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 3)))) for _ in range(3)]
    return [rng.normal(size=s) * float(rng.uniform(0.5, 3)) for s in shapes]


def _all_close(arrays, others) -> bool:
    return all(_close(a, b) for a, b in zip(arrays, others))


def _check_clip_case(fn, grads, max_norm):
    what = f"clip_by_global_norm(grads, max_norm={max_norm:.3g})"
    originals = [g.copy() for g in grads]
    params = [Parameter(g.copy()) for g in grads]
    for p, g in zip(params, grads):
        p.grad[...] = g
    want_norm = clip_grad_norm(params, max_norm)
    clipped, norm = expect_parts(_quietly(fn, grads, max_norm), ("clipped", "norm"), what)
    if not all(np.array_equal(g, o) for g, o in zip(grads, originals)):
        fail(f"{what} changed the input arrays in place: build new arrays (g * scale), do not use *=.")
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        fail(f"{what}: `clipped` should be a list with one array per gradient ({len(grads)} here).")
    norm = float(np.asarray(norm))
    if want_norm > max_norm and np.isclose(norm, max_norm, rtol=1e-6):
        fail(f"{what}: return the norm *before* clipping (it shows how large the gradients really were).")
    if np.isclose(norm, want_norm**2, rtol=1e-6):
        fail(f"{what}: `norm` is the sum of squares; take its square root.")
    if np.isclose(norm, max(np.linalg.norm(g) for g in grads), rtol=1e-6) and len(grads) > 1:
        fail(f"{what}: `norm` should be the global norm of all arrays together, √(Σ_p Σ_i g²), not one array's norm.")
    expect_close(norm, want_norm, what="norm", rtol=1e-6)
    clipped = [expect_shape(got, g.shape, f"clipped[{i}]").astype(np.float64) for i, (got, g) in
               enumerate(zip(clipped, grads))]
    if want_norm > max_norm:
        # each mistake is judged on all the arrays: one array alone can match another mistake by chance (an array
        # below max_norm is left as it is by clipping by its own norm, and by clipping by value)
        for variant, hint in [
            (lambda g: g * min(1.0, max_norm / np.linalg.norm(g)),
             "you clipped each array by its own norm; all arrays must share one factor, max_norm / ‖g‖ with the "
             "global norm, so the direction of the whole step is kept."),
            (lambda g: np.clip(g, -max_norm, max_norm),
             "you clipped every component to [−max_norm, max_norm] (clipping by value); rescale the arrays "
             "instead: g · max_norm / ‖g‖."),
            (lambda g: g * want_norm / max_norm,
             "the factor is upside down: multiply by max_norm / ‖g‖ (which is < 1)."),
        ]:
            wrong = [variant(g) for g in grads]
            if _all_close(clipped, wrong) and not _all_close([p.grad for p in params], wrong):
                fail(f"{what}: {hint}")
    for i, (got, want, g) in enumerate(zip(clipped, params, grads)):
        if want_norm <= max_norm and not _close(got, g):
            fail(f"{what}: the global norm {want_norm:.3g} is already below max_norm, so the gradients must be "
                 "returned unchanged.")
        expect_close(got, want.grad, what=f"clipped[{i}]", rtol=1e-6)


@exercise("10.3", points=2, title="Clip by global norm")
def _check_clip_by_global_norm(fn, rng):
    grads = _random_grads(rng)
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    biggest = max(np.linalg.norm(g) for g in grads)
    _check_clip_case(fn, grads, float(rng.uniform(0.3, 0.9)) * biggest)  # the largest array above the limit too
    _check_clip_case(fn, _random_grads(rng), total * 1e3)  # far below: unchanged
