"""Chapter 11: a small LeNet-style CNN learns MNIST, its gradients are right end to end, and the
chapter's checkers tell right from wrong convolution/pooling code with specific hints."""

import os
from pathlib import Path

import numpy as np
import pytest

from coursepkg.data import load_mnist
from coursepkg.gradcheck import check_model
from coursepkg.grading import CheckFailed, verdict
from coursepkg.grading.registry import get as get_exercise
from coursepkg.nn import Conv2D, CrossEntropyLoss, Dense, Flatten, MaxPool2D, ReLU, Sequential
from coursepkg.nn.conv_reference import conv2d_naive
from coursepkg.optim import Adam
from coursepkg.train import accuracy, fit


def small_lenet(c1, c2, hidden, side=28, rng=0):
    """conv(5×5)–ReLU–maxpool(2)–conv(5×5)–ReLU–maxpool(2)–dense–ReLU–dense(10) for side × side images."""
    rng = np.random.default_rng(rng)
    after = ((side - 4) // 2 - 4) // 2
    return Sequential(Conv2D(1, c1, 5, rng=rng), ReLU(), MaxPool2D(2), Conv2D(c1, c2, 5, rng=rng), ReLU(),
                      MaxPool2D(2), Flatten(), Dense(c2 * after * after, hidden, init="he", rng=rng), ReLU(),
                      Dense(hidden, 10, rng=rng))


def test_lenet_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    model = small_lenet(2, 3, 5, side=16, rng=2)  # maps 16 → 12 → 6 → 2 → 1
    X = rng.normal(size=(3, 1, 16, 16))
    y = np.array([0, 3, 7])
    assert check_model(model, CrossEntropyLoss(), X, y).max_error < 1e-6


def test_small_lenet_learns_mnist_in_one_epoch():
    root = os.environ.get("COURSEPKG_DATA")
    if not root or not (Path(root) / "mnist").is_dir():
        pytest.skip("MNIST absent: set COURSEPKG_DATA to a folder holding mnist/")
    (X, y), _, (X_test, y_test) = load_mnist(flatten=False, progress=False)
    model = small_lenet(6, 12, 64, rng=1)
    assert accuracy(model(X_test[:2000]), y_test[:2000]) < 0.3  # untrained: about chance
    fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=2e-3), (X[:6000], y[:6000]), epochs=1,
        batch_size=32, rng=0, progress=False, eval_train=False)
    assert accuracy(model(X_test[:2000]), y_test[:2000]) > 0.9


# ------------------------------------------------------------------------------ the checkers
def _run(exercise_id, fn, seed=0):
    return verdict(exercise_id, fn, seed=seed)


def _pad(mode, k):
    return {"valid": 0, "same": k // 2, "full": k - 1}[mode]


def conv2d(x, W, b, mode="valid"):
    p = _pad(mode, W.shape[2])
    return conv2d_naive(x, W, b, padding=p)


def max_pool_backward(x, grad_out, size):
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // size, size, w // size, size).transpose(0, 1, 2, 4, 3, 5)
    flat = windows.reshape(*windows.shape[:4], -1)
    grad = np.zeros_like(flat)
    np.put_along_axis(grad, np.argmax(flat, axis=-1)[..., None], grad_out[..., None], axis=-1)
    return grad.reshape(windows.shape).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)


def conv2d_backward(x, W, grad_out):
    k, (oh, ow) = W.shape[2], grad_out.shape[2:]
    grad_x, grad_W = np.zeros(x.shape), np.zeros(W.shape)
    for a in range(k):
        for c in range(k):
            grad_W[:, :, a, c] = np.einsum("nfij,ncij->fc", grad_out, x[:, :, a:a + oh, c:c + ow])
            grad_x[:, :, a:a + oh, c:c + ow] += np.einsum("nfij,fc->ncij", grad_out, W[:, :, a, c])
    return grad_x, grad_W, grad_out.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_right_answers_pass(seed):
    assert _run("11.1", conv2d, seed) == ""
    assert _run("11.2", max_pool_backward, seed) == ""
    assert _run("11.3", conv2d_backward, seed) == ""


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, W, b, mode="valid": conv2d(x, W[:, :, ::-1, ::-1], b, mode), "flipped"),
    (lambda x, W, b, mode="valid": conv2d(x, W, 0 * b, mode), "bias is missing"),
    (lambda x, W, b, mode="valid": conv2d(x, W, b, "full" if mode == "same" else mode), "border mode 'full'"),
    (lambda x, W, b, mode="valid": conv2d(x, W, b, mode)[:, :, 1:, 1:], "off by one"),
])
def test_conv2d_mistakes_get_specific_hints(wrong, hint):
    assert hint in _run("11.1", wrong)


def _to_every_maximum(x, grad_out, size):
    def up(t):
        return np.repeat(np.repeat(t, size, axis=2), size, axis=3)
    n, c, h, w = x.shape
    return up(grad_out) * (x == up(x.reshape(n, c, h // size, size, w // size, size).max(axis=(3, 5))))


def test_max_pool_mistakes_get_specific_hints():
    spread = _run("11.2", lambda x, g, s: np.repeat(np.repeat(g, s, axis=2), s, axis=3) / s**2)
    assert "average" in spread
    assert "ties" in _run("11.2", _to_every_maximum)


def test_conv_backward_mistakes_get_specific_hints_and_partial_credit():
    def unrotated(x, W, g):
        _, grad_W, grad_b = conv2d_backward(x, W, g)
        k = W.shape[2]
        return conv2d_naive(g, W.transpose(1, 0, 2, 3), padding=k - 1), grad_W, grad_b

    assert "rotated by 180°" in _run("11.3", unrotated)
    with pytest.raises(CheckFailed) as err:
        get_exercise("11.3").checker(lambda x, W, g: (*conv2d_backward(x, W, g)[:2], g.sum(axis=(2, 3))),
                                     np.random.default_rng(0))
    assert "sum over the batch" in str(err.value) and err.value.partial == pytest.approx(2 / 3)
