"""The perceptron rule and the delta rule (coursepkg.perceptron)."""

import numpy as np
import pytest

from coursepkg.data import logic_gate
from coursepkg.gradcheck import numerical_gradient, relative_error
from coursepkg.nn import Dense, MSELoss
from coursepkg.perceptron import MODES, Perceptron, delta_rule, delta_rule_error, delta_rule_gradient, perceptron_update


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
@pytest.mark.parametrize("mode", MODES)
def test_perceptron_learns_separable_gates(gate, mode):
    X, t = logic_gate(gate)
    p = Perceptron(2)
    trajectory = p.fit(X, t, epochs=50, mode=mode, rng=0)
    assert trajectory.converged
    np.testing.assert_array_equal(p(X), t)
    assert trajectory.errors[-1] == 0 and len(trajectory.w) == trajectory.epochs + 1


@pytest.mark.parametrize("mode", MODES)
def test_perceptron_never_converges_on_xor(mode):
    X, t = logic_gate("xor")
    p = Perceptron(2)
    trajectory = p.fit(X, t, epochs=200, mode=mode, rng=1)
    assert not trajectory.converged and trajectory.epochs == 200
    assert trajectory.errors.min() >= 1  # no line gets all four right


def test_perceptron_update_equation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    t = rng.integers(0, 2, size=7).astype(float)
    w, b = rng.normal(size=3), 0.3
    new_w, new_b = perceptron_update(w, b, X, t, lr=0.5)
    a = (X @ w + b > 0).astype(float)
    expected_w = w.copy()
    expected_b = b
    for x, target, out in zip(X, t, a):  # the rule example by example, all against the old weights
        expected_w += 0.5 * (target - out) * x
        expected_b += 0.5 * (target - out)
    np.testing.assert_allclose(new_w, expected_w)
    assert new_b == pytest.approx(expected_b)
    assert not np.shares_memory(new_w, w)


def test_perceptron_rule_does_nothing_when_right():
    X, t = logic_gate("and")
    w, b = np.array([1.0, 1.0]), -1.5
    new_w, new_b = perceptron_update(w, b, X, t)
    np.testing.assert_array_equal(new_w, w)
    assert new_b == b


def test_delta_rule_gradient_matches_numerical_and_mse_dense():
    rng = np.random.default_rng(1)
    X, t = rng.normal(size=(9, 3)), rng.normal(size=9)
    w, b = rng.normal(size=3), -0.2
    gw, gb = delta_rule_gradient(w, b, X, t)
    num_w = numerical_gradient(lambda: float(delta_rule_error(X, t, w, b)), w)
    assert relative_error(gw, num_w) < 1e-6
    # the same neuron as a Dense(3, 1) layer with the course's quadratic cost
    layer = Dense(3, 1, dtype=np.float64)
    layer.W.data[:, 0], layer.b.data[:] = w, b
    loss = MSELoss()
    assert loss(layer(X), t[:, None]) == pytest.approx(float(delta_rule_error(X, t, w, b)))
    layer.backward(loss.backward())
    np.testing.assert_allclose(layer.W.grad[:, 0], gw)
    assert layer.b.grad[0] == pytest.approx(gb)


def test_delta_rule_error_on_a_grid_of_weights():
    rng = np.random.default_rng(2)
    X, t = rng.normal(size=(6, 2)), rng.normal(size=6)
    grid = rng.normal(size=(5, 2))
    np.testing.assert_allclose(delta_rule_error(X, t, grid, 0.1),
                               [delta_rule_error(X, t, w, 0.1) for w in grid])


@pytest.mark.parametrize("mode", MODES)
def test_delta_rule_finds_least_squares_weights(mode):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    t = X @ np.array([2.0, -1.0]) + 0.5 + 0.05 * rng.normal(size=40)
    trajectory = delta_rule(X, t, lr=0.05 if mode == "online" else 0.3, epochs=200, mode=mode, rng=0)
    A = np.column_stack([X, np.ones(len(X))])
    best = np.linalg.lstsq(A, t, rcond=None)[0]
    np.testing.assert_allclose(np.r_[trajectory.w[-1], trajectory.b[-1]], best, atol=0.05)
    assert trajectory.errors[-1] <= trajectory.errors[0]


def test_delta_rule_records_every_online_step_and_diverges_loudly():
    X, t = np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([1.0, 0.0])
    trajectory = delta_rule(X, t, lr=0.1, epochs=3, mode="online", record_steps=True, rng=0, bias=False)
    assert trajectory.steps.shape == (1 + 3 * 2, 2)
    assert np.all(trajectory.b == 0)
    with pytest.raises(FloatingPointError, match="too large"):
        delta_rule(X * 1e3, t, lr=10.0, epochs=200)


def test_errors_are_helpful():
    p = Perceptron(2)
    with pytest.raises(ValueError, match="0 or 1"):
        p.fit(np.zeros((2, 2)), [-1, 1])
    with pytest.raises(ValueError, match="mode"):
        p.fit(np.zeros((2, 2)), [0, 1], mode="minibatch")
    with pytest.raises(NotImplementedError, match="perceptron rule"):
        p.backward(np.zeros(2))
    with pytest.raises(ValueError, match="3 rows"):
        delta_rule_gradient(np.zeros(2), 0.0, np.zeros((3, 2)), np.zeros(4))
