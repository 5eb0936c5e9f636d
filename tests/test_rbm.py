"""Restricted Boltzmann machines: exact quantities on tiny RBMs by enumeration, CD-k / persistent CD
against the exact likelihood gradient, training, and deep belief nets."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.gradcheck import numerical_gradient, relative_error
from coursepkg.models.rbm import DBN, RBM, all_binary_states, train_rbm
from coursepkg.nn.functional import logsumexp
from coursepkg.optim import SGD


def tiny_rbm(n_v=4, n_h=3, seed=0, scale=1.0):
    rbm = RBM(n_v, n_h, rng=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 100)
    rbm.W.data[...] = scale * rng.standard_normal(rbm.W.shape)
    rbm.b.data[...] = 0.5 * rng.standard_normal(n_v)
    rbm.c.data[...] = 0.5 * rng.standard_normal(n_h)
    return rbm


def exact_nll_gradient(rbm, V):
    """∂(−mean ln p(v))/∂(W, b, c) by enumerating every visible state."""
    states = all_binary_states(rbm.n_visible)
    p_model = np.exp(-rbm.free_energy(states) - rbm.log_partition())
    ph_model, ph_data = rbm.hidden_probs(states), rbm.hidden_probs(V)
    dW = states.T @ (p_model[:, None] * ph_model) - V.T @ ph_data / len(V)
    db = p_model @ states - V.mean(axis=0)
    dc = p_model @ ph_model - ph_data.mean(axis=0)
    return dW, db, dc


def test_all_binary_states():
    s = all_binary_states(3)
    assert s.shape == (8, 3) and len({tuple(r) for r in s}) == 8 and set(np.unique(s)) == {0.0, 1.0}


def test_free_energy_and_conditionals_match_enumeration():
    rbm = tiny_rbm()
    v = all_binary_states(4)
    h = all_binary_states(3)
    # E for every (v, h) pair: rows v, columns h
    E = np.stack([rbm.energy(v, np.repeat(hj[None], len(v), axis=0)) for hj in h], axis=1)
    assert np.allclose(rbm.free_energy(v), -logsumexp(-E, axis=1))
    p_h_given_v = np.exp(-E - logsumexp(-E, axis=1, keepdims=True))
    assert np.allclose(rbm.hidden_probs(v), p_h_given_v @ h)
    p_v_given_h = np.exp(-E - logsumexp(-E, axis=0, keepdims=True))
    assert np.allclose(rbm.visible_probs(h), p_v_given_h.T @ v)
    assert np.isclose(rbm.log_partition(), logsumexp(-E.ravel(), axis=0))


@pytest.mark.parametrize("n_v, n_h", [(4, 3), (3, 5)])  # both enumeration branches
def test_log_partition_normalizes_the_distribution(n_v, n_h):
    rbm = tiny_rbm(n_v, n_h, seed=n_v)
    v = all_binary_states(n_v)
    log_p = -rbm.free_energy(v) - rbm.log_partition()
    assert np.isclose(np.exp(log_p).sum(), 1.0)
    assert np.isclose(rbm.log_likelihood(v[:2]), log_p[:2].mean())


def test_exact_gradient_helper_agrees_with_finite_differences():
    rbm = tiny_rbm()
    V = all_binary_states(4)[[1, 5, 6, 14]]
    dW = exact_nll_gradient(rbm, V)[0]
    assert relative_error(dW, numerical_gradient(lambda: -rbm.log_likelihood(V), rbm.W.data)) < 1e-6


@pytest.mark.parametrize("persistent", [False, True])
def test_cd_with_long_chains_approaches_the_exact_gradient(persistent):
    rbm = tiny_rbm(seed=2, scale=2.0)
    data = all_binary_states(4)[[3, 5, 10, 12]]
    V = np.repeat(data, 3000, axis=0)  # many chains per example average the noise away
    exact = exact_nll_gradient(rbm, data)
    calls = 3 if persistent else 1
    for _ in range(calls):  # persistent chains keep running from where the last call left them
        rbm.zero_grad()
        rbm.contrastive_divergence(V, k=10, persistent=persistent)
    for got, want in zip((rbm.W.grad, rbm.b.grad, rbm.c.grad), exact):
        assert relative_error(got, want) < 0.05, (got, want)
    # CD-1 from the data is biased: far from the exact gradient for these strong weights
    rbm.zero_grad()
    rbm.contrastive_divergence(V, k=1)
    cd1_error = max(relative_error(g, w) for g, w in zip((rbm.W.grad, rbm.b.grad, rbm.c.grad), exact))
    assert cd1_error > 0.15, cd1_error


def test_persistent_chains_survive_a_smaller_batch_and_each_phase_has_its_own_mean():
    rbm = tiny_rbm()
    data = all_binary_states(4)
    rbm.contrastive_divergence(data[:6], persistent=True)
    chains = rbm.chain
    assert chains.shape == (6, 4)
    rbm.zero_grad()
    small = data[6:9]  # the last, smaller batch of an epoch
    rbm.contrastive_divergence(small, persistent=True, sample=False)
    assert rbm.chain.shape == (6, 4)  # the same 6 chains ran on; nothing was re-seeded from the data
    vk = rbm.chain
    p0, pk = rbm.hidden_probs(small), rbm.hidden_probs(vk)
    assert np.allclose(rbm.W.grad, vk.T @ pk / 6 - small.T @ p0 / 3)
    assert np.allclose(rbm.b.grad, vk.mean(axis=0) - small.mean(axis=0))
    assert np.allclose(rbm.c.grad, pk.mean(axis=0) - p0.mean(axis=0))
    assert not np.shares_memory(vk, chains)


def test_deterministic_cd1_formula_and_accumulation():
    rbm = tiny_rbm()
    v = np.random.default_rng(0).random((5, 4))
    p0 = 1 / (1 + np.exp(-(v @ rbm.W.data + rbm.c.data)))
    v1 = 1 / (1 + np.exp(-(p0 @ rbm.W.data.T + rbm.b.data)))
    p1 = 1 / (1 + np.exp(-(v1 @ rbm.W.data + rbm.c.data)))
    rbm.zero_grad()
    rbm.contrastive_divergence(v, k=1, sample=False)
    assert np.allclose(rbm.W.grad, -(v.T @ p0 - v1.T @ p1) / 5)
    assert np.allclose(rbm.b.grad, -(v - v1).mean(axis=0)) and np.allclose(rbm.c.grad, -(p0 - p1).mean(axis=0))
    rbm.contrastive_divergence(v, k=1, sample=False)  # gradients accumulate, like backward passes
    assert np.allclose(rbm.W.grad, -2 * (v.T @ p0 - v1.T @ p1) / 5)


def test_cd1_training_raises_the_exact_log_likelihood():
    rng = np.random.default_rng(0)
    patterns = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]], dtype=np.float64)
    X = patterns[rng.integers(0, 3, 300)]
    rbm = RBM(6, 4, rng=1, dtype=np.float64)
    before = rbm.log_likelihood(X)
    hist = train_rbm(rbm, X, epochs=30, batch_size=10, optimizer=SGD(rbm.parameters(), lr=0.1, momentum=0.5),
                     rng=2, progress=False)
    after = rbm.log_likelihood(X)
    assert after > before + 1.5, (before, after)  # ln(1/64) ≈ −4.16 at the start, ln(1/3) ≈ −1.10 at best
    assert hist["reconstruction_error"][-1] < 0.5 * hist["reconstruction_error"][0]
    noise = rng.integers(0, 2, (300, 6)).astype(np.float64)
    assert rbm.free_energy(X).mean() < rbm.free_energy(noise).mean() - 1
    samples = rbm.sample(200, steps=50)
    assert samples.shape == (200, 6) and np.all((samples >= 0) & (samples <= 1))
    nearest = np.abs(samples.round()[:, None] - patterns[None]).sum(axis=2).min(axis=1)
    assert np.mean(nearest == 0) > 0.6  # most samples are one of the training patterns


def test_gibbs_is_reproducible_from_the_seed():
    v = np.random.default_rng(0).random((3, 4)).round()
    a = tiny_rbm(seed=5).gibbs(v, steps=4)[0]
    b = tiny_rbm(seed=5).gibbs(v, steps=4)[0]
    assert np.array_equal(a, b) and set(np.unique(a)) <= {0.0, 1.0}


def test_dbn_pretrains_and_generates():
    rng = np.random.default_rng(0)
    X = (rng.random((200, 8)) < np.linspace(0.1, 0.9, 8)).astype(np.float32)
    dbn = DBN([8, 6, 4], rng=0)
    histories = dbn.pretrain(X, epochs=3, batch_size=10, progress=False)
    assert len(histories) == 2 and dbn(X).shape == (200, 4)
    samples = dbn.sample(300, steps=50)
    assert samples.shape == (300, 8) and np.all((samples >= 0) & (samples <= 1))
    assert np.corrcoef(samples.mean(axis=0), np.linspace(0.1, 0.9, 8))[0, 1] > 0.8  # learned the marginals
    assert dbn.sample(steps=5, v0=X[:7]).shape == (7, 8)
    assert len(dbn.parameters()) == 6


def test_errors_name_the_culprit():
    rbm = RBM(4, 3, rng=0)
    with pytest.raises(ShapeError, match="RBM"):
        rbm.hidden_probs(np.zeros((2, 5)))
    with pytest.raises(ShapeError, match="RBM"):
        rbm.visible_probs(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="RBM.*positive"):
        RBM(0, 3)
    with pytest.raises(ValueError, match="RBM.gibbs.*steps"):
        rbm.gibbs(np.zeros((1, 4)), steps=0)
    with pytest.raises(ValueError, match="train_rbm.*\\[0, 1\\]"):
        train_rbm(rbm, np.full((3, 4), 255.0), progress=False)
    with pytest.raises(ValueError, match="all_binary_states"):
        all_binary_states(40)
    with pytest.raises(ValueError, match="DBN"):
        DBN([5])
    with pytest.raises(FloatingPointError, match="RBM"):
        rbm.free_energy(np.full((1, 4), np.nan))
