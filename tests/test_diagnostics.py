"""Per-layer diagnostics: layer outputs and gradient norms of a Sequential."""

import numpy as np
import pytest

from coursepkg.diagnostics import dense_layers, layer_gradient_norms, layer_outputs
from coursepkg.nn import CrossEntropyLoss, Dense, MSELoss, ReLU, Sequential, Sigmoid
from coursepkg.nn import functional as F


def _sigmoid_net(depth, width=20, init="scaled_normal", seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    n_in = 8
    for _ in range(depth):
        layers += [Dense(n_in, width, init=init, rng=rng, dtype=np.float64), Sigmoid()]
        n_in = width
    return Sequential(*layers, Dense(n_in, 3, init=init, rng=rng, dtype=np.float64))


def test_layer_outputs_match_a_hand_forward_pass():
    net = _sigmoid_net(2)
    x = np.random.default_rng(1).normal(size=(5, 8))
    outs = layer_outputs(net, x)
    assert len(outs) == len(net)
    d1, d2, _ = dense_layers(net)
    z1 = x @ d1.W.data + d1.b.data
    a1 = F.sigmoid(z1)
    z2 = a1 @ d2.W.data + d2.b.data
    np.testing.assert_allclose(outs[0], z1)
    np.testing.assert_allclose(outs[1], a1)
    np.testing.assert_allclose(outs[2], z2)
    np.testing.assert_allclose(outs[-1], net(x))


def test_gradient_norms_equal_the_norms_of_backprop_gradients():
    net = _sigmoid_net(3)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(7, 8)), rng.integers(0, 3, size=7)
    norms_b = layer_gradient_norms(net, CrossEntropyLoss(), x, y)
    want_b = [np.linalg.norm(d.b.grad) for d in dense_layers(net)]
    norms_w = layer_gradient_norms(net, CrossEntropyLoss(), x, y, param="W")
    want_w = [np.linalg.norm(d.W.grad) for d in dense_layers(net)]
    assert norms_b.shape == (4,) and norms_w.shape == (4,)
    np.testing.assert_allclose(norms_b, want_b)
    np.testing.assert_allclose(norms_w, want_w)
    # calling twice gives the same numbers: gradients are zeroed, not accumulated
    np.testing.assert_allclose(layer_gradient_norms(net, CrossEntropyLoss(), x, y), norms_b)
    # ∂C/∂b of the last layer of a softmax cross-entropy net is Σₖ (pₖ − yₖ)/n
    p = F.softmax(net(x), axis=1)
    np.testing.assert_allclose(norms_b[-1], np.linalg.norm((p - np.eye(3)[y]).sum(axis=0) / 7))


def test_deep_sigmoid_gradients_vanish_and_relu_he_gradients_do_not():
    rng = np.random.default_rng(3)
    x, y = rng.random((64, 8)), rng.integers(0, 3, size=64)
    sig = layer_gradient_norms(_sigmoid_net(8, width=30), CrossEntropyLoss(), x, y)
    assert sig[0] < 1e-2 * sig[-2], sig  # the first layer learns > 100× slower than the last hidden

    layers, n_in = [], 8
    for _ in range(8):
        layers += [Dense(n_in, 30, init="he", rng=rng, dtype=np.float64), ReLU()]
        n_in = 30
    relu = layer_gradient_norms(Sequential(*layers, Dense(30, 3, init="he", rng=rng, dtype=np.float64)),
                                CrossEntropyLoss(), x, y)
    assert relu[0] > 0.1 * relu[-2], relu


def test_bad_arguments_raise_helpful_errors():
    net = _sigmoid_net(1)
    x, y = np.zeros((2, 8)), np.zeros((2, 3))
    with pytest.raises(ValueError, match="param must be"):
        layer_gradient_norms(net, MSELoss(), x, y, param="z")
    with pytest.raises(ValueError, match="no bias"):
        layer_gradient_norms(Sequential(Dense(8, 3, bias=False)), MSELoss(), x, y)
    with pytest.raises(ValueError, match="no Dense"):
        layer_gradient_norms(Sequential(Sigmoid()), MSELoss(), x, y)
    with pytest.raises(TypeError, match="Sequential"):
        layer_outputs(Dense(8, 3), x)
