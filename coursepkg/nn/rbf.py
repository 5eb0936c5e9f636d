"""Radial basis function units: each unit responds to the distance of the input from its centre.

An RBF network is a layer of such units followed by a linear read-out,
``Sequential(RBF(n_in, m), Dense(m, n_out))``: f(x) = Σⱼ wⱼ φ(‖x − cⱼ‖ / σⱼ) + b.
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import as_float_array, check_shape
from .activations import _Activation
from .module import DEFAULT_DTYPE, Parameter


# Each basis as a function of the squared radius s = r², returning (φ, dφ/ds). Differentiating
# through s rather than r avoids dividing by r = ‖x − c‖ / σ, which is 0 at a centre.
def _gaussian_of_sq(s):
    phi = np.exp(-s)  # e^{−r²}
    return phi, -phi


def _ricker_of_sq(s):
    e = np.exp(-s / 2)  # (1 − r²) e^{−r²/2}
    return (1 - s) * e, (s - 3) / 2 * e


BASES = {"gaussian": _gaussian_of_sq, "ricker": _ricker_of_sq}


class RBF(_Activation):
    """A layer of ``n_centers`` radial basis units with learnable centres and widths.

        rⱼ = ‖x − cⱼ‖ / σⱼ,       aⱼ = φ(rⱼ),       φ(r) = e^{−r²} ("gaussian")
                                                    or φ(r) = (1 − r²) e^{−r²/2} ("ricker")

    Shapes: ``x`` is ``(n, n_in)``, the centres ``c`` are ``(n_centers, n_in)``, the output is
    ``(n, n_centers)``. The widths are stored as ``log_width = ln σ`` so gradient descent can
    never make a width negative (``width`` gives σ). All squared distances at once:
    ``‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²``. With ``s = r²`` and ``q = ∂C/∂a ⊙ φ'(s)``:

        ∂C/∂x  = Σⱼ qⱼ · 2 (x − cⱼ) / σⱼ²
        ∂C/∂cⱼ = −Σₙ qⱼ · 2 (x − cⱼ) / σⱼ²
        ∂C/∂ln σⱼ = −2 Σₙ qⱼ sⱼ

    Centres start as N(0, 1) draws and widths at 1; :meth:`init_centers_from` places them on
    training examples instead, which is usually much better.
    """

    def __init__(self, n_in: int, n_centers: int, basis: str = "gaussian", rng=None,
                 dtype=DEFAULT_DTYPE):
        if int(n_in) <= 0 or int(n_centers) <= 0:
            raise ValueError(f"RBF: n_in and n_centers must be positive, received {n_in}, {n_centers}.")
        if basis not in BASES:
            raise ValueError(f"RBF: unknown basis {basis!r}; choose one of {sorted(BASES)}.")
        self.n_in, self.n_centers, self.basis = int(n_in), int(n_centers), basis
        rng = initializers.make_rng(rng)
        self.c = Parameter(rng.standard_normal((self.n_centers, self.n_in)).astype(dtype))
        self.log_width = Parameter(np.zeros(self.n_centers, dtype=dtype))

    @property
    def width(self) -> np.ndarray:
        """The widths σⱼ = exp(log_width)."""
        return np.exp(self.log_width.data)

    def _dtype(self):
        return self.c.data.dtype

    def _forward(self, x):
        check_shape(x, repr(self), (None, self.n_in))
        c = self.c.data
        dist2 = np.sum(x * x, axis=1)[:, None] - 2 * (x @ c.T) + np.sum(c * c, axis=1)
        self._inv_var = np.exp(-2 * self.log_width.data)  # 1/σ²
        self._s = np.maximum(dist2, 0) * self._inv_var  # rounding can make dist2 slightly < 0
        a, self._dphi = BASES[self.basis](self._s)
        return a

    def _backward(self, g):
        q = g * self._dphi
        w = q * self._inv_var
        x, c = self._x, self.c.data
        self.c.grad -= 2 * (w.T @ x - w.sum(axis=0)[:, None] * c)
        self.log_width.grad -= 2 * np.sum(q * self._s, axis=0)
        return 2 * (x * w.sum(axis=1, keepdims=True) - w @ c)

    def init_centers_from(self, X, rng=None, set_widths: bool = True) -> RBF:
        """Place the centres on ``n_centers`` distinct rows of ``X`` drawn at random.

        With ``set_widths`` every width becomes ``σ = d_max / √(2m)``, where ``d_max`` is the
        largest distance between two chosen centres and ``m = n_centers``: wide enough for the
        units to overlap, narrow enough for each to stay local. Returns the layer.
        """
        X = as_float_array(X, f"{self!r}.init_centers_from", self._dtype())
        check_shape(X, f"{self!r}.init_centers_from", (None, self.n_in), "data")
        if len(X) < self.n_centers:
            raise ValueError(
                f"{self!r}.init_centers_from: needs at least {self.n_centers} examples to pick "
                f"distinct centres, received {len(X)}. Use fewer centres or more data."
            )
        rows = initializers.make_rng(rng).choice(len(X), size=self.n_centers, replace=False)
        self.c.data[...] = X[rows]
        if set_widths:
            diff = X[rows][:, None, :] - X[rows][None, :, :]
            d_max = float(np.sqrt(np.max(np.sum(diff * diff, axis=2))))
            if d_max > 0:
                self.log_width.data[...] = np.log(d_max / np.sqrt(2 * self.n_centers))
        return self

    def extra_repr(self) -> str:
        return f"{self.n_in}, {self.n_centers}, basis={self.basis!r}"


__all__ = ["RBF"]
