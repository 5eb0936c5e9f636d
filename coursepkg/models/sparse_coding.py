"""Sparse coding: explain each input as a sparse combination of a few dictionary atoms.

With a dictionary ``D`` of shape ``(d, k)`` (one unit-norm **atom** per column) and inputs as rows
``x`` of length ``d``, the code ``h`` (length ``k``) of an input solves the lasso problem

    min_h  ½‖x − h Dᵀ‖² + λ‖h‖₁

(the reconstruction is ``x̂ = h Dᵀ``, i.e. ``D hᵀ`` in column notation). There is no encoder
network: the code is the result of an optimization. **ISTA** alternates a gradient step on the
smooth part with the **soft threshold**, the proximal operator of ``λ‖h‖₁``:

    h ← S_{ηλ}(h − η (h Dᵀ − x) D),    S_t(u) = sign(u) max(|u| − t, 0),    η = 1/L,  L = ‖D‖₂²

(``L``, the largest eigenvalue of ``DᵀD``, bounds the curvature of the smooth part, so the step
never overshoots). **FISTA** adds Nesterov-style momentum and converges as ``O(1/t²)`` instead of
``O(1/t)``. Learning ``D`` alternates inference of the codes with a projected gradient step on
``D`` (then every column is rescaled to norm 1, otherwise ``D`` could grow and the codes shrink
to cheat the L1 penalty).
"""

from __future__ import annotations

import numpy as np

from ..data.batching import minibatches, num_batches
from ..errors import as_float_array, check_finite, check_positive, check_shape
from ..init import make_rng
from ..nn.module import DEFAULT_DTYPE, Module, Parameter
from ..train import progress_bar

SOLVERS = ("ista", "fista")


def soft_threshold(u, t) -> np.ndarray:
    """``S_t(u) = sign(u) max(|u| − t, 0)``: shrink every entry towards 0 by ``t``, to exactly 0 if ``|u| ≤ t``."""
    check_positive(t, "soft_threshold", "t (the threshold)", allow_zero=True)
    u = np.asarray(u)
    return np.sign(u) * np.maximum(np.abs(u) - t, 0)


def lipschitz_constant(D) -> float:
    """``L = ‖D‖₂² = λ_max(DᵀD)``, the Lipschitz constant of the gradient of ``½‖x − h Dᵀ‖²``."""
    return float(np.linalg.norm(np.asarray(D, dtype=np.float64), 2) ** 2)


def _check_problem(X, D, lam, who):
    D = as_float_array(D, who)
    check_shape(D, who, (None, None), "dictionary D (d, k)")
    X = as_float_array(X, who, D.dtype)
    check_shape(X, who, (None, D.shape[0]), "inputs X (one row of d values each)")
    check_finite(X, who, "inputs X")
    check_positive(lam, who, "lam (the sparsity weight λ)", allow_zero=True)
    return X, D


def ista_step(h, X, D, lam: float, step: float) -> np.ndarray:
    """One ISTA step for a batch of codes ``h`` (n, k) of inputs ``X`` (n, d): ``S_{ηλ}(h − η (h Dᵀ − X) D)``."""
    X, D = _check_problem(X, D, lam, "ista_step")
    check_shape(h, "ista_step", (len(X), D.shape[1]), "codes h (one row of k values per input)")
    check_positive(step, "ista_step", "step (the step size η, e.g. 1/lipschitz_constant(D))")
    return soft_threshold(h - step * ((h @ D.T - X) @ D), step * lam)


def sparse_coding_objective(X, D, h, lam: float) -> float:
    """Mean over the batch of ``½‖x − h Dᵀ‖² + λ‖h‖₁``."""
    return float(np.mean(0.5 * np.sum((X - h @ D.T) ** 2, axis=1) + lam * np.sum(np.abs(h), axis=1)))


def sparse_code(X, D, lam: float, steps: int = 100, solver: str = "fista", h0=None) -> np.ndarray:
    """Codes ``h`` (n, k) of the rows of ``X`` (n, d): ``steps`` iterations of ISTA or FISTA from ``h0`` (default 0).

    Each iteration is :func:`ista_step`, with the gradient computed as ``h (DᵀD) − X D`` from the
    two products made once.

    FISTA: ``h_t = S(y_t − η ∇)`` at the extrapolated point ``y_t``, then
    ``τ_{t+1} = (1 + √(1 + 4τ_t²))/2`` and ``y_{t+1} = h_t + ((τ_t − 1)/τ_{t+1}) (h_t − h_{t−1})``.
    """
    X, D = _check_problem(X, D, lam, "sparse_code")
    if solver not in SOLVERS:
        raise ValueError(f"sparse_code: solver must be one of {SOLVERS}, received {solver!r}.")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"sparse_code: steps must be a non-negative integer, received {steps!r}.")
    gram, XD = D.T @ D, X @ D  # (h Dᵀ − X) D = h (DᵀD) − X D: k×k work per step instead of d×k
    step = 1.0 / max(float(np.linalg.eigvalsh(gram.astype(np.float64))[-1]), 1e-12)  # L = λ_max(DᵀD)
    h = np.zeros((len(X), D.shape[1]), dtype=X.dtype)
    if h0 is not None:
        h0 = as_float_array(h0, "sparse_code", X.dtype)
        check_shape(h0, "sparse_code", h.shape, "initial codes h0 (one row of k values per input)")
        h[...] = h0
    y, tau = h, 1.0
    for _ in range(int(steps)):
        point = y if solver == "fista" else h
        h_new = soft_threshold(point - step * (point @ gram - XD), step * lam)
        if solver == "fista":
            tau_new = (1 + np.sqrt(1 + 4 * tau * tau)) / 2
            y = h_new + ((tau - 1) / tau_new) * (h_new - h)
            tau = tau_new
        h = h_new
    return h


def normalize_columns(D) -> np.ndarray:
    """``D`` with every column rescaled to unit Euclidean norm (all-zero columns are left at 0)."""
    return D / np.maximum(np.linalg.norm(D, axis=0), 1e-12)


class SparseCoding(Module):
    """A learned dictionary ``D`` (``Parameter`` of shape ``(n_features, n_atoms)``, unit-norm columns).

    ``encode(X)`` (also ``forward``) infers sparse codes with FISTA, ``decode(h) = h Dᵀ``
    reconstructs, ``fit(X)`` learns ``D``. ``rng`` draws the initial atoms (Gaussian, or random
    training rows with :meth:`init_from_data`) and shuffles the mini-batches.
    """

    def __init__(self, n_features: int, n_atoms: int, lam: float = 0.1, steps: int = 50, rng=None,
                 dtype=DEFAULT_DTYPE):
        if int(n_features) <= 0 or int(n_atoms) <= 0:
            raise ValueError(f"SparseCoding: n_features and n_atoms must be positive, received {n_features}, "
                             f"{n_atoms}.")
        check_positive(lam, "SparseCoding", "lam (the sparsity weight λ)", allow_zero=True)
        self.lam, self.steps = float(lam), int(steps)
        self.rng = make_rng(rng)
        self.D = Parameter(normalize_columns(self.rng.standard_normal((int(n_features), int(n_atoms)))).astype(dtype))

    def init_from_data(self, X) -> SparseCoding:
        """Start from ``n_atoms`` random rows of ``X`` (normalized) instead of Gaussian noise atoms."""
        X, D = _check_problem(X, self.D.data, self.lam, "SparseCoding.init_from_data")
        rows = self.rng.choice(len(X), size=D.shape[1], replace=len(X) < D.shape[1])
        self.D.data[...] = normalize_columns(X[rows].T + 1e-3 * self.rng.standard_normal(D.shape))
        return self

    def encode(self, X, steps: int | None = None) -> np.ndarray:
        """Sparse codes ``h`` (n, n_atoms) of the rows of ``X`` by FISTA."""
        return sparse_code(X, self.D.data, self.lam, self.steps if steps is None else steps)

    def decode(self, h) -> np.ndarray:
        """The reconstruction ``x̂ = h Dᵀ``."""
        return np.asarray(h) @ self.D.data.T

    def forward(self, X):
        return self.encode(X)

    def objective(self, X, h=None) -> float:
        """Mean of ``½‖x − h Dᵀ‖² + λ‖h‖₁`` over the rows of ``X`` (codes inferred if not given)."""
        return sparse_coding_objective(X, self.D.data, self.encode(X) if h is None else h, self.lam)

    def dictionary_step(self, X, h) -> None:
        """One projected gradient step on ``D`` for fixed codes: ``D ← normalize(D − (1/L_D) ∂C/∂D)``.

        ``C = (1/n) Σ ½‖x − h Dᵀ‖²`` gives ``∂C/∂D = −(1/n) (X − h Dᵀ)ᵀ h``; its Lipschitz constant
        ``L_D = ‖hᵀh‖₂ / n`` makes the step size safe without tuning.
        """
        n = len(X)
        grad = -(X - h @ self.D.data.T).T @ h / n
        L = max(lipschitz_constant(h) / n, 1e-12)
        self.D.data[...] = normalize_columns(self.D.data - grad / L)

    def fit(self, X, epochs: int = 5, batch_size: int = 256, progress: bool = True) -> list:
        """Alternate FISTA inference and a dictionary step on mini-batches; returns the objective after each epoch
        (measured on up to 1,000 training rows)."""
        X, _ = _check_problem(X, self.D.data, self.lam, "SparseCoding.fit")
        monitor, history = X[:1000], []
        bar = progress_bar(epochs * num_batches(len(X), batch_size), progress, "dictionary")
        for _ in range(int(epochs)):
            for Xb, _ in minibatches(X, None, batch_size, shuffle=True, rng=self.rng):
                self.dictionary_step(Xb, self.encode(Xb))
                bar.update(1)
            history.append(self.objective(monitor))
            bar.set_postfix(objective=f"{history[-1]:.4g}", refresh=False)
        bar.close()
        return history

    def extra_repr(self) -> str:
        return f"n_features={self.D.shape[0]}, n_atoms={self.D.shape[1]}, lam={self.lam:g}"
