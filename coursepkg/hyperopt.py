"""Hyper-parameter search: grid search, random search and Bayesian optimization with a Gaussian process.

All three take an ``objective`` called as ``objective(**params)`` — e.g. "train with this
learning rate and λ, return the validation error" — and a search ``space``, a dict from names to
dimensions:

    space = {"lr": Real(1e-3, 1.0, log=True), "lam": Real(0.0, 10.0),
             "hidden": Integer(10, 100), "activation": Choice(["sigmoid", "relu"])}

The objective returns a number (minimized, or maximized with ``maximize=True``) or a dict with
that number under ``"value"`` plus anything else worth recording (say ``"train_acc"``). Each
search returns a :class:`Trials` table: one row per evaluation, in order, with ``.best``.

* **Grid search** tries every combination of a few values per dimension: ``kᴰ`` runs for D
  hyper-parameters, and only ``k`` distinct values of each one even if just one of them matters.
* **Random search** (Bergstra & Bengio, 2012) samples each trial independently. With the same
  budget it tries ``N`` distinct values of *every* dimension, which is why it usually wins when
  only a few hyper-parameters matter.
* **Bayesian optimization** (Snoek, Larochelle & Adams, 2012) fits a Gaussian-process model of
  the objective to the trials so far — "similar settings give similar results", with a learned
  length-scale per hyper-parameter saying how similar is similar — and picks the next trial
  where the *expected improvement* over the best result so far is largest. It spends the budget
  where the model is either promising or uncertain.

Grid and random search can evaluate trials in parallel processes (``n_jobs``): the objective must
then be picklable (a function defined at module level, not a lambda or a notebook closure
when the start method is not ``fork``).
"""

from __future__ import annotations

import itertools
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
from scipy import linalg, optimize, stats

from .errors import ShapeError
from .init import make_rng


# ------------------------------------------------------------------------------------ dimensions
class Real:
    """A real hyper-parameter in ``[low, high]``; ``log=True`` searches ``log x`` uniformly
    (right for scale parameters such as the learning rate η or λ, where 0.001 → 0.01 matters as
    much as 0.1 → 1)."""

    width = 1

    def __init__(self, low: float, high: float, log: bool = False):
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"{type(self).__name__}: need finite low < high, received {low!r}, {high!r}.")
        if log and low <= 0:
            raise ValueError(f"{type(self).__name__}: log=True needs low > 0, received {low!r}.")
        self.low, self.high, self.log = low, high, bool(log)

    def _warp(self, v):
        return np.log(v) if self.log else np.asarray(v, dtype=np.float64)

    def _unwarp(self, t):
        return np.exp(t) if self.log else t

    def from_unit(self, u) -> np.ndarray:
        """Map ``u ∈ [0, 1]`` (one column) to values."""
        lo, hi = self._warp(self.low), self._warp(self.high)
        u = np.clip(np.asarray(u, dtype=np.float64).reshape(-1), 0.0, 1.0)
        v = np.clip(self._unwarp(lo + u * (hi - lo)), self.low, self.high)
        v[u == 0.0], v[u == 1.0] = self.low, self.high  # exact ends, e.g. 1e-3 rather than 0.0010000000000000002
        return v

    def to_unit(self, values) -> np.ndarray:
        """Map values to ``[0, 1]``, shape ``(m, 1)`` (the GP's input coordinates)."""
        lo, hi = self._warp(self.low), self._warp(self.high)
        return ((self._warp(np.asarray(values, dtype=np.float64)) - lo) / (hi - lo)).reshape(-1, 1)

    def sample(self, rng, size: int) -> list:
        return [_plain(v) for v in self.from_unit(rng.random(size))]

    def grid(self, points: int) -> list:
        return [_plain(v) for v in self.from_unit(np.linspace(0.0, 1.0, points))]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.low!r}, {self.high!r}{', log=True' if self.log else ''})"


class Integer(Real):
    """An integer hyper-parameter in ``[low, high]`` (both included), e.g. a number of hidden units.

    Each integer ``v`` owns the cell ``[v, v + 1)`` of a continuous axis (in log space with
    ``log=True``), so random sampling gives every integer its fair share and the GP still sees a
    continuous coordinate.
    """

    def __init__(self, low: int, high: int, log: bool = False):
        if int(low) != low or int(high) != high:
            raise ValueError(f"Integer: low and high must be integers, received {low!r}, {high!r}.")
        super().__init__(int(low), int(high) + 1, log)
        self.high = int(high)

    def _edges(self):
        return self._warp(self.low), self._warp(self.high + 1)

    def from_unit(self, u) -> np.ndarray:
        lo, hi = self._edges()
        u = np.clip(np.asarray(u, dtype=np.float64).reshape(-1), 0.0, 1.0)
        return np.clip(np.floor(self._unwarp(lo + u * (hi - lo))), self.low, self.high).astype(int)

    def to_unit(self, values) -> np.ndarray:
        lo, hi = self._edges()
        v = np.asarray(values, dtype=np.float64)
        centre = (self._warp(v) + self._warp(v + 1)) / 2
        return ((centre - lo) / (hi - lo)).reshape(-1, 1)

    def grid(self, points: int) -> list:
        spaced = np.geomspace if self.log else np.linspace
        return sorted({int(v) for v in np.round(spaced(self.low, self.high, points))})

    def __repr__(self) -> str:
        return f"Integer({self.low}, {self.high}{', log=True' if self.log else ''})"


class Choice:
    """A categorical hyper-parameter: one of ``options`` (an activation, a cost function, …).

    The GP sees it one-hot encoded (one coordinate per option), so it assumes no order.
    """

    def __init__(self, options):
        self.options = list(options)
        if not self.options:
            raise ValueError("Choice: needs at least one option.")
        self.width = len(self.options)

    def index(self, value) -> int:
        for i, option in enumerate(self.options):
            if option is value or option == value:
                return i
        raise ValueError(f"Choice: {value!r} is not one of {self.options}.")

    def from_unit(self, u) -> list:
        u = np.asarray(u, dtype=np.float64).reshape(-1, self.width)
        return [self.options[i] for i in u.argmax(axis=1)]

    def to_unit(self, values) -> np.ndarray:
        out = np.zeros((len(values), self.width))
        out[np.arange(len(values)), [self.index(v) for v in values]] = 1.0
        return out

    def sample(self, rng, size: int) -> list:
        return [self.options[i] for i in rng.integers(0, self.width, size)]

    def grid(self, points: int) -> list:
        return list(self.options)

    def __repr__(self) -> str:
        return f"Choice({self.options!r})"


class Space:
    """A named product of dimensions. A plain list in the dict becomes a :class:`Choice`."""

    def __init__(self, dims: dict):
        if isinstance(dims, Space):
            dims = dims.dims
        if not isinstance(dims, dict) or not dims:
            raise ValueError("Space: expected a non-empty dict {name: Real(...) | Integer(...) | Choice(...) | list}.")
        self.dims = {}
        for name, dim in dims.items():
            if isinstance(dim, (list, tuple)):
                dim = Choice(dim)
            if not isinstance(dim, (Real, Choice)):
                raise TypeError(f"Space: dimension {name!r} is a {type(dim).__name__}; use Real, Integer, Choice "
                                "or a list of options.")
            self.dims[name] = dim
        self.names = list(self.dims)
        widths = [d.width for d in self.dims.values()]
        self._slices = dict(zip(self.names, (slice(a, a + w) for a, w in zip(np.cumsum([0] + widths), widths))))
        self.n_columns = sum(widths)
        self.continuous = np.concatenate([np.full(d.width, not isinstance(d, Choice)) for d in self.dims.values()])

    def sample(self, rng, size: int) -> list[dict]:
        columns = {name: dim.sample(rng, size) for name, dim in self.dims.items()}
        return [{name: columns[name][i] for name in self.names} for i in range(size)]

    def grid(self, points: int) -> list[dict]:
        axes = [dim.grid(points) for dim in self.dims.values()]
        return [dict(zip(self.names, combo)) for combo in itertools.product(*axes)]

    def encode(self, params: list[dict]) -> np.ndarray:
        """Points in the unit cube ``(m, n_columns)``: the coordinates the GP works in."""
        return np.hstack([dim.to_unit([p[name] for p in params]) for name, dim in self.dims.items()])

    def decode(self, U) -> list[dict]:
        U = np.atleast_2d(U)
        columns = {name: dim.from_unit(U[:, self._slices[name]]) for name, dim in self.dims.items()}
        return [{name: _plain(columns[name][i]) for name in self.names} for i in range(len(U))]

    def __repr__(self) -> str:
        return "Space({" + ", ".join(f"{n!r}: {d!r}" for n, d in self.dims.items()) + "})"


def _plain(v):
    """NumPy scalars to Python numbers (for tidy tables)."""
    return v.item() if isinstance(v, np.generic) else v


# ------------------------------------------------------------------------------------ trials
class Trials:
    """The table of a search: one row (a dict) per trial, in the order they were run.

    Columns: ``trial``, the hyper-parameters, ``value`` (the objective), ``seconds`` and whatever
    else the objective returned. ``best`` is the row with the best finite value;
    ``best_so_far()`` the running best, the curve to compare searches with.
    """

    def __init__(self, rows=(), maximize: bool = False, names=()):
        self.rows = [dict(r) for r in rows]
        self.maximize = bool(maximize)
        self.names = list(names)

    def append(self, row: dict) -> None:
        self.rows.append(dict(row))

    @property
    def values(self) -> np.ndarray:
        return np.array([r["value"] for r in self.rows], dtype=np.float64)

    @property
    def params(self) -> list[dict]:
        return [{n: r[n] for n in self.names} for r in self.rows]

    def column(self, name: str) -> list:
        return [r.get(name) for r in self.rows]

    def _sign(self) -> float:
        return -1.0 if self.maximize else 1.0

    @property
    def best(self) -> dict:
        v = self._sign() * self.values
        if not np.any(np.isfinite(v)):
            raise ValueError("Trials.best: no trial returned a finite value.")
        return self.rows[int(np.nanargmin(np.where(np.isfinite(v), v, np.nan)))]

    def best_so_far(self) -> np.ndarray:
        """``b_t`` = best value among trials ``1 … t`` (NaN until a finite value appears)."""
        v = self._sign() * self.values
        v = np.where(np.isfinite(v), v, np.inf)
        best = np.minimum.accumulate(v) * self._sign()
        return np.where(np.isfinite(best), best, np.nan)

    def sorted(self) -> Trials:
        order = np.argsort(self._sign() * np.nan_to_num(self.values, nan=np.inf * self._sign()), kind="stable")
        return Trials([self.rows[i] for i in order], self.maximize, self.names)

    def to_markdown(self, max_rows: int | None = None, digits: int = 4) -> str:
        """The table in Markdown (``IPython.display.Markdown(trials.to_markdown())`` renders it)."""
        columns = []
        for row in self.rows:
            columns.extend(k for k in row if k not in columns)
        rows = self.rows if max_rows is None else self.rows[:max_rows]

        def fmt(v):
            if isinstance(v, float):
                return f"{v:.{digits}g}"
            return "" if v is None else str(v)

        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
        if max_rows is not None and len(self.rows) > max_rows:
            lines.append(f"… {len(self.rows) - max_rows} more rows")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        head = f"Trials({len(self)} trials, {'maximize' if self.maximize else 'minimize'}"
        if not self.rows:
            return head + ")"
        return head + f", best value {self.best['value']:.4g})\n" + self.sorted().to_markdown(max_rows=10)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i) -> dict:
        return self.rows[i]


# ------------------------------------------------------------------------------------ evaluation
def _evaluate(objective, params: dict):
    """Run one trial: ``(value, extra columns, seconds)``. Module-level so that it pickles."""
    start = time.perf_counter()
    result = objective(**params)
    seconds = time.perf_counter() - start
    extras = {}
    if isinstance(result, dict):
        if "value" not in result:
            raise KeyError(f"hyperopt: the objective returned a dict without a 'value' entry: {sorted(result)}.")
        extras = {k: _plain(v) for k, v in result.items() if k != "value"}
        result = result["value"]
    return float(result), extras, seconds


def _run_trials(objective, params_list: list[dict], n_jobs, trials: Trials, **columns) -> None:
    n_jobs = os.cpu_count() if n_jobs in (None, -1) else int(n_jobs)
    if n_jobs < 1:
        raise ValueError(f"hyperopt: n_jobs must be ≥ 1 or -1 (all cores), received {n_jobs}.")
    if n_jobs == 1 or len(params_list) <= 1:
        results = [_evaluate(objective, p) for p in params_list]
    else:
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(params_list))) as pool:
            results = list(pool.map(partial(_evaluate, objective), params_list))
    for params, (value, extras, seconds) in zip(params_list, results):
        trials.append({"trial": len(trials) + 1, **params, "value": value, "seconds": seconds, **columns, **extras})


def grid_search(objective, space, points: int = 5, maximize: bool = False, n_jobs: int = 1) -> Trials:
    """Evaluate ``objective`` on every combination of ``points`` values per dimension.

    Real dimensions get ``points`` evenly spaced values (in log space when ``log=True``), integer
    ones at most that many distinct integers, choices all their options. For a hand-made grid
    pass lists: ``{"lr": [0.01, 0.1, 1.0], "lam": [0.0, 1.0]}``.
    """
    space = Space(space)
    if int(points) < 1:
        raise ValueError(f"grid_search: points must be ≥ 1, received {points!r}.")
    trials = Trials(maximize=maximize, names=space.names)
    _run_trials(objective, space.grid(int(points)), n_jobs, trials)
    return trials


def random_search(objective, space, n_trials: int = 20, rng=None, maximize: bool = False,
                  n_jobs: int = 1) -> Trials:
    """Evaluate ``objective`` at ``n_trials`` independent random points of ``space``."""
    space = Space(space)
    trials = Trials(maximize=maximize, names=space.names)
    _run_trials(objective, space.sample(make_rng(rng), int(n_trials)), n_jobs, trials)
    return trials


# ------------------------------------------------------------------------------------ Gaussian process
KERNELS = ("matern52", "rbf")


class GaussianProcess:
    """Gaussian-process regression with an ARD kernel whose hyper-parameters are fitted to the data.

    Prior: ``f ~ GP(0, k)``, observations ``y = f(x) + noise``, noise ~ N(0, σ_n²). With
    ``r² = Σ_d (x_d − x'_d)² / ℓ_d²`` (one length-scale ℓ_d per input dimension: "automatic
    relevance determination" — a large ℓ_d means dimension d hardly matters):

        RBF        k(x, x') = σ_f² exp(−r²/2)
        Matérn 5/2 k(x, x') = σ_f² (1 + √5 r + 5r²/3) exp(−√5 r)     (rougher; the usual choice for BO)

    Given data ``(X, y)`` with ``K = k(X, X) + σ_n² I = L Lᵀ`` (Cholesky) and ``α = K⁻¹ y``, the
    posterior at new points ``X*`` has mean ``μ* = k(X*, X) α`` and variance
    ``σ*² = k(x*, x*) − ‖L⁻¹ k(X, x*)‖²``. The hyper-parameters ``θ = log(σ_f, ℓ₁…ℓ_D, σ_n)``
    maximize the log marginal likelihood

        log p(y | X, θ) = −½ yᵀα − Σᵢ log Lᵢᵢ − (m/2) log 2π,
        ∂/∂θⱼ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θⱼ)

    (L-BFGS-B with these exact gradients, from a few starting points). ``y`` is standardized
    first (``normalize_y``), so σ_f and σ_n are relative to the spread of the data.
    """

    def __init__(self, kernel: str = "matern52", n_restarts: int = 3, normalize_y: bool = True,
                 length_scale_bounds=(1e-2, 1e2), noise_bounds=(1e-3, 1.0), rng=None):
        if kernel not in KERNELS:
            raise ValueError(f"GaussianProcess: kernel must be one of {KERNELS}, received {kernel!r}.")
        self.kernel, self.n_restarts, self.normalize_y = kernel, int(n_restarts), normalize_y
        self.length_scale_bounds, self.noise_bounds = length_scale_bounds, noise_bounds
        self.rng = make_rng(rng)
        self.theta = None

    # --------------------------------------------------------------- kernel
    def _profile(self, r2):
        """``k(r)/σ_f²`` and the factor ``g`` with ``∂k/∂log ℓ_d = σ_f² g · Δ_d²/ℓ_d²``."""
        if self.kernel == "rbf":
            k = np.exp(-0.5 * r2)
            return k, k
        r = np.sqrt(np.maximum(r2, 0.0))
        e = np.exp(-math.sqrt(5.0) * r)
        return (1 + math.sqrt(5.0) * r + 5.0 / 3.0 * r2) * e, 5.0 / 3.0 * (1 + math.sqrt(5.0) * r) * e

    def _unpack(self, theta):
        return math.exp(theta[0]), np.exp(theta[1:-1]), math.exp(theta[-1])

    def _cov(self, A, B, theta):
        sf, ell, _ = self._unpack(theta)
        r2 = np.sum(((A[:, None, :] - B[None, :, :]) / ell) ** 2, axis=-1)
        return sf ** 2 * self._profile(r2)[0]

    def log_marginal_likelihood(self, theta=None, gradient: bool = False):
        """``log p(y | X, θ)`` on the fitted (standardized) data, and its gradient if asked."""
        theta = self.theta if theta is None else np.asarray(theta, dtype=np.float64)
        X, y = self._X, self._y
        sf, ell, sn = self._unpack(theta)
        diff2 = ((X[:, None, :] - X[None, :, :]) / ell) ** 2  # (m, m, D)
        k, g = self._profile(diff2.sum(-1))
        m = len(X)
        K = sf ** 2 * k + (sn ** 2 + 1e-10) * np.eye(m)
        try:
            L = linalg.cholesky(K, lower=True)
        except linalg.LinAlgError:
            return (-np.inf, np.zeros_like(theta)) if gradient else -np.inf
        alpha = linalg.cho_solve((L, True), y)
        lml = -0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * m * math.log(2 * math.pi)
        if not gradient:
            return float(lml)
        W = np.outer(alpha, alpha) - linalg.cho_solve((L, True), np.eye(m))
        grad = np.empty_like(theta)
        grad[0] = 0.5 * np.sum(W * 2 * sf ** 2 * k)
        grad[1:-1] = 0.5 * np.einsum("ij,ijd->d", W * sf ** 2 * g, diff2)
        grad[-1] = 0.5 * np.trace(W) * 2 * sn ** 2
        return float(lml), grad

    # --------------------------------------------------------------- fit / predict
    def fit(self, X, y) -> GaussianProcess:
        """Fit the hyper-parameters to ``X (m, D)``, ``y (m,)`` and store what prediction needs."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if X.ndim != 2 or len(X) != len(y):
            raise ShapeError(f"GaussianProcess.fit: expected X (m, D) and y (m,), received {X.shape}, {y.shape}.")
        if not np.all(np.isfinite(y)):
            raise ValueError("GaussianProcess.fit: y contains NaN/inf; drop or replace those observations.")
        self._y_mean, self._y_std = (y.mean(), y.std() or 1.0) if self.normalize_y else (0.0, 1.0)
        self._X, self._y = X, (y - self._y_mean) / self._y_std
        D = X.shape[1]
        lb, ub = np.log(self.length_scale_bounds), np.log(self.noise_bounds)
        bounds = [(math.log(1e-2), math.log(1e2))] + [tuple(lb)] * D + [tuple(ub)]
        starts = [np.r_[0.0, np.full(D, math.log(0.3)), math.log(0.1)]]
        for _ in range(self.n_restarts):
            starts.append(np.array([self.rng.uniform(lo, hi) for lo, hi in bounds]))

        def negative(theta):
            value, grad = self.log_marginal_likelihood(theta, gradient=True)
            return (1e25, np.zeros_like(theta)) if not np.isfinite(value) else (-value, -grad)

        best = None
        for start in starts:
            res = optimize.minimize(negative, start, jac=True, method="L-BFGS-B", bounds=bounds)
            if best is None or res.fun < best.fun:
                best = res
        self.theta = best.x
        sf, ell, sn = self._unpack(self.theta)
        K = self._cov(X, X, self.theta) + (sn ** 2 + 1e-10) * np.eye(len(X))
        self._L = linalg.cholesky(K, lower=True)
        self._alpha = linalg.cho_solve((self._L, True), self._y)
        return self

    @property
    def length_scales(self) -> np.ndarray:
        """The fitted ℓ_d, one per input dimension."""
        return self._unpack(self.theta)[1]

    @property
    def signal_std(self) -> float:
        """σ_f in the units of ``y``."""
        return self._unpack(self.theta)[0] * self._y_std

    @property
    def noise_std(self) -> float:
        """σ_n in the units of ``y``."""
        return self._unpack(self.theta)[2] * self._y_std

    def predict(self, X, return_std: bool = False):
        """Posterior mean of ``f`` at ``X`` (and its standard deviation with ``return_std``)."""
        if self.theta is None:
            raise RuntimeError("GaussianProcess.predict called before fit.")
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        Ks = self._cov(X, self._X, self.theta)
        mean = Ks @ self._alpha * self._y_std + self._y_mean
        if not return_std:
            return mean
        v = linalg.solve_triangular(self._L, Ks.T, lower=True)
        var = self._unpack(self.theta)[0] ** 2 - np.sum(v * v, axis=0)
        return mean, np.sqrt(np.maximum(var, 0.0)) * self._y_std


def expected_improvement(mean, std, best: float, xi: float = 0.0) -> np.ndarray:
    """Expected improvement below ``best`` (minimization) of ``f ~ N(mean, std²)``:

        EI = E[max(best − ξ − f, 0)] = (best − ξ − μ) Φ(z) + σ φ(z),   z = (best − ξ − μ)/σ

    Large where the mean is low (exploitation) *or* the uncertainty is large (exploration);
    ``ξ ≥ 0`` asks for a minimum improvement, tilting towards exploration.
    """
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    gain = best - xi - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        z = gain / std
        ei = gain * stats.norm.cdf(z) + std * stats.norm.pdf(z)
    return np.where(std > 1e-12, ei, np.maximum(gain, 0.0))


def _propose(space: Space, gp: GaussianProcess, U_seen, y_best: float, xi: float, rng, n_candidates: int):
    """Maximize EI: random candidates, points near the best trials, then L-BFGS-B from the top few."""
    cand = space.encode(space.sample(rng, n_candidates))
    near = U_seen[rng.integers(0, len(U_seen), n_candidates // 4)]
    near = np.where(space.continuous, np.clip(near + 0.05 * rng.standard_normal(near.shape), 0, 1), near)
    cand = np.vstack([cand, near])

    def ei(U):
        return expected_improvement(*gp.predict(U, return_std=True), y_best, xi)

    scores = ei(cand)
    cont = space.continuous
    best_u, best_score = cand[scores.argmax()], scores.max()
    if cont.any():
        for u0 in cand[np.argsort(scores)[-3:]]:
            def negative(c, u0=u0):
                u = u0.copy()
                u[cont] = c
                return -ei(u[None])[0]
            res = optimize.minimize(negative, u0[cont], method="L-BFGS-B", bounds=[(0.0, 1.0)] * int(cont.sum()))
            if -res.fun > best_score:
                best_u, best_score = u0.copy(), -res.fun
                best_u[cont] = res.x
    return space.decode(best_u)[0], float(best_score)


def bayes_opt(objective, space, n_trials: int = 25, n_initial: int = 5, rng=None, maximize: bool = False,
              kernel: str = "matern52", xi: float = 0.01, n_candidates: int = 1000, n_jobs: int = 1) -> Trials:
    """Bayesian optimization of ``objective`` over ``space`` with a GP surrogate and expected improvement.

    1. Evaluate ``n_initial`` random points (in parallel with ``n_jobs``).
    2. Repeat until ``n_trials``: fit a :class:`GaussianProcess` to all trials so far (in unit-cube
       coordinates, log-scaled where asked, choices one-hot), pick the point with the largest
       :func:`expected_improvement` (``ξ`` = ``xi`` × the spread of the values seen) and evaluate it.

    Trials whose value is not finite (a diverged training run) are given the worst value seen so
    the model learns to avoid that region. The table records ``ei`` for the proposed trials.
    """
    space = Space(space)
    rng = make_rng(rng)
    n_trials, n_initial = int(n_trials), max(1, min(int(n_initial), int(n_trials)))
    trials = Trials(maximize=maximize, names=space.names)
    _run_trials(objective, space.sample(rng, n_initial), n_jobs, trials)
    gp = GaussianProcess(kernel=kernel, rng=rng)
    sign = -1.0 if maximize else 1.0
    while len(trials) < n_trials:
        y = sign * trials.values
        finite = np.isfinite(y)
        if not finite.any():
            params, score = space.sample(rng, 1)[0], float("nan")
        else:
            y = np.where(finite, y, y[finite].max())
            U = space.encode(trials.params)
            gp.fit(U, y)
            params, score = _propose(space, gp, U, y.min(), xi * (y.std() or 1.0), rng, n_candidates)
        _run_trials(objective, [params], 1, trials, ei=score)
    return trials
