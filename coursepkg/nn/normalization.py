"""Batch normalization (Ioffe & Szegedy, 2015) for dense layers and, per channel, for convolutions.

Batch norm sits between the affine map and the activation: ``z = xW + b → ẑ = BN(z) → a = f(ẑ)``.
For one unit and a mini-batch of ``B`` values z₁ … z_B:

    μ_B = (1/B) Σᵢ zᵢ,     σ²_B = (1/B) Σᵢ (zᵢ − μ_B)²,     uᵢ = (zᵢ − μ_B) / √(σ²_B + ε),     ẑᵢ = γ uᵢ + β

Every output depends on the whole batch through μ_B and σ²_B, so the backward pass has three
paths from zᵢ to the cost (with ``∂C/∂uᵢ = γ ∂C/∂ẑᵢ``):

    ∂C/∂σ²_B = −½ (σ²_B + ε)^(−3/2) Σᵢ ∂C/∂uᵢ (zᵢ − μ_B)
    ∂C/∂μ_B  = −(σ²_B + ε)^(−1/2) Σᵢ ∂C/∂uᵢ          (the σ² path adds −(2/B) Σᵢ (zᵢ − μ_B) = 0)
    ∂C/∂zᵢ   = ∂C/∂uᵢ / √(σ²_B + ε) + ∂C/∂σ²_B · 2(zᵢ − μ_B)/B + ∂C/∂μ_B / B

and ``∂C/∂γ = Σᵢ ∂C/∂ẑᵢ uᵢ``, ``∂C/∂β = Σᵢ ∂C/∂ẑᵢ``. Substituting gives the compact form
``∂C/∂zᵢ = (1/(B√(σ²_B+ε))) (B ∂C/∂uᵢ − Σⱼ ∂C/∂uⱼ − uᵢ Σⱼ ∂C/∂uⱼ uⱼ)``.

At test time there may be a single example, so μ_B and σ²_B are replaced by estimates of the
population statistics collected during training (see :class:`BatchNorm1d`).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, as_float_array, check_positive, check_probability, check_shape
from .module import DEFAULT_DTYPE, Module, Parameter

STATS_MODES = ("ema", "average")


class _BatchNorm(Module):
    """Shared implementation on rows: every column of a ``(m, c)`` array is one unit/channel.

    Subclasses say how their input is reshaped into rows (``_to_rows``/``_from_rows``).
    """

    buffers = ("running_mean", "running_var", "num_batches_tracked", "_sum_mean", "_sum_var")

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, stats: str = "ema",
                 affine: bool = True, dtype=DEFAULT_DTYPE):
        if int(num_features) <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be positive, received {num_features}.")
        check_positive(eps, type(self).__name__, "eps")
        check_probability(momentum, type(self).__name__, "momentum")
        if stats not in STATS_MODES:
            raise ValueError(f"{type(self).__name__}: stats must be one of {STATS_MODES}, received {stats!r}.")
        self.num_features = int(num_features)
        self.eps, self.momentum, self.stats = float(eps), float(momentum), stats
        if affine:
            self.gamma = Parameter(np.ones(self.num_features, dtype=dtype))
            self.beta = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.gamma = self.beta = None
        self.reset_running_stats()
        self._cache = None

    def reset_running_stats(self) -> None:
        """Forget the inference statistics: mean 0, variance 1, no batches seen."""
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0
        self._sum_mean = np.zeros(self.num_features)
        self._sum_var = np.zeros(self.num_features)

    # ----------------------------------------------------------------- layout hooks
    def _check(self, x) -> None:
        raise NotImplementedError

    def _to_rows(self, x):
        return x

    def _from_rows(self, rows, shape):
        return rows

    # ----------------------------------------------------------------- statistics
    def _update_running(self, mean, var, m: int) -> None:
        unbiased = var * (m / (m - 1))
        self.num_batches_tracked += 1
        if self.stats == "ema":
            k = self.momentum
            self.running_mean = (1 - k) * self.running_mean + k * mean
            self.running_var = (1 - k) * self.running_var + k * unbiased
        else:
            self._sum_mean += mean
            self._sum_var += unbiased
            self.running_mean = self._sum_mean / self.num_batches_tracked
            self.running_var = self._sum_var / self.num_batches_tracked

    # ----------------------------------------------------------------- passes
    def forward(self, x):
        name = repr(self)
        dtype = self.gamma.data.dtype if self.gamma is not None else None
        x = as_float_array(x, name, dtype)
        self._check(x)
        rows = self._to_rows(x)
        m = len(rows)
        if self.training:
            if m < 2:
                raise ShapeError(
                    f"{name}: training mode needs at least 2 values per unit to estimate a batch variance, "
                    f"received input of shape {x.shape}. Use a batch size ≥ 2, or call model.eval() for "
                    "single examples."
                )
            mean = rows.mean(axis=0)
            centred = rows - mean
            var = np.mean(centred * centred, axis=0)
            self._update_running(mean.astype(np.float64), var.astype(np.float64), m)
        else:
            mean = self.running_mean.astype(rows.dtype)
            var = self.running_var.astype(rows.dtype)
            centred = rows - mean
        inv_std = 1.0 / np.sqrt(var + rows.dtype.type(self.eps))
        u = centred * inv_std
        out = u if self.gamma is None else u * self.gamma.data + self.beta.data
        self._cache = (centred, inv_std, u, self.training, x.shape)
        return self._from_rows(out, x.shape)

    def backward(self, grad_out):
        if self._cache is None:
            raise RuntimeError(f"{self!r}.backward called before forward: run the forward pass first.")
        centred, inv_std, u, training, shape = self._cache
        g = as_float_array(grad_out, f"{self!r}.backward", u.dtype)
        if g.shape != shape:
            raise ShapeError(f"{self!r}.backward: expected grad_out of shape {shape}, received {g.shape}.")
        g = self._to_rows(g)
        if self.gamma is not None:
            self.gamma.add_grad_sum(g * u, axis=0)
            self.beta.add_grad_sum(g, axis=0)
            du = g * self.gamma.data
        else:
            du = g
        if not training:  # fixed statistics: BN is an affine map per unit
            return self._from_rows(du * inv_std, shape)
        B = len(u)
        d_var = -0.5 * inv_std ** 3 * np.sum(du * centred, axis=0)
        d_mean = -inv_std * du.sum(axis=0)
        dz = du * inv_std + d_var * (2.0 / B) * centred + d_mean / B
        return self._from_rows(dz, shape)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}, stats={self.stats!r}"
                + ("" if self.gamma is not None else ", affine=False"))


class BatchNorm1d(_BatchNorm):
    """Batch normalization of each feature of a ``(n, d)`` batch: ``ẑ = γ (z − μ_B)/√(σ²_B + ε) + β``.

    Training mode (``model.train()``) normalizes with the statistics of the current mini-batch
    and backpropagates through them (module docstring); evaluation mode (``model.eval()``) uses
    the stored ``running_mean`` and ``running_var`` instead, so the layer becomes the fixed
    affine map ``ẑ = γ (z − μ̂)/√(σ̂² + ε) + β`` and a single example gets a deterministic output.

    How the stored statistics are estimated (``stats=``):

    ``"ema"`` (default, PyTorch's convention)
        after each training batch ``μ̂ ← (1 − m) μ̂ + m μ_B`` and ``σ̂² ← (1 − m) σ̂² + m σ²_B·B/(B−1)``
        with ``m = momentum``: recent batches count most, which tracks the weights as they change.
    ``"average"`` (the course notes' inference statistics)
        the plain average over all training batches seen, ``μ̂ = (1/N_b) Σ μ_B`` and
        ``σ̂² = (1/N_b) Σ σ²_B·B/(B−1)``. The factor ``B/(B−1)`` turns each biased batch variance
        into an unbiased estimate (it is applied per batch, so a smaller last batch is handled
        correctly). The notes take these averages with the *final, converged* network: call
        :func:`recompute_batchnorm_statistics` after training to do exactly that.

    Parameters
    ----------
    num_features : number of units ``d``.
    eps : ``ε`` added to the variance to avoid dividing by zero.
    momentum : ``m`` of the moving average (ignored with ``stats="average"``).
    stats : ``"ema"`` or ``"average"``.
    affine : learn ``γ`` (starts at 1) and ``β`` (starts at 0); without them ``ẑ = u``.
    dtype : parameter dtype.

    Note: ``running_mean``/``running_var`` are plain arrays, not parameters, so the optimizer and
    weight penalties leave them alone.
    """

    def _check(self, x) -> None:
        check_shape(x, repr(self), (None, self.num_features))


class BatchNorm2d(_BatchNorm):
    """Batch normalization of each *channel* of a ``(n, c, h, w)`` batch (for convolutional layers).

    A feature map shares its weights across positions, so all ``B = n·h·w`` values of channel ``k``
    are normalized together with one ``μ_B``, one ``σ²_B`` and one pair ``(γ_k, β_k)``. The
    equations, the backward pass and the running statistics are those of :class:`BatchNorm1d`
    (the input is rearranged into ``(n·h·w, c)`` rows and back).
    """

    def _check(self, x) -> None:
        check_shape(x, repr(self), (None, self.num_features, None, None))

    def _to_rows(self, x):
        return x.transpose(0, 2, 3, 1).reshape(-1, self.num_features)

    def _from_rows(self, rows, shape):
        n, c, h, w = shape
        return np.ascontiguousarray(rows.reshape(n, h, w, c).transpose(0, 3, 1, 2))


def recompute_batchnorm_statistics(model, X, batch_size: int = 64) -> int:
    """Re-estimate the inference statistics of every batch-norm layer in ``model`` from data.

    The notes' recipe: with the trained (converged) network, run the training inputs ``X`` through
    it in mini-batches of ``batch_size`` and set each unit's ``μ̂`` to the average of the batch
    means and ``σ̂²`` to the average of ``σ²_B·B/(B−1)``. Only the batch-norm layers run in
    training mode; everything else (dropout in particular) runs in evaluation mode, as it will at
    test time. Weights, ``γ`` and ``β`` do not change. Each layer's ``stats`` setting and the
    model's train/eval mode are restored afterwards. Returns the number of batches used.
    """
    layers = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not layers:
        raise ValueError("recompute_batchnorm_statistics: the model has no BatchNorm1d/BatchNorm2d layer.")
    if batch_size < 2:
        raise ValueError(f"recompute_batchnorm_statistics: batch_size must be at least 2, received {batch_size}.")
    modes = [layer.stats for layer in layers]
    was_training = model.training
    for layer in layers:
        layer.reset_running_stats()
        layer.stats = "average"
    model.eval()
    for layer in layers:
        layer.training = True
    n_batches = 0
    try:
        for start in range(0, len(X), batch_size):
            if len(X) - start >= 2:  # a batch of 1 has no variance
                model.forward(X[start:start + batch_size])
                n_batches += 1
    finally:
        for layer, mode in zip(layers, modes):
            layer.stats = mode
        model.train(was_training)
    return n_batches
