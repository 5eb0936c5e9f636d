"""Autoencoders: gradients (plain, tied, with sparsity and contractive penalties), corruption,
training behaviour and greedy layer-wise pretraining."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.gradcheck import check_module, numerical_gradient, relative_error
from coursepkg.models.autoencoder import (
    Autoencoder,
    ContractivePenalty,
    Corruption,
    SparsityPenalty,
    TiedDense,
    corrupt,
    dense_autoencoder,
    pretrain_stack,
)
from coursepkg.nn import BCELoss, Dense, Sequential, Sigmoid
from coursepkg.optim import Adam
from coursepkg.train import fit


def penalized_gradient_errors(model, X, rng):
    """Relative errors of every parameter's gradient of C = Σ G ⊙ model(X) + Ω (float64)."""
    model.double()
    X = np.asarray(X, dtype=np.float64)
    G = rng.standard_normal(model(X).shape)

    def cost():
        return float(np.sum(G * model.forward(X))) + model.penalty_value()

    model.zero_grad()
    model.forward(X)
    model.backward(G)
    analytic = {name: p.grad.copy() for name, p in model.named_parameters()}
    return {name: relative_error(analytic[name], numerical_gradient(cost, p.data))
            for name, p in model.named_parameters()}


@pytest.mark.parametrize("tied", [False, True])
def test_dense_autoencoder_gradients(tied):
    rng = np.random.default_rng(0)
    ae = dense_autoencoder(7, 4, tied=tied, rng=1)
    report = check_module(ae, rng.random((5, 7)), rng=2)
    assert report.max_error < 1e-6, report
    assert ae.num_parameters() == 7 * 4 + 4 + 7 + (0 if tied else 4 * 7)


def test_tied_weights_share_one_parameter_and_gradient_sums_both_uses():
    rng = np.random.default_rng(3)
    enc = Dense(5, 3, rng=rng, dtype=np.float64)
    dec = TiedDense(enc)
    assert dec.W is enc.W
    x = rng.random((4, 5))
    h = enc(x)
    out = dec(h)
    assert np.allclose(out, h @ enc.W.data.T + dec.c.data)
    G = rng.standard_normal(out.shape)
    enc.zero_grad()
    dec.c.zero_grad()
    enc.backward(dec.backward(G))
    assert np.allclose(enc.W.grad, G.T @ h + x.T @ (G @ enc.W.data))  # decoder's use + encoder's use
    report = check_module(TiedDense(Dense(5, 3, rng=4)), rng.random((4, 3)), rng=5)
    assert report.max_error < 1e-6, report


def test_autoencoder_encode_decode_and_code():
    ae = dense_autoencoder(6, 2, rng=0)
    x = np.random.default_rng(1).random((3, 6)).astype(np.float32)
    out = ae(x)
    assert out.shape == (3, 6) and ae.code.shape == (3, 2)
    assert np.allclose(ae.decode(ae.encode(x)), out)
    assert np.all((ae.code > 0) & (ae.code < 1))
    assert ae.penalty_value() == 0.0 and ae.penalties == []


def test_masking_corruption_rate_eval_identity_and_backward():
    layer = Corruption("mask", 0.3, rng=0)
    x = np.ones((200, 100), dtype=np.float32)
    out = layer(x)
    assert abs(np.mean(out == 0) - 0.3) < 0.01
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    assert np.array_equal(layer.backward(g), g * (out != 0))
    layer.eval()
    assert np.array_equal(layer(x), x)
    assert np.array_equal(layer.backward(g), g)


def test_gaussian_corruption_and_corrupt_function():
    x = np.zeros((300, 100))
    noisy = corrupt(x, "gaussian", 0.5, rng=0)
    assert abs(noisy.std() - 0.5) < 0.01 and abs(noisy.mean()) < 0.01
    assert np.array_equal(corrupt(x + 1, "mask", 0.0, rng=0), x + 1)
    a, b = corrupt(x + 1, "mask", 0.5, rng=7), corrupt(x + 1, "mask", 0.5, rng=7)
    assert np.array_equal(a, b) and 0.45 < np.mean(a == 0) < 0.55  # reproducible from the seed


def test_sparsity_penalty_value_and_gradient():
    rng = np.random.default_rng(0)
    pen = SparsityPenalty(rho=0.1, beta=2.0)
    h = rng.uniform(0.05, 0.95, size=(6, 4))
    q = h.mean(axis=0)
    kl = 0.1 * np.log(0.1 / q) + 0.9 * np.log(0.9 / (1 - q))
    assert np.isclose(pen.penalty(h), 2.0 * kl.sum())
    err = relative_error(pen.gradient(h), numerical_gradient(lambda: pen.penalty(h), h))
    assert err < 1e-6, err
    at_target = np.full((5, 3), 0.1)
    assert abs(pen.penalty(at_target)) < 1e-12 and np.allclose(pen.gradient(at_target), 0)
    # as a layer: identity forward, gradient added in backward
    g = rng.standard_normal(h.shape)
    assert np.array_equal(pen(h), h) and np.isclose(pen.value, pen.penalty(h))
    assert np.allclose(pen.backward(g), g + pen.gradient(h))


def test_contractive_penalty_is_the_jacobian_frobenius_norm():
    rng = np.random.default_rng(1)
    dense = Dense(5, 3, rng=rng, dtype=np.float64)
    pen = ContractivePenalty(dense, lam=0.7)
    x = rng.random((4, 5))
    h = Sigmoid()(dense(x))
    jac_sq = 0.0
    for i in range(len(x)):  # the Jacobian of each example by finite differences
        xi = x[i:i + 1].copy()
        J = np.stack([(Sigmoid()(dense(xi + e)) - Sigmoid()(dense(xi - e)))[0] / 2e-6
                      for e in np.eye(5)[:, None] * 1e-6])
        jac_sq += np.sum(J ** 2)
    assert np.isclose(pen.penalty(h), 0.7 * jac_sq / len(x), rtol=1e-6)
    assert relative_error(pen.gradient(h), numerical_gradient(lambda: pen.penalty(h), h)) < 1e-6
    W = dense.W.data
    assert relative_error(pen.weight_gradient(h), numerical_gradient(lambda: pen.penalty(h), W)) < 1e-6



def test_contractive_layer_computes_the_slopes_once_per_step(monkeypatch):
    rng = np.random.default_rng(2)
    dense = Dense(5, 3, rng=rng, dtype=np.float64)
    pen = ContractivePenalty(dense, lam=0.7)
    h, g = rng.uniform(0.05, 0.95, size=(4, 3)), rng.standard_normal((4, 3))
    want_value, want_grad, want_w_grad = pen.penalty(h), g + pen.gradient(h), pen.weight_gradient(h)
    calls = []
    slopes = pen._slopes
    monkeypatch.setattr(pen, "_slopes", lambda x: calls.append(x) or slopes(x))
    dense.zero_grad()
    assert pen(h) is h and pen.value == want_value
    assert np.array_equal(pen.backward(g), want_grad) and np.array_equal(dense.W.grad, want_w_grad)
    assert len(calls) == 1  # a = h(1 − h) in forward, reused by backward


@pytest.mark.parametrize("options", [dict(sparsity=(0.2, 0.5)), dict(contraction=0.3),
                                     dict(sparsity=(0.2, 0.5), contraction=0.3, tied=True)])
def test_penalized_autoencoder_gradients(options):
    ae = dense_autoencoder(6, 4, rng=0, **options)
    x = np.random.default_rng(1).random((5, 6))
    errors = penalized_gradient_errors(ae, x, np.random.default_rng(2))
    assert max(errors.values()) < 1e-6, errors
    assert ae.penalty_value() > 0


def test_denoising_autoencoder_trains_on_corrupted_inputs():
    ae = dense_autoencoder(8, 4, corruption=Corruption("mask", 0.5, rng=0), rng=0)
    ae.train()
    x = np.ones((50, 8), dtype=np.float32)
    ae(x)
    assert np.mean(ae.encoder[0]._a == 0) > 0.3  # the encoder saw a corrupted copy
    ae.eval()
    assert np.allclose(ae(x), ae(x))  # no noise at evaluation


def _bars(n, rng):
    """4×4 images with one horizontal and one vertical bar: a toy data set with structure."""
    img = np.zeros((n, 4, 4), dtype=np.float32)
    img[np.arange(n), rng.integers(0, 4, n), :] = 1
    img[np.arange(n), :, rng.integers(0, 4, n)] = 1
    return img.reshape(n, 16)


def test_training_reduces_reconstruction_error_and_sparsity_hits_target():
    rng = np.random.default_rng(0)
    X = _bars(400, rng)
    plain = dense_autoencoder(16, 8, rng=1)
    before = BCELoss()(plain(X), X)
    hist = fit(plain, BCELoss(), Adam(plain.parameters(), lr=0.02), (X, X), epochs=40, batch_size=20,
               metrics=None, rng=2, progress=False)
    assert hist["loss"][-1] < 0.4 * before, (before, hist["loss"][-1])
    sparse = dense_autoencoder(16, 30, sparsity=(0.05, 3.0), rng=1)
    fit(sparse, BCELoss(), Adam(sparse.parameters(), lr=0.02), (X, X), epochs=40, batch_size=50,
        metrics=None, rng=2, progress=False)
    sparse.eval()
    mean_activation = sparse.encode(X).mean()
    assert abs(mean_activation - 0.05) < 0.03, mean_activation


def test_pretrain_stack_builds_a_trained_deep_encoder():
    X = _bars(300, np.random.default_rng(0))
    encoder, histories = pretrain_stack(X, [12, 6], epochs=8, batch_size=20, lr=0.02, corruption=0.2, rng=0,
                                        progress=False)
    assert isinstance(encoder, Sequential) and len(encoder) == 4
    assert [layer.W.shape for layer in encoder[::2]] == [(16, 12), (12, 6)]
    assert encoder(X).shape == (300, 6)
    for history in histories:  # every layer's autoencoder learned to reconstruct its input
        assert history["loss"][-1] < 0.8 * history["loss"][0], history["loss"]


def test_errors_name_the_culprit():
    with pytest.raises(ValueError, match="SparsityPenalty.*rho"):
        SparsityPenalty(rho=1.5)
    with pytest.raises(ValueError, match="Corruption.*kind"):
        Corruption("salt")
    with pytest.raises(ValueError, match="Corruption.*level"):
        Corruption("mask", 1.0)
    with pytest.raises(ShapeError, match="TiedDense"):
        TiedDense(Dense(5, 3))(np.zeros((2, 5)))
    with pytest.raises(TypeError, match="ContractivePenalty"):
        ContractivePenalty(Sigmoid())
    with pytest.raises(ShapeError, match="ContractivePenalty"):
        ContractivePenalty(Dense(5, 3)).penalty(np.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="pretrain_stack.*\\[0, 1\\]"):
        pretrain_stack(np.full((4, 3), 2.0), [2], progress=False)
    with pytest.raises(ValueError, match="dense_autoencoder.*output"):
        dense_autoencoder(4, 2, output="tanh")
    with pytest.raises(TypeError, match="Autoencoder"):
        Autoencoder(Dense(3, 2), "decoder")
    with pytest.raises(RuntimeError, match="before forward"):
        SparsityPenalty().backward(np.zeros((2, 2)))


def test_fit_lets_the_encoders_first_layer_skip_the_input_gradient():
    from coursepkg.nn.module import first_layer, input_gradient_skipped

    ae = dense_autoencoder(6, 3, rng=0)
    assert first_layer(ae) is ae.encoder[0]
    with input_gradient_skipped(ae):
        ae.forward(np.random.default_rng(0).random((4, 6)))
        assert ae.backward(np.ones((4, 6), dtype=np.float32)) is None
    assert ae.encoder[0].needs_input_grad
