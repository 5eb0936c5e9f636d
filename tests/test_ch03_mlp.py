"""Chapter 3: the published 784-30-10 sigmoid MLP learns MNIST, the chapter's checkers tell right
from wrong backprop code with specific hints, and its plotting helpers draw."""

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from coursepkg.data import load_mnist, one_hot
from coursepkg.grading import CheckFailed, verdict
from coursepkg.grading.registry import get as get_exercise
from coursepkg.nn import Dense, MSELoss, Sequential, Sigmoid
from coursepkg.nn import functional as F
from coursepkg.optim import SGD
from coursepkg.train import accuracy, fit

matplotlib.use("Agg")


def test_published_mlp_learns_mnist_in_one_epoch():
    root = os.environ.get("COURSEPKG_DATA")
    if not root or not (Path(root) / "mnist").is_dir():
        pytest.skip("MNIST absent: set COURSEPKG_DATA to a folder holding mnist/")
    (X, y), _, (X_test, y_test) = load_mnist(progress=False)
    net = Sequential(Dense(784, 30, init="normal", bias_init="normal", rng=1), Sigmoid(),
                     Dense(30, 10, init="normal", bias_init="normal", rng=2), Sigmoid())
    assert accuracy(net(X_test), y_test) < 0.3  # untrained: about chance
    fit(net, MSELoss(), SGD(net.parameters(), lr=3.0), (X, one_hot(y, 10)), epochs=1, batch_size=10,
        rng=0, progress=False, eval_train=False)
    assert accuracy(net(X_test), y_test) > 0.88


# ------------------------------------------------------------------------------ the checkers
def _run(exercise_id, fn, seed=0):
    return verdict(exercise_id, fn, seed=seed)


def output_delta(z, y):
    a = F.sigmoid(z)
    return (a - y) / len(z) * a * (1 - a)


def dense_backward(x, W, delta):
    return x.T @ delta, delta.sum(axis=0), delta @ W.T


def make_backprop(hidden_prime=True, out_scale=1.0):
    def backprop(x, y, weights, biases):
        acts = [x]
        for W, b in zip(weights, biases):
            acts.append(F.sigmoid(acts[-1] @ W + b))
        delta = (acts[-1] - y) / len(x) * out_scale * acts[-1] * (1 - acts[-1])
        grads_W, grads_b = [None] * len(weights), [None] * len(weights)
        for layer in reversed(range(len(weights))):
            grads_W[layer], grads_b[layer] = acts[layer].T @ delta, delta.sum(axis=0)
            if layer:
                delta = delta @ weights[layer].T
                if hidden_prime:
                    delta = delta * acts[layer] * (1 - acts[layer])
        return grads_W, grads_b
    return backprop


@pytest.mark.parametrize("seed", range(5))
def test_checkers_pass_right_answers(seed):
    assert _run("3.1", output_delta, seed) == ""
    assert _run("3.2", dense_backward, seed) == ""
    assert _run("3.3", make_backprop(), seed) == ""


@pytest.mark.parametrize("exercise_id, fn, hint", [
    ("3.1", lambda z, y: (F.sigmoid(z) - y) / len(z), "left out σ'"),
    ("3.1", lambda z, y: output_delta(z, y) * len(z), "times too large"),
    ("3.1", lambda z, y: -output_delta(z, y), "sign"),
    ("3.2", lambda x, W, d: (d.T @ x, d.sum(axis=0), d @ W.T), "transposed"),
    ("3.2", lambda x, W, d: (x.T @ d, d.sum(axis=1), d @ W.T), "axis=0"),
    ("3.2", lambda x, W, d: (x.T @ d, d.mean(axis=0), d @ W.T), "times too small"),
    ("3.2", lambda x, W, d: (x.T @ d, d.sum(axis=0), d @ W), "W where Wᵀ"),
    ("3.3", make_backprop(hidden_prime=False), "missing the factor σ'"),
    ("3.3", make_backprop(out_scale=0.5), "grads_W"),
    ("3.3", lambda x, y, Ws, bs: tuple(g[::-1] for g in make_backprop()(x, y, Ws, bs)), "reverse order"),
])
def test_checkers_reject_mistakes_with_a_specific_hint(exercise_id, fn, hint):
    message = _run(exercise_id, fn)
    assert hint in message, message


def test_partial_credit_when_only_the_hidden_layers_are_wrong():
    with pytest.raises(CheckFailed) as err:
        get_exercise("3.3").checker(make_backprop(hidden_prime=False), np.random.default_rng(1))
    assert err.value.partial == 0.5


# ------------------------------------------------------------------------------ plotting helpers
def test_compute_graph_and_confusion_matrix_draw():
    import matplotlib.pyplot as plt

    from coursepkg.viz import plot_compute_graph, plot_confusion_matrix

    ax = plot_compute_graph({"x": (0, 1, "x"), "y": (0, 0, "y"), "f": (1, 0.5, "+")}, [("x", "f"), ("y", "f")],
                            values={"x": 4, "y": 2, "f": 6}, grads={"x": 1, "y": 1, "f": 1})
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("1") == 3 and {"4", "2", "6", "+"} <= set(texts)
    counts = np.array([[5, 1], [0, 7]])
    ax = plot_confusion_matrix(counts)
    assert [t.get_text() for t in ax.texts] == ["5", "1", "0", "7"]
    plt.close("all")
