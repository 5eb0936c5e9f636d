"""Cost functions as modules: ``forward(prediction, target) -> float`` and ``backward() -> ∂C/∂prediction``.

Every loss is the *mean over the batch* of a per-example cost, C = (1/n) Σₓ Cₓ, so its
gradient carries the factor 1/n. ``backward`` takes an optional upstream scalar
``grad_out`` (default 1.0) so losses can be scaled and summed.
"""

from __future__ import annotations

import numpy as np

from ..errors import as_float_array, check_finite, check_shape
from .module import Module


class Loss(Module):
    """Base class of the cost functions. Subclasses implement ``_forward`` and ``_backward``.

    ``forward`` validates the prediction (float, finite), calls ``_forward(a, y)`` which must
    return the per-batch mean cost and cache what ``_backward()`` needs.
    """

    def forward(self, prediction, target) -> float:
        name = type(self).__name__
        a = as_float_array(prediction, name)
        check_finite(a, name, "prediction")
        value = float(self._forward(a, target))
        if not np.isfinite(value):
            raise FloatingPointError(
                f"{name}: the cost is {value}. Predictions reached a value the cost cannot take "
                "(e.g. log(0)); lower the learning rate or use the logits form of the loss."
            )
        return value

    def backward(self, grad_out: float = 1.0):
        return self._backward() * grad_out if grad_out != 1.0 else self._backward()

    def _forward(self, a: np.ndarray, y) -> float:
        raise NotImplementedError

    def _backward(self) -> np.ndarray:
        raise NotImplementedError


class MSELoss(Loss):
    """Quadratic cost: ``C = 1/(2n) Σₓ ‖y(x) − a(x)‖²``;  ``∂C/∂a = (a − y) / n``.

    Note the ½ (which cancels the 2 of the derivative) and the sum over output units: this is
    the quadratic cost of the course, *not* PyTorch's ``MSELoss`` which averages over units too.
    """

    def _forward(self, a, y):
        y = as_float_array(y, "MSELoss (target)", a.dtype)
        if y.shape != a.shape:
            if a.ndim == 2 and y.ndim == 1 and a.shape[1] == 1 and len(y) == len(a):
                y = y[:, None]
            else:
                check_shape(y, "MSELoss", a.shape, "target (same shape as the prediction)")
        self._diff = a - y
        n = a.shape[0] if a.ndim > 0 else 1
        self._n = n
        return 0.5 * float(np.sum(self._diff * self._diff)) / n

    def _backward(self):
        return self._diff / self._n


QuadraticLoss = MSELoss
