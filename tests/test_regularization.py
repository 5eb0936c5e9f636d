"""Weight penalties and max-norm constraints."""

import numpy as np
import pytest

from coursepkg.gradcheck import numerical_gradient, relative_error
from coursepkg.nn import BatchNorm1d, CrossEntropyLoss, Dense, MSELoss, ReLU, Sequential
from coursepkg.optim import SGD
from coursepkg.regularization import L1, L2, ElasticNet, MaxNorm, PenaltySum, max_norm_, select_parameters
from coursepkg.train import Trainer, fit

rng0 = np.random.default_rng(0)


def _model():
    return Sequential(Dense(3, 4, rng=0, bias_init="normal"), BatchNorm1d(4), ReLU(),
                      Dense(4, 2, rng=1, bias_init="normal")).double()


def test_default_rule_selects_weights_only():
    model = _model()
    chosen = select_parameters(model)
    assert [p.shape for p in chosen] == [(3, 4), (4, 2)]
    assert len(select_parameters(model, which="all")) == 6
    only_first = select_parameters(model, which=lambda name, p: name.startswith("layers.0."))
    assert [p.shape for p in only_first] == [(3, 4), (4,)]
    # an explicit list of parameters is taken as given
    assert len(select_parameters([model[0].b])) == 1


@pytest.mark.parametrize("penalty", [L2(0.7, n=5), L1(0.3, n=5), ElasticNet(0.3, 0.7, n=5),
                                     L2(1.0, n=2, which="all")])
def test_penalty_gradients_match_finite_differences(penalty):
    model = _model()
    for p in model.parameters():
        p.data[np.abs(p.data) < 1e-3] = 0.1  # keep away from the kink of |w|
    model.zero_grad()
    penalty.add_gradient(model)
    for p in model.parameters():
        numeric = numerical_gradient(lambda: penalty.penalty(model), p.data)
        if np.all(numeric == 0):
            assert np.all(p.grad == 0)  # not selected: untouched
        else:
            assert relative_error(p.grad, numeric) < 1e-7


def test_penalty_values():
    w = np.array([[1.0, -2.0], [0.0, 3.0]])
    model = Sequential(Dense(2, 2))
    model[0].W.data[...] = w
    model[0].b.data[...] = 100.0  # biases excluded by default
    assert L2(2.0, n=4).penalty(model) == pytest.approx(2.0 / 8 * 14)
    assert L1(2.0, n=4).penalty(model) == pytest.approx(2.0 / 4 * 6)
    assert (L1(2.0, n=4) + L2(2.0, n=4)).penalty(model) == pytest.approx(0.5 * 6 + 0.25 * 14)
    np.testing.assert_array_equal(L1(4.0, n=4).gradient(w), [[1, -1], [0, 1]])  # sgn(0) = 0


def test_l2_with_sgd_is_weight_decay():
    """w ← (1 − ηλ/n) w − η ∂C₀/∂w, biases ← b − η ∂C₀/∂b."""
    eta, lam, n = 0.1, 3.0, 50
    X, y = rng0.standard_normal((8, 3)), rng0.standard_normal((8, 2))
    model = Sequential(Dense(3, 2, rng=0, bias_init="normal")).double()
    loss = MSELoss()
    W0, b0 = model[0].W.data.copy(), model[0].b.data.copy()
    model.zero_grad()
    loss.forward(model(X), y)
    model.backward(loss.backward())
    gW, gb = model[0].W.grad.copy(), model[0].b.grad.copy()
    trainer = Trainer(model, loss, SGD(model.parameters(), lr=eta), callbacks=[L2(lam, n)], progress=False)
    trainer.train_batch(X, y)
    np.testing.assert_allclose(model[0].W.data, (1 - eta * lam / n) * W0 - eta * gW, rtol=1e-12)
    np.testing.assert_allclose(model[0].b.data, b0 - eta * gb, rtol=1e-12)


def test_l1_shrinks_weights_by_a_constant_amount():
    eta, lam, n = 0.1, 2.0, 10
    model = Sequential(Dense(2, 2, bias=False)).double()
    model[0].W.data[...] = [[1.0, -1.0], [0.0, 5.0]]
    model.zero_grad()  # zero data gradient: only the penalty acts
    L1(lam, n).add_gradient(model)
    SGD(model.parameters(), lr=eta).step()
    np.testing.assert_allclose(model[0].W.data, [[0.98, -0.98], [0.0, 4.98]])


def test_max_norm_clamps_columns_of_dense_weights():
    model = Sequential(Dense(3, 4, rng=0))
    model[0].W.data[...] = 5 * rng0.standard_normal((3, 4))
    model[0].W.data[:, 0] = [0.1, 0.2, 0.0]  # already inside the ball: unchanged
    before = model[0].W.data.copy()
    max_norm_(model, 1.5)
    norms = np.linalg.norm(model[0].W.data, axis=0)
    assert np.all(norms <= 1.5 + 1e-5)
    np.testing.assert_allclose(model[0].W.data[:, 0], before[:, 0])
    np.testing.assert_allclose(norms[1:], 1.5, rtol=1e-5)
    # direction kept
    np.testing.assert_allclose(model[0].W.data[:, 1] / norms[1], before[:, 1] / np.linalg.norm(before[:, 1]),
                               rtol=1e-5)


def test_max_norm_conv_layout_uses_one_norm_per_filter():
    from coursepkg.nn import Parameter
    w = Parameter(rng0.standard_normal((4, 2, 3, 3)) * 3)
    max_norm_([w], 1.0)
    np.testing.assert_allclose(np.sqrt((w.data ** 2).sum(axis=(1, 2, 3))), 1.0, rtol=1e-5)


def test_callbacks_inside_fit_report_penalty_and_respect_constraint():
    X = rng0.standard_normal((60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = Sequential(Dense(3, 8, rng=0), ReLU(), Dense(8, 2, rng=1))
    reg = L2(1.0, n=len(X))
    hist = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=2.0), (X, y), epochs=3, batch_size=10,
               callbacks=[reg, MaxNorm(0.5)], progress=False, rng=0)
    assert len(hist["penalty"]) == 3
    assert hist["penalty"][-1] == pytest.approx(reg.penalty(model), rel=1e-6)
    for layer in (model[0], model[2]):
        assert np.linalg.norm(layer.W.data, axis=0).max() <= 0.5 + 1e-5


def test_strong_l2_shrinks_weights_compared_to_none():
    X = rng0.standard_normal((100, 5)).astype(np.float32)
    y = (X @ rng0.standard_normal(5) > 0).astype(int)
    norms = []
    for cbs in ([], [L2(20.0, n=len(X))]):
        model = Sequential(Dense(5, 10, rng=0), ReLU(), Dense(10, 2, rng=1))
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.5), (X, y), epochs=10, batch_size=10,
            callbacks=cbs, progress=False, rng=0)
        norms.append(sum(float(np.sum(p.data ** 2)) for p in select_parameters(model)))
    assert norms[1] < 0.5 * norms[0]


def test_penalty_sum_and_errors():
    s = L1(1.0, n=3) + L2(1.0, n=3) + L2(2.0, n=3)
    assert isinstance(s, PenaltySum) and len(s.parts) == 3
    with pytest.raises(ValueError, match="training-set size"):
        L2(1.0, n=0)
    with pytest.raises(ValueError, match="lam"):
        L1(-1.0, n=3)
    with pytest.raises(ValueError, match="which"):
        L2(1.0, n=3, which="biases")
    with pytest.raises(ValueError, match="c must be"):
        MaxNorm(0.0)
