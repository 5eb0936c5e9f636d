"""SGLD: the update equation by hand, the stationary distribution on a Gaussian posterior, errors."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from coursepkg.callbacks import PosteriorSamples
from coursepkg.nn import Dense, MSELoss, Parameter, Sequential, Tanh
from coursepkg.optim import (
    SGD,
    SGLD,
    parameters_to_vector,
    posterior_predictions,
    vector_to_parameters,
)
from coursepkg.regularization import L2
from coursepkg.train import Trainer, fit


def weight_and_bias(dtype):
    rng = np.random.default_rng(5)
    W, b = Parameter(rng.normal(size=(3, 2)).astype(dtype)), Parameter(rng.normal(size=2).astype(dtype))
    W.grad[...] = rng.normal(size=(3, 2))
    b.grad[...] = rng.normal(size=2)
    return W, b


# ----------------------------------------------------------------------------- the update equation
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("which", ["all", "weights"])
def test_one_step_is_the_update_equation(dtype, which):
    """θ ← θ − (η/2)(n ∂C/∂θ + λθ) + √(ηT) ξ, with ξ drawn from the same seeded generator."""
    eta, n, lam, T = 0.01, 50, 2.0, 0.5
    W, b = weight_and_bias(dtype)
    before = [(p.data.astype(np.float64), p.grad.astype(np.float64)) for p in (W, b)]
    SGLD([W, b], lr=eta, n_data=n, prior_precision=lam, temperature=T, which=which, rng=123).step()
    xi = np.random.default_rng(123)
    for p, (theta, g), decayed in zip((W, b), before, (True, which == "all")):
        noise = xi.standard_normal(p.shape, dtype=dtype).astype(np.float64)
        expected = theta - eta / 2 * (n * g + (lam * theta if decayed else 0)) + math.sqrt(eta * T) * noise
        assert p.data.dtype == dtype
        np.testing.assert_allclose(p.data, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-7)


def test_zero_temperature_is_sgd_with_weight_decay():
    """Without noise SGLD is gradient descent on U/n = C + (λ/2n)‖θ‖², i.e. SGD with L2(λ, n) at rate ηn/2."""
    eta, n, lam = 0.004, 50, 3.0
    sampled, descended = weight_and_bias(np.float64), weight_and_bias(np.float64)
    SGLD(sampled, lr=eta, n_data=n, prior_precision=lam, temperature=0.0, rng=0).step()
    L2(lam, n=n, which="all").add_gradient(descended)
    SGD(descended, lr=eta * n / 2).step()
    for p, q in zip(sampled, descended):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12)


def test_noise_differs_between_steps_and_seeds_reproduce():
    def two_steps(seed):
        W, b = weight_and_bias(np.float64)
        opt = SGLD([W, b], lr=0.01, n_data=10, rng=seed)
        opt.step()
        first = W.data.copy()
        opt.step()
        return first, W.data.copy()

    a1, a2 = two_steps(7)
    b1, b2 = two_steps(7)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.allclose(two_steps(8)[0], a1)


def test_energy():
    W, b = weight_and_bias(np.float64)
    opt = SGLD([W, b], lr=0.01, n_data=10, prior_precision=4.0, which="weights")
    assert opt.energy(0.5) == pytest.approx(10 * 0.5 + 2.0 * np.sum(W.data ** 2))


# ----------------------------------------------------------------------------- the stationary distribution
def test_samples_a_gaussian_posterior_through_the_training_loop():
    """Bayesian linear regression through Dense + MSELoss + Trainer.

    With a = xW, C = (1/2m) Σ ‖y − a‖² on m examples, U = mC + (λ/2)‖W‖² is quadratic: for each column w
    of W, U = ½‖Xw − y‖² + (λ/2)‖w‖², of curvature P = XᵀX + λI and minimum μ = P⁻¹Xᵀy. The K columns of W
    are K independent chains (the targets repeat y in every column). exp(−U/T) is N(μ, T P⁻¹). Along an
    eigenvector of P, of eigenvalue p, a step is z ← (1 − ηp/2) z + √(ηT) ξ: the mean stays at μ and the
    stationary variance is T/(p (1 − ηp/4)), slightly wider than the target's T/p.
    """
    rng = np.random.default_rng(0)
    m, d, chains, lam, T = 30, 2, 4000, 5.0, 0.3
    X = rng.normal(size=(m, d)) * [1.0, 0.5]
    y = X @ [1.0, -2.0] + rng.normal(0, 0.5, size=m)
    P = X.T @ X + lam * np.eye(d)
    mu = np.linalg.solve(P, X.T @ y)
    p, V = np.linalg.eigh(P)
    eta = 1.0 / p.max()  # ηp_max = 1: the stiffest direction is 33 % wider than T/p_max
    layer = Dense(d, chains, bias=False, rng=1, dtype=np.float64)
    trainer = Trainer(Sequential(layer), MSELoss(),
                      SGLD(layer.parameters(), lr=eta, n_data=m, prior_precision=lam, temperature=T, rng=2),
                      progress=False)
    Y = np.repeat(y[:, None], chains, axis=1)
    for _ in range(300):  # the slowest direction contracts by 1 − ηp_min/2 per step: 300 steps forget the start
        trainer.train_batch(X, Y)
    z = (layer.W.data.T - mu) @ V  # (chains, d): one independent sample per chain, along P's eigenvectors

    expected = T / (p * (1 - eta * p / 4))
    assert np.all(np.abs(z.mean(axis=0)) < 4 * np.sqrt(expected / chains)), z.mean(axis=0)  # centred on μ
    tol = 4 * np.sqrt(2 / chains)  # 4 standard errors of a variance estimated from `chains` samples (known mean)
    ratio = np.mean(z ** 2, axis=0) / expected
    assert np.all(np.abs(ratio - 1) < tol), ratio
    corr = np.mean(z[:, 0] * z[:, 1]) / np.sqrt(expected[0] * expected[1])
    assert abs(corr) < 4 / np.sqrt(chains), corr  # the eigen-directions are independent
    # the test can tell the right noise from a wrong one: the η → 0 variance T/p and half the noise would fail
    assert abs(expected[-1] / (T / p[-1]) - 1) > 3 * tol


def test_small_steps_sample_the_target_variance():
    """A 1-D Gaussian energy set by hand: U = n·a(θ − m)²/2 + λθ²/2, target variance T/(na + λ) as η → 0.

    Many chains in one parameter vector; the steps are small (ηh/4 = 0.5 %), so the discretization
    error is below the test's tolerance, which is 4 standard errors of a variance from 20,000 samples.
    """
    n, a, m0, lam, T = 10, 2.0, 1.5, 4.0, 0.5
    h = n * a + lam
    p = Parameter(np.zeros(20_000))
    opt = SGLD([p], lr=0.02 / h, n_data=n, prior_precision=lam, temperature=T, rng=3)
    for _ in range(2000):  # contraction 1 − ηh/2 = 0.99 per step
        p.grad[...] = a * (p.data - m0)  # ∂C/∂θ of C = a(θ − m)²/2
        opt.step()
    var, mean = p.data.var(), p.data.mean()
    target_var, target_mean = T / h, n * a * m0 / h
    assert abs(var / target_var - 1) < 4 * math.sqrt(2 / p.size), var / target_var
    assert abs(mean - target_mean) < 4 * math.sqrt(target_var / p.size)


# ----------------------------------------------------------------------------- collecting samples, predicting
def test_posterior_samples_and_predictions():
    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, size=(16, 1)), rng.normal(size=(16, 1))
    model = Sequential(Dense(1, 5, rng=0), Tanh(), Dense(5, 1, rng=1))
    keeper = PosteriorSamples(burn_in=10, thin=5)
    sampler = SGLD(model.parameters(), lr=1e-3, n_data=16, rng=0)
    fit(model, MSELoss(), sampler, (X, y), epochs=8, batch_size=4, callbacks=[keeper], progress=False)
    assert keeper.steps == 32 and len(keeper) == 4  # steps 15, 20, 25, 30
    assert keeper.samples.shape == (4, 16)  # 1·5 + 5 + 5·1 + 1 parameters

    model.train()
    theta = parameters_to_vector(model.parameters())
    X_new = np.linspace(-2, 2, 7)[:, None]
    outputs = posterior_predictions(model, keeper.samples, X_new, batch_size=3)
    assert outputs.shape == (4, 7, 1)
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()), theta)  # parameters put back
    assert model.training
    vector_to_parameters(keeper.samples[2], model.parameters())
    np.testing.assert_allclose(outputs[2], model(X_new), rtol=1e-6, atol=1e-6)


def test_posterior_samples_keeps_steps_burn_in_plus_multiples_of_thin():
    """θ⁽ᵏ⁾ = θ after step burn_in + k·thin: with burn_in = 3 and thin = 2, steps 5, 7 and 9 of 9."""
    p = Parameter(np.zeros(2))
    trainer = SimpleNamespace(params=[p])
    keeper = PosteriorSamples(burn_in=3, thin=2)
    for t in range(1, 10):
        p.data[...] = t  # the parameters after step t
        keeper.after_step(trainer)
    np.testing.assert_array_equal(keeper.samples, [[5, 5], [7, 7], [9, 9]])
    p.data[...] = -1
    assert keeper.samples[0, 0] == 5  # kept as copies, not views of the live parameters


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0.0), "lr must be a positive number"),
    (dict(n_data=0), "n_data"),
    (dict(n_data=2.5), "n_data"),
    (dict(prior_precision=-1.0), "prior_precision must be a non-negative number"),
    (dict(temperature=-0.1), "temperature must be a non-negative number"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(which="biases"), "which must be 'all'"),
])
def test_bad_arguments(kwargs, message):
    W, b = weight_and_bias(np.float64)
    args = dict(lr=0.01, n_data=10) | kwargs
    with pytest.raises(ValueError, match=message) as info:
        SGLD([W, b], **args)
    assert "SGLD" in str(info.value)


def test_bad_parameters():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGLD([], lr=0.01, n_data=10)
    with pytest.raises(TypeError, match="float16, expected float32 or float64"):
        SGLD([Parameter(np.zeros(3, dtype=np.float16))], lr=0.01, n_data=10)


def test_bad_sample_collection():
    with pytest.raises(ValueError, match="burn_in must be a non-negative integer"):
        PosteriorSamples(burn_in=-1)
    with pytest.raises(ValueError, match="thin must be a positive integer"):
        PosteriorSamples(thin=0)
    with pytest.raises(ValueError, match="no sample kept yet"):
        PosteriorSamples(burn_in=5).samples
    model = Sequential(Dense(1, 3, rng=0))
    with pytest.raises(ValueError, match=r"expected samples of shape \(number of samples, 6\)"):
        posterior_predictions(model, np.zeros((2, 5)), np.zeros((4, 1)))
