"""FGSM and adversarial training on a small synthetic problem."""

import numpy as np
import pytest

from coursepkg.adversarial import AdversarialTrainer, adversarial_accuracy, adversarial_fit, fgsm, input_gradient
from coursepkg.gradcheck import numerical_gradient, relative_error
from coursepkg.nn import CrossEntropyLoss, Dense, Dropout, ReLU, Sequential
from coursepkg.optim import SGD
from coursepkg.train import accuracy, fit


def _data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 20)).astype(np.float32)
    w = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    y = ((X - 0.5) @ w > 0).astype(int)
    return X, y


def _model(seed=0):
    return Sequential(Dense(20, 16, rng=seed), ReLU(), Dense(16, 2, rng=seed + 1))


@pytest.fixture(scope="module")
def trained():
    X, y = _data(600, 0)
    model = _model()
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.5), (X, y), epochs=30, batch_size=20,
        progress=False, rng=0)
    return model


def test_input_gradient_is_correct_and_leaves_parameter_gradients_alone():
    X, y = _data(5, 1)
    model = _model().double()
    X = X.astype(np.float64)
    loss = CrossEntropyLoss()
    for p in model.parameters():
        p.grad[...] = 7.0
    g = input_gradient(model, loss, X, y)
    numeric = numerical_gradient(lambda: loss.forward(model.forward(X), y), X)
    assert relative_error(g, numeric) < 1e-7
    assert all(np.all(p.grad == 7.0) for p in model.parameters())


def test_fgsm_step_size_clipping_and_mode_restored(trained):
    X, y = _data(50, 2)
    trained.train()
    X_adv = fgsm(trained, CrossEntropyLoss(), X, y, eps=0.1)
    assert trained.training  # mode restored
    assert X_adv.shape == X.shape and X_adv.dtype == np.float32
    assert np.abs(X_adv - X).max() <= 0.1 + 1e-6
    assert X_adv.min() >= 0 and X_adv.max() <= 1
    inside = (X > 0.1) & (X < 0.9)
    np.testing.assert_allclose(np.abs(X_adv - X)[inside], 0.1, rtol=1e-4)


def test_fgsm_fools_a_trained_model_much_more_than_random_noise(trained):
    X, y = _data(400, 3)
    loss = CrossEntropyLoss()
    trained.eval()
    clean = accuracy(trained.forward(X), y)
    assert clean > 0.9, clean
    eps = 0.1
    noise = np.clip(X + eps * np.sign(np.random.default_rng(0).standard_normal(X.shape)), 0, 1)
    noisy = accuracy(trained.forward(noise.astype(np.float32)), y)
    adv = adversarial_accuracy(trained, loss, X, y, eps=eps, batch_size=128)
    assert noisy > 0.8, noisy
    assert adv < 0.5 * clean, (clean, noisy, adv)
    assert adversarial_accuracy(trained, loss, X, y, eps=0.0) == pytest.approx(clean)


def test_adversarial_training_improves_robustness():
    """On this linear problem no classifier survives an attack on points near the boundary, but
    adversarial training still cuts the cost under attack several times and raises the accuracy."""
    X, y = _data(600, 0)
    Xt, yt = _data(400, 3)
    loss = CrossEntropyLoss()
    robust, adv_cost = [], []
    for alpha in (1.0, 0.5):
        model = _model()
        adversarial_fit(model, loss, SGD(model.parameters(), lr=0.5), (X, y), eps=0.05, alpha=alpha, epochs=30,
                        batch_size=20, progress=False, rng=0)
        robust.append(adversarial_accuracy(model, loss, Xt, yt, eps=0.05))
        model.eval()
        adv_cost.append(loss.forward(model.forward(fgsm(model, loss, Xt, yt, 0.05)), yt))
    assert adv_cost[1] < 0.4 * adv_cost[0], adv_cost
    assert robust[1] > robust[0] + 0.03, robust


def test_adversarial_trainer_gradient_is_the_weighted_mix():
    X, y = _data(8, 4)
    model = Sequential(Dense(20, 3, rng=0), ReLU(), Dense(3, 2, rng=1), Dropout(0.0))
    loss = CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=1.0)
    trainer = AdversarialTrainer(model, loss, opt, eps=0.2, alpha=0.25, progress=False)
    X_adv = fgsm(model, loss, X, y, 0.2, eval_mode=False)
    W0 = model[0].W.data.copy()
    model.zero_grad()
    expected = 0.25 * loss.forward(model.forward(X), y) + 0.75 * loss.forward(model.forward(X_adv), y)
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward(0.25))
    loss.forward(model.forward(X_adv), y)
    model.backward(loss.backward(0.75))
    g = model[0].W.grad.copy()
    cost = trainer.train_batch(X, y)
    assert cost == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(model[0].W.data, W0 - g, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        AdversarialTrainer(model, loss, opt, alpha=1.5)
