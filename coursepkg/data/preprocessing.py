"""Input preprocessing fitted on the training set: standardization, PCA rotation and whitening.

The shape of the cost surface depends on the inputs: for a linear neuron with the quadratic cost
its Hessian is ``H = (1/n) Σ x̃ x̃ᵀ`` with ``x̃ = (x, 1)``. A mean far from zero, features on
different scales and correlated features all stretch that bowl (chapter 6). The transforms here
undo each cause:

    standardize:  x ← (x − μ) / σ                    (mean 0, variance 1 per feature)
    PCA:          x ← (x − μ) U                      (uncorrelated components, largest variance first)
    whiten:       x ← (x − μ) U Λ^{−½}               (uncorrelated, variance 1: H = I)

with ``μ`` the mean and ``Σ = U Λ Uᵀ`` the covariance of the *training* inputs. ``fit`` learns
``μ, σ, U, Λ`` from the training set only; the same ``transform`` is then applied to validation
and test data (statistics of the test set must not leak into training).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, as_float_array, check_finite, check_positive_int


class _Fitted:
    """Common part of the transforms: the checks of ``fit`` and ``transform`` and ``fit_transform``."""

    mean = None

    def _inputs(self, X, fitting: bool = False) -> np.ndarray:
        who = type(self).__name__
        X = as_float_array(X, who)
        if X.ndim != 2:
            raise ShapeError(f"{who}: expected inputs of shape (n, features), received shape {X.shape}.")
        if not fitting:
            self._require_fit()
            if X.shape[1] != len(self.mean):
                raise ShapeError(f"{who}: fitted on {len(self.mean)} features, received inputs of shape {X.shape}.")
        check_finite(X, who, "inputs")
        return X

    def _require_fit(self) -> None:
        if self.mean is None:
            raise RuntimeError(f"{type(self).__name__}: call fit(X_train) first, then transform.")

    def _fit_mean(self, X) -> np.ndarray:
        """The training inputs as float64, with ``μ`` stored; returns the centered inputs ``X − μ``."""
        X = self._inputs(X, fitting=True).astype(np.float64)
        if len(X) < 2:
            raise ValueError(f"{type(self).__name__}: fit needs at least 2 examples, received {len(X)}.")
        self.mean = X.mean(axis=0)
        return X - self.mean

    def fit_transform(self, X) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)


class Standardizer(_Fitted):
    """``x ← (x − μ) / σ`` per feature, with ``μ`` and ``σ`` of the training inputs.

    A feature that is constant in the training set (``σ = 0``, e.g. a border pixel of MNIST) is
    only centered: dividing by its ``σ`` would give NaN.
    """

    scale = None

    def fit(self, X) -> Standardizer:
        centered = self._fit_mean(X)
        std = centered.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X) -> np.ndarray:
        X = self._inputs(X)
        return ((X - self.mean) / self.scale).astype(X.dtype, copy=False)

    def inverse_transform(self, Z) -> np.ndarray:
        """The inputs ``x = z σ + μ`` that ``transform`` maps to ``Z``."""
        self._require_fit()
        Z = as_float_array(Z, "Standardizer")
        return (Z * self.scale + self.mean).astype(Z.dtype, copy=False)


class PCA(_Fitted):
    """Principal component analysis: ``z = (x − μ) U_k``, optionally whitened ``z = (x − μ) U_k Λ_k^{−½}``.

    ``U`` holds the eigenvectors of the training covariance ``Σ = (1/n) Σᵢ (xᵢ − μ)ᵀ(xᵢ − μ)`` as
    columns, sorted by decreasing eigenvalue (the variance ``λ`` along each). ``n_components``
    keeps the first ``k`` (all by default); dropping the smallest removes directions along which
    the inputs hardly vary, which whitening would otherwise blow up (``eps`` guards the division).

    Attributes after ``fit``: ``mean``, ``components`` (``U_k``, shape ``(features, k)``),
    ``variances`` (``λ_1 ≥ … ≥ λ_k``) and ``explained_variance_ratio`` (``λ_j / Σ λ``).
    """

    def __init__(self, n_components: int | None = None, whiten: bool = False, eps: float = 1e-8):
        if n_components is not None:
            check_positive_int(n_components, "PCA", "n_components")
        self.n_components, self.whiten, self.eps = n_components, bool(whiten), float(eps)

    def fit(self, X) -> PCA:
        centered = self._fit_mean(X)
        k = self.n_components or centered.shape[1]
        if k > centered.shape[1]:
            raise ValueError(f"PCA: n_components={k} is more than the {centered.shape[1]} features of the inputs.")
        variances, vectors = np.linalg.eigh(centered.T @ centered / len(centered))
        order = np.argsort(variances)[::-1]
        variances = np.clip(variances[order], 0.0, None)  # rounding can make a zero variance slightly negative
        self.explained_variance_ratio = variances[:k] / variances.sum()
        self.variances, self.components = variances[:k], vectors[:, order[:k]]
        return self

    def _factor(self) -> np.ndarray:
        """``U_k``, or ``U_k Λ_k^{−½}`` when whitening."""
        return self.components / np.sqrt(self.variances + self.eps) if self.whiten else self.components

    def transform(self, X) -> np.ndarray:
        X = self._inputs(X)
        return ((X - self.mean) @ self._factor()).astype(X.dtype, copy=False)

    def inverse_transform(self, Z) -> np.ndarray:
        """``x ≈ z Uᵀ + μ`` (``z Λ^{½} Uᵀ + μ`` when whitened): exact when all components are kept."""
        self._require_fit()
        Z = as_float_array(Z, "PCA")
        scale = np.sqrt(self.variances + self.eps) if self.whiten else 1.0
        return ((Z * scale) @ self.components.T + self.mean).astype(Z.dtype, copy=False)
