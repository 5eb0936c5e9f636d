"""Hyper-parameter search: spaces, the Gaussian process, expected improvement, the three searches."""

import numpy as np
import pytest

from coursepkg.gradcheck import numerical_gradient, relative_error
from coursepkg.hyperopt import (
    Choice,
    GaussianProcess,
    Integer,
    Real,
    Space,
    Trials,
    bayes_opt,
    expected_improvement,
    grid_search,
    random_search,
)


def bowl(x, y):
    """A cheap synthetic objective with its minimum 0 at (0.3, −0.2) (module level: picklable)."""
    return (x - 0.3) ** 2 + (y + 0.2) ** 2


def mixed(lr, hidden, act):
    """Best at lr = 0.1, hidden = 30, act = "relu"; reports an extra column."""
    return {"value": np.log10(lr / 0.1) ** 2 + ((hidden - 30) / 30) ** 2 + (act != "relu"), "hidden_sq": hidden ** 2}


BOWL = {"x": Real(-1, 1), "y": Real(-1, 1)}
MIXED = {"lr": Real(1e-4, 10.0, log=True), "hidden": Integer(5, 100), "act": Choice(["sigmoid", "relu", "tanh"])}


# ----------------------------------------------------------------------------------- spaces
def test_space_encode_decode_round_trip_and_ranges():
    space = Space({**MIXED, "layers": [1, 2, 3], "k": Integer(1, 1000, log=True)})
    params = space.sample(np.random.default_rng(0), 200)
    U = space.encode(params)
    assert U.shape == (200, 1 + 1 + 3 + 3 + 1) and U.min() >= 0 and U.max() <= 1
    back = space.decode(U)
    for p, q in zip(params, back):
        assert p["hidden"] == q["hidden"] and p["act"] == q["act"] and p["layers"] == q["layers"]
        assert p["k"] == q["k"]
        assert q["lr"] == pytest.approx(p["lr"], rel=1e-9)
    lrs = np.array([p["lr"] for p in params])
    assert lrs.min() >= 1e-4 and lrs.max() <= 10
    # log scale: uniform in log lr, so 2 of the 5 decades (below 1e-2) get about 40 % of the samples
    assert 0.3 < np.mean(lrs < 1e-2) < 0.5
    hidden = [p["hidden"] for p in params]
    assert min(hidden) >= 5 and max(hidden) <= 100 and all(isinstance(h, int) for h in hidden)


def test_grids():
    assert Real(1e-3, 1, log=True).grid(4) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])
    assert Real(1e-3, 1, log=True).grid(4)[0] == 1e-3
    assert Integer(1, 5).grid(10) == [1, 2, 3, 4, 5]
    assert len(Space(MIXED).grid(3)) == 3 * 3 * 3
    with pytest.raises(ValueError, match="low"):
        Real(1, 0)
    with pytest.raises(ValueError, match="log"):
        Real(0, 1, log=True)
    with pytest.raises(TypeError, match="Real, Integer"):
        Space({"x": 3})


# ----------------------------------------------------------------------------------- GP
@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
def test_log_marginal_likelihood_gradient(kernel):
    rng = np.random.default_rng(0)
    X, y = rng.random((12, 3)), rng.standard_normal(12)
    gp = GaussianProcess(kernel=kernel, n_restarts=0, rng=0).fit(X, y)
    theta = np.array([0.3, -1.0, 0.2, 0.5, -2.0])
    value, grad = gp.log_marginal_likelihood(theta, gradient=True)
    numeric = numerical_gradient(lambda: gp.log_marginal_likelihood(theta), theta)
    assert relative_error(grad, numeric) < 1e-6


def test_gp_fits_a_known_function_and_learns_relevance():
    rng = np.random.default_rng(1)
    X = rng.random((25, 2))
    f = lambda X: np.sin(6 * X[:, 0]) + 0.5 * X[:, 0]  # noqa: E731  (depends on x₀ only)
    gp = GaussianProcess(rng=0).fit(X, f(X) + 0.01 * rng.standard_normal(25))
    Xt = rng.random((300, 2))
    mean, std = gp.predict(Xt, return_std=True)
    assert np.sqrt(np.mean((mean - f(Xt)) ** 2)) < 0.05
    assert gp.length_scales[1] > 10 * gp.length_scales[0]  # x₁ is irrelevant
    assert gp.noise_std < 0.05
    # uncertainty: small at the data, larger far away
    _, std_data = gp.predict(X, return_std=True)
    _, std_far = gp.predict(np.array([[3.0, 0.5]]), return_std=True)
    assert std_data.max() < 0.05 and std_far[0] > 0.5


def test_expected_improvement():
    ei = expected_improvement(np.array([0.0, 1.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0, 0.0]), best=1.5)
    # closed form at z = 1.5: 1.5 Φ(1.5) + φ(1.5)
    assert ei[0] == pytest.approx(1.5 * 0.9331928 + 0.1295176, rel=1e-6)
    assert ei[1] < ei[0] and ei[2] == pytest.approx(0.5) and ei[3] == 0.0
    # Monte Carlo check
    rng = np.random.default_rng(0)
    f = 0.3 + 0.7 * rng.standard_normal(200_000)
    assert expected_improvement(0.3, 0.7, best=0.5) == pytest.approx(np.maximum(0.5 - f, 0).mean(), rel=0.01)


# ----------------------------------------------------------------------------------- searches
def test_grid_search_finds_the_grid_optimum_and_table():
    trials = grid_search(bowl, BOWL, points=5)
    assert len(trials) == 25
    assert trials.best["x"] == 0.5 and trials.best["y"] == 0.0
    assert trials.best["value"] == pytest.approx(min(bowl(x, y) for x in np.linspace(-1, 1, 5)
                                                     for y in np.linspace(-1, 1, 5)))
    md = trials.to_markdown()
    assert md.splitlines()[0] == "| trial | x | y | value | seconds |" and len(md.splitlines()) == 27
    assert "best value" in repr(trials)


def test_random_search_is_reproducible_parallel_and_better_than_chance():
    serial = random_search(bowl, BOWL, n_trials=30, rng=0)
    parallel = random_search(bowl, BOWL, n_trials=30, rng=0, n_jobs=2)
    assert serial.params == parallel.params
    np.testing.assert_allclose(serial.values, parallel.values)
    # the best of 30 random points beats the median point of the square by far
    median = np.median(bowl(*np.random.default_rng(1).uniform(-1, 1, (2, 10_000))))
    assert serial.best["value"] < 0.1 * median
    bsf = serial.best_so_far()
    assert np.all(np.diff(bsf) <= 0) and bsf[-1] == serial.best["value"]


def test_bayes_opt_beats_random_search_on_a_cheap_objective():
    bo = bayes_opt(bowl, BOWL, n_trials=20, n_initial=5, rng=0)
    assert len(bo) == 20 and "ei" not in bo[0] and bo[-1]["ei"] >= 0
    assert bo.best["value"] < 1e-3, bo
    # 20 uniform random points reach 1e-3 with probability 1 − (1 − π·1e-3/4)²⁰ ≈ 1.6 %
    rs = [random_search(bowl, BOWL, n_trials=20, rng=seed).best["value"] for seed in range(10)]
    assert bo.best["value"] < min(rs)


def test_bayes_opt_mixed_space_maximize_and_extra_columns():
    trials = bayes_opt(mixed, MIXED, n_trials=15, n_initial=6, rng=1)
    best = trials.best
    assert best["act"] == "relu" and best["value"] < 0.3, trials
    assert trials.column("hidden_sq") == [h ** 2 for h in trials.column("hidden")]
    up = Trials([{"value": 1.0}, {"value": 3.0}, {"value": float("nan")}, {"value": 2.0}], maximize=True)
    assert up.best["value"] == 3.0
    np.testing.assert_array_equal(up.best_so_far(), [1.0, 3.0, 3.0, 3.0])


def test_objective_errors_are_reported():
    with pytest.raises(KeyError, match="value"):
        random_search(lambda x, y: {"loss": 1.0}, BOWL, n_trials=2, rng=0)
    with pytest.raises(ValueError, match="n_jobs"):
        random_search(bowl, BOWL, n_trials=2, rng=0, n_jobs=0)
