"""Standardization, PCA and whitening: the statistics they promise, round trips, and bad input."""

import numpy as np
import pytest

from coursepkg.data import PCA, Standardizer
from coursepkg.errors import ShapeError


def correlated_inputs(n=500, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(2.0, 1.0, n)
    x2 = 5.0 + 2.0 * (0.8 * (x1 - 2.0) + 0.6 * rng.normal(size=n))
    return np.c_[x1, x2, np.full(n, 7.0)]  # the third feature is constant


def hessian_condition(Z):
    """κ of the linear neuron's Hessian (1/n) Σ x̃ x̃ᵀ, x̃ = (x, 1)."""
    Z1 = np.c_[Z, np.ones(len(Z))]
    lam = np.linalg.eigvalsh(Z1.T @ Z1 / len(Z))
    return lam.max() / lam.min()


def test_standardizer_gives_mean_0_variance_1_and_only_centers_constant_features():
    X = correlated_inputs()
    s = Standardizer().fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), [1, 1, 0], atol=1e-12)
    np.testing.assert_allclose(s.inverse_transform(Z), X)
    assert s.transform(X.astype(np.float32)).dtype == np.float32
    # new data uses the training statistics
    np.testing.assert_allclose(s.transform(X[:3] + 1.0), Z[:3] + 1.0 / s.scale)


def test_pca_rotates_onto_uncorrelated_components_and_whitening_makes_the_bowl_round():
    X = correlated_inputs()[:, :2]
    pca = PCA().fit(X)
    Z = pca.transform(X)
    cov = np.cov(Z, rowvar=False, bias=True)
    np.testing.assert_allclose(cov, np.diag(pca.variances), atol=1e-10)
    assert pca.variances[0] >= pca.variances[1] and np.isclose(pca.explained_variance_ratio.sum(), 1)
    np.testing.assert_allclose(pca.inverse_transform(Z), X)
    white = PCA(whiten=True).fit(X)
    W = white.transform(X)
    np.testing.assert_allclose(np.cov(W, rowvar=False, bias=True), np.eye(2), atol=1e-6)
    np.testing.assert_allclose(white.inverse_transform(W), X, atol=1e-9)
    assert hessian_condition(X) > 100 and hessian_condition(W) < 1 + 1e-6


def test_pca_keeps_the_largest_components():
    X = correlated_inputs()
    pca = PCA(n_components=2).fit(X)
    assert pca.components.shape == (3, 2) and pca.transform(X).shape == (500, 2)
    assert pca.variances[-1] > 0  # the constant feature's zero variance was dropped
    assert pca.explained_variance_ratio.sum() == pytest.approx(1.0)


def test_bad_input_names_the_problem():
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.ones((2, 2)))
    with pytest.raises(RuntimeError, match="fit"):
        PCA().inverse_transform(np.ones((2, 2)))
    s = Standardizer().fit(np.random.default_rng(0).random((5, 3)))
    with pytest.raises(ShapeError, match="fitted on 3 features"):
        s.transform(np.ones((2, 4)))
    with pytest.raises(ShapeError, match=r"\(n, features\)"):
        PCA().fit(np.ones(5))
    with pytest.raises(ValueError, match="at least 2 examples"):
        PCA().fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match="more than the 3 features"):
        PCA(n_components=4).fit(np.random.default_rng(0).random((5, 3)))
    with pytest.raises(Exception, match="NaN"):
        Standardizer().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
