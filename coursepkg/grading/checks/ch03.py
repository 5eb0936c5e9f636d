"""Checkers for chapter 3, feed-forward nets and backpropagation (``solutions/03_feedforward_and_backprop.ipynb``).

The references are computed by the package's own modules (``Dense``, ``Sigmoid``, ``MSELoss``)
in float64, so these checks also hold the learner's equations against what ``coursepkg`` does.
The cost is always the quadratic cost averaged over the batch, C = (1/n) Σₖ ½‖yₖ − aₖ‖², so
∇ₐC = (a − y)/n and every δ carries that 1/n.
"""

from __future__ import annotations

import numpy as np

from ...data import one_hot
from ...nn import Dense, MSELoss, Sequential, Sigmoid
from ...nn import functional as F
from ..compare import expect_close, expect_shape, fail
from ..registry import exercise


def _quietly(fn, *args):
    """Call the learner's function with NumPy warnings silenced (the result is judged instead)."""
    with np.errstate(all="ignore"):
        return fn(*args)


def _sigmoid_prime(z):
    s = F.sigmoid(z)
    return s * (1 - s)


def _batch(rng, *sizes):
    """A batch size that is none of the layer ``sizes``, so that shapes and a factor n tell axes apart."""
    return int(rng.choice([n for n in range(5, 11) if n not in sizes]))


def _matches(got, wrong) -> bool:
    return np.shape(got) == np.shape(wrong) and np.allclose(got, wrong, rtol=1e-4, atol=1e-9)


# ---------------------------------------------------------------------------------------------- 3.1
def _reference_output_delta(z, y):
    """δᴸ from the package: MSELoss gives ∇ₐC, the Sigmoid module multiplies by σ'(z)."""
    sigmoid, loss = Sigmoid(), MSELoss()
    loss.forward(sigmoid(z), y)
    return sigmoid.backward(loss.backward())


@exercise("3.1", points=1, title="The output layer's error δᴸ")
def _check_output_delta(fn, rng):
    k = int(rng.integers(2, 5))
    n = _batch(rng, k)
    z = rng.normal(size=(n, k)) * 2
    y = one_hot(rng.integers(0, k, size=n), k, dtype=np.float64)
    got = expect_shape(_quietly(fn, z, y), (n, k), "output_delta(z, y)").astype(np.float64)
    a, sp = F.sigmoid(z), _sigmoid_prime(z)
    for wrong, hint in (
        ((a - y) / n, "you left out σ'(zᴸ): the output units are sigmoids, so δᴸ = ∇ₐC ⊙ σ'(zᴸ) (BP1)."),
        ((a - y) * sp, f"your δᴸ is n = {n} times too large (n is the batch size): C is the *mean* "
                       "cost over the batch, so ∇ₐC = (a − y)/n."),
        ((a - y) * sp / (n * k), f"you divided by n·k = {n * k} (a mean over every entry): the cost "
                                 "sums over the k output units and averages over the n examples only."),
        ((y - a) * sp / n, "the sign is wrong: for C = ½‖y − a‖² the gradient is ∂C/∂a = (a − y)/n, "
                           "not (y − a)/n."),
        ((a - y) * _sigmoid_prime(a) / n, "you evaluated σ' at a = σ(z) instead of at z: "
                                          "σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)."),
        ((z - y) * sp / n, "you used the net input z in (a − y): compare the activation a = σ(z) "
                           "with the target."),
    ):
        if _matches(got, wrong):
            fail(f"output_delta: {hint}")
    expect_close(got, _reference_output_delta(z, y), what="output_delta(z, y)", inputs={"z": z, "y": y})


# ---------------------------------------------------------------------------------------------- 3.2
def _three_arrays(got, what: str, names: tuple[str, ...]):
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        fail(f"{what} should return {len(names)} arrays, ({', '.join(names)}), in that order: "
             f"`return {', '.join(names)}`.")
    return got


def _floats(value, what: str) -> np.ndarray:
    """The learner's value as a float64 array (a specific failure for None or non-numbers)."""
    return expect_shape(value, np.shape(value) if value is not None else (), what).astype(np.float64)


def _check_dense_case(fn, rng, n, n_in, n_out):
    x = rng.normal(size=(n, n_in))
    W = rng.normal(size=(n_in, n_out))
    delta = rng.normal(size=(n, n_out))
    layer = Dense(n_in, n_out, dtype=np.float64)
    layer.W.data[...] = W
    layer.forward(x)
    want_dx = layer.backward(delta)
    want_dW, want_db = layer.W.grad, layer.b.grad
    what = "dense_backward(x, W, delta)"
    dW, db, dx = _three_arrays(_quietly(fn, x.copy(), W.copy(), delta.copy()), what, ("dW", "db", "dx"))
    inputs = {"x": x, "W": W, "delta": delta}

    dW = _floats(dW, "dW")
    if _matches(dW, want_dW.T):
        fail(f"dW is transposed: ∂C/∂W = xᵀ δ (BP4) has W's shape {W.shape}; δᵀ x is its transpose.")
    if _matches(dW, want_dW / n):
        fail(f"dW is n = {n} times too small: δ already carries the 1/n of the mean cost, so BP4 *sums* "
             "over the batch: ∂C/∂W = xᵀ δ, no division.")
    expect_close(dW, want_dW, what="dW", inputs=inputs)

    db = _floats(db, "db")
    if db.shape == (n,):
        fail("db has one value per example: you summed δ over axis=1 (the units). The bias gradient "
             "sums over the batch, axis=0 (BP3).")
    if db.shape == (1, n_out):
        fail(f"db has shape {db.shape}; it should be a vector of shape ({n_out},) like b: "
             "sum over axis=0 without keepdims.")
    if _matches(db, want_db / n):
        fail(f"db is n = {n} times too small: you averaged δ over the batch, but BP3 sums it "
             "(δ already carries the 1/n of the mean cost).")
    expect_close(db, want_db, what="db", inputs=inputs)

    dx = _floats(dx, "dx")
    if n_in == n_out and _matches(dx, delta @ W):
        fail("dx uses W where Wᵀ belongs: ∂C/∂x = δ Wᵀ, because xᵢ reaches output j through W[i, j].")
    expect_close(dx, want_dx, what="dx", inputs=inputs)


@exercise("3.2", points=2, title="Backpropagation through a dense layer")
def _check_dense_backward(fn, rng):
    size = int(rng.integers(2, 5))
    _check_dense_case(fn, rng, _batch(rng, size), size, size)  # square W: a W for a Wᵀ runs, and is caught
    n_in, n_out = (int(v) for v in rng.choice(np.arange(2, 7), size=2, replace=False))
    _check_dense_case(fn, rng, _batch(rng, n_in, n_out), n_in, n_out)


# ---------------------------------------------------------------------------------------------- 3.3
def _reference_backprop(x, y, weights, biases):
    """Gradients of the mean quadratic cost of a sigmoid net, from the package's modules."""
    layers = []
    for W, b in zip(weights, biases):
        dense = Dense(*W.shape, dtype=np.float64)
        dense.W.data[...], dense.b.data[...] = W, b
        layers += [dense, Sigmoid()]
    net, loss = Sequential(*layers), MSELoss()
    loss.forward(net(x), y)
    net.backward(loss.backward())
    return [d.W.grad for d in layers[::2]], [d.b.grad for d in layers[::2]]


def _variant_backprop(x, y, weights, biases, hidden_prime=True, transpose=True):
    """BP1-BP4 with a deliberate mistake in the backward step (BP2), to recognize it."""
    acts = [x]
    for W, b in zip(weights, biases):
        acts.append(F.sigmoid(acts[-1] @ W + b))
    delta = (acts[-1] - y) / len(x) * acts[-1] * (1 - acts[-1])
    gW, gb = [], []
    for layer in reversed(range(len(weights))):
        gW.insert(0, acts[layer].T @ delta)
        gb.insert(0, delta.sum(axis=0))
        if layer == 0:
            break
        W = weights[layer]
        delta = delta @ (W.T if transpose else W)
        if hidden_prime:
            delta = delta * acts[layer] * (1 - acts[layer])
    return gW, gb


def _gradient_lists(got, depth: int):
    what = "backprop(x, y, weights, biases)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{what} should return two lists, (grads_W, grads_b): `return grads_W, grads_b`.")
    grads_W, grads_b = got
    for name, grads in (("grads_W", grads_W), ("grads_b", grads_b)):
        if not isinstance(grads, (tuple, list)) or len(grads) != depth:
            fail(f"{what}: {name} should be a list with one gradient per layer ({depth} for this "
                 f"network), received {type(grads).__name__}"
                 + (f" of length {len(grads)}." if isinstance(grads, (tuple, list)) else "."))
    return grads_W, grads_b


def _check_backprop_case(fn, rng, sizes, n):
    depth = len(sizes) - 1
    x = rng.normal(size=(n, sizes[0]))
    y = one_hot(rng.integers(0, sizes[-1], size=n), sizes[-1], dtype=np.float64)
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=b) * 0.5 for b in sizes[1:]]
    want_W, want_b = _reference_backprop(x, y, weights, biases)
    got = _quietly(fn, x.copy(), y.copy(), [W.copy() for W in weights], [b.copy() for b in biases])
    got_W, got_b = _gradient_lists(got, depth)
    shapes = [np.shape(g) for g in got_W]
    reversed_shapes = shapes == [w.shape for w in want_W[::-1]] and shapes != [w.shape for w in want_W]
    if depth > 1 and (reversed_shapes or all(_matches(g, w) for g, w in zip(got_W, want_W[::-1]))):
        fail("your lists are in reverse order: grads_W[l] must be the gradient of weights[l] "
             "(the first layer first), even though backprop computes the last layer first.")
    top = depth - 1
    a_below = x
    for W, b in zip(weights[:-1], biases[:-1]):
        a_below = F.sigmoid(a_below @ W + b)
    a_out = F.sigmoid(a_below @ weights[-1] + biases[-1])
    for wrong_delta, hint in (
        ((a_out - y) / n, "the output error δᴸ is missing σ'(zᴸ): δᴸ = (a − y)/n ⊙ σ'(zᴸ) (BP1)."),
        ((a_out - y) * a_out * (1 - a_out), f"the output error δᴸ is n = {n} times too large: the cost is "
                                            "the mean over the batch, so ∇ₐC = (a − y)/n."),
        ((y - a_out) / n * a_out * (1 - a_out), "the sign is wrong: ∇ₐC = (a − y)/n, not (y − a)/n."),
    ):
        if _matches(got_W[top], a_below.T @ wrong_delta):
            fail(f"backprop: {hint}")
    expect_close(got_W[top], want_W[top], what=f"grads_W[{top}] (the output layer's)")
    expect_close(got_b[top], want_b[top], what=f"grads_b[{top}] (the output layer's)")
    if depth == 1:
        return
    for hint, kwargs in (
        ("the hidden layers' δ is missing the factor σ'(zˡ): δˡ = (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ σ'(zˡ) (BP2).",
         {"hidden_prime": False}),
        ("the backward step uses Wˡ⁺¹ where its transpose belongs: δˡ = (δˡ⁺¹ Wˡ⁺¹ᵀ) ⊙ σ'(zˡ).",
         {"transpose": False}),
    ):
        try:
            var_W, var_b = _variant_backprop(x, y, weights, biases, **kwargs)
        except ValueError:  # the mistake does not even fit these shapes
            continue
        if all(_matches(g, v) for g, v in zip(got_W, var_W)):
            fail(f"The output layer's gradients are right, but {hint}", partial=0.5)
    for layer in reversed(range(top)):
        for got_l, want_l, name in ((got_W, want_W, "grads_W"), (got_b, want_b, "grads_b")):
            try:
                expect_close(got_l[layer], want_l[layer], what=f"{name}[{layer}] (layer {layer + 1} of {depth})")
            except AssertionError as err:
                fail(f"The output layer's gradients are right, but not the hidden layers': {err}", partial=0.5)


@exercise("3.3", points=3, title="The gradient of a whole network")
def _check_backprop(fn, rng):
    def size():
        return int(rng.integers(2, 7))

    n = _batch(rng, *range(2, 7))
    _check_backprop_case(fn, rng, [size(), size()], n)  # one layer: BP1, BP3, BP4 only
    square = size()
    _check_backprop_case(fn, rng, [size(), square, square, square], n)  # square W², W³: W for Wᵀ runs
    _check_backprop_case(fn, rng, [size(), size(), size()], n)  # one hidden layer, any sizes
