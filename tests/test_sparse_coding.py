"""Sparse coding: the soft threshold, ISTA/FISTA against the lasso's optimality conditions, and
dictionary learning."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.models.sparse_coding import (
    SparseCoding,
    ista_step,
    lipschitz_constant,
    normalize_columns,
    soft_threshold,
    sparse_code,
    sparse_coding_objective,
)


def problem(n=6, d=10, k=15, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), normalize_columns(rng.standard_normal((d, k)))


def test_soft_threshold():
    u = np.array([-3.0, -1.0, -0.5, 0.0, 0.2, 1.0, 2.5])
    assert np.array_equal(soft_threshold(u, 1.0), [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5])
    assert np.array_equal(soft_threshold(u, 0.0), u)


def test_ista_step_formula_and_monotone_decrease():
    X, D = problem()
    step, lam = 1 / lipschitz_constant(D), 0.3
    h = np.random.default_rng(1).standard_normal((6, 15))
    expected = soft_threshold(h - step * (h @ D.T - X) @ D, step * lam)
    assert np.allclose(ista_step(h, X, D, lam, step), expected)
    values = []
    for _ in range(30):
        h = ista_step(h, X, D, lam, step)
        values.append(sparse_coding_objective(X, D, h, lam))
    assert np.all(np.diff(values) <= 1e-12)  # with η = 1/L every step lowers the objective


@pytest.mark.parametrize("solver", ["ista", "fista"])
def test_solution_satisfies_the_lasso_optimality_conditions(solver):
    X, D = problem(seed=2)
    lam = 0.4
    h = sparse_code(X, D, lam, steps=3000 if solver == "ista" else 500, solver=solver)
    g = (h @ D.T - X) @ D  # gradient of the smooth part
    on = h != 0
    assert np.allclose(g[on], -lam * np.sign(h[on]), atol=1e-5)  # active: g = −λ sign(h)
    assert np.all(np.abs(g[~on]) <= lam + 1e-5)  # inactive: |g| ≤ λ
    assert 0 < on.mean() < 0.9  # and the code really is sparse


def test_fista_converges_faster_than_ista():
    X, D = problem(seed=3)
    best = sparse_coding_objective(X, D, sparse_code(X, D, 0.2, steps=2000), 0.2)
    gap = {s: sparse_coding_objective(X, D, sparse_code(X, D, 0.2, steps=30, solver=s), 0.2) - best
           for s in ("ista", "fista")}
    assert gap["fista"] < 0.5 * gap["ista"], gap


def test_orthonormal_dictionary_gives_the_soft_threshold_in_closed_form():
    rng = np.random.default_rng(4)
    Q = np.linalg.qr(rng.standard_normal((8, 8)))[0]
    X = rng.standard_normal((5, 8))
    assert np.allclose(sparse_code(X, Q, 0.5, steps=200), soft_threshold(X @ Q, 0.5), atol=1e-8)


def test_dictionary_learning_recovers_planted_atoms():
    rng = np.random.default_rng(5)
    d, k, n = 12, 8, 1500
    true_D = normalize_columns(rng.standard_normal((d, k)))
    H = np.zeros((n, k))
    H[np.arange(n)[:, None], rng.integers(0, k, (n, 2))] = rng.uniform(1, 2, (n, 2))  # 2 atoms per example
    X = H @ true_D.T + 0.01 * rng.standard_normal((n, d))
    model = SparseCoding(d, k, lam=0.05, steps=100, rng=6, dtype=np.float64).init_from_data(X)
    before = model.objective(X[:1000])
    history = model.fit(X, epochs=15, batch_size=100, progress=False)
    assert np.allclose(np.linalg.norm(model.D.data, axis=0), 1)
    planted = sparse_coding_objective(X[:1000], true_D, sparse_code(X[:1000], true_D, 0.05, steps=200), 0.05)
    assert history[-1] < 0.5 * before and history[-1] < 1.02 * planted, (before, history, planted)
    match = np.abs(model.D.data.T @ true_D).max(axis=0)  # best |cosine| of each true atom
    assert np.all(match > 0.99), match
    h = model.encode(X[:50])
    assert h.shape == (50, k) and np.mean(h != 0) < 0.5
    assert np.allclose(model.decode(h), h @ model.D.data.T)


def test_errors_name_the_culprit():
    X, D = problem()
    with pytest.raises(ShapeError, match="sparse_code"):
        sparse_code(X[:, :5], D, 0.1)
    with pytest.raises(ValueError, match="sparse_code.*lam"):
        sparse_code(X, D, -1.0)
    with pytest.raises(ValueError, match="sparse_code.*solver"):
        sparse_code(X, D, 0.1, solver="lars")
    with pytest.raises(ValueError, match="soft_threshold"):
        soft_threshold(X, -0.1)
    with pytest.raises(FloatingPointError, match="sparse_code"):
        sparse_code(np.full_like(X, np.nan), D, 0.1)
    with pytest.raises(ValueError, match="SparseCoding"):
        SparseCoding(0, 3)
    with pytest.raises(ShapeError, match="ista_step.*codes h"):
        ista_step(np.zeros((6, 10)), X, D, 0.1, 0.1)  # codes need k = 15 entries
    with pytest.raises(ValueError, match="ista_step.*step"):
        ista_step(np.zeros((6, 15)), X, D, 0.1, 0.0)


def test_initial_codes_of_the_wrong_shape_are_refused():
    rng = np.random.default_rng(0)
    D, X = rng.normal(size=(5, 3)), rng.normal(size=(4, 5))
    with pytest.raises(ShapeError, match="initial codes h0"):
        sparse_code(X, D, 0.1, h0=np.zeros(3))
