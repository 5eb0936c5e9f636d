"""Cost functions as modules: ``forward(prediction, target) -> float`` and ``backward() -> ∂C/∂prediction``.

Every loss is the *mean over the batch* of a per-example cost, C = (1/n) Σₓ Cₓ, so its
gradient carries the factor 1/n; a per-example cost sums over the output units (as the course's
quadratic cost does). ``backward`` takes an optional upstream scalar ``grad_out`` (default 1.0)
so losses can be scaled and summed.

| loss                  | prediction          | target                         | per-example cost Cₓ           |
|-----------------------|---------------------|--------------------------------|-------------------------------|
| ``MSELoss``           | any real ``a``      | same shape                     | ½‖y − a‖²                     |
| ``BCELoss``           | probabilities ``a`` | 0/1 (or in [0, 1]), same shape | −Σ [y ln a + (1−y) ln(1−a)]   |
| ``BCEWithLogitsLoss`` | logits ``z``        | 0/1 (or in [0, 1]), same shape | the same with a = σ(z)        |
| ``CrossEntropyLoss``  | logits ``(n, k)``   | labels ``(n,)`` or ``(n, k)``  | −Σⱼ yⱼ ln softmax(z)ⱼ         |
| ``NLLLoss``           | log-probs ``(n, k)``| labels ``(n,)`` or ``(n, k)``  | −Σⱼ yⱼ aⱼ                     |
| ``HingeLoss``         | scores ``a``        | ±1 labels                      | Σ max(0, m − y a)             |
| ``LogisticLoss``      | scores ``a``        | ±1 labels                      | Σ ln(1 + e^{−y a})            |
| ``MultiMarginLoss``   | scores ``(n, k)``   | labels ``(n,)``                | Σ_{j≠y} max(0, aⱼ − a_y + Δ)  |
| ``KLDivLoss``         | probabilities ``q`` | distribution ``p``             | Σⱼ pⱼ ln(pⱼ / qⱼ)             |
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import (
    DTypeError,
    NonFiniteError,
    ShapeError,
    as_float_array,
    check_finite,
    check_shape,
    check_unit_interval,
    describe,
)
from . import functional as F
from .module import Module


class Loss(Module):
    """Base class of the cost functions. Subclasses implement ``_forward`` and ``_backward``.

    ``forward`` validates the prediction (float, finite, at least 1-D with the batch first),
    calls ``_forward(a, y)`` which must return the per-batch mean cost and cache what
    ``_backward()`` needs.
    """

    _ready = False

    def forward(self, prediction, target) -> float:
        name = type(self).__name__
        a = as_float_array(prediction, name)
        if a.ndim == 0:
            raise ShapeError(
                f"{name}: expected a batch of predictions (batch axis first), received a 0-d "
                "scalar. Wrap a single prediction as np.array([a]) and its target likewise."
            )
        check_finite(a, name, "prediction")
        value = float(self._forward(a, target))
        if not math.isfinite(value):
            raise NonFiniteError(
                f"{name}: the cost is {value}. Predictions reached a value the cost cannot take "
                "(e.g. log(0)); lower the learning rate or use the logits form of the loss."
            )
        self._ready = True
        return value

    def backward(self, grad_out: float = 1.0):
        if not self._ready:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before forward: compute the cost first."
            )
        return self._backward() * grad_out if grad_out != 1.0 else self._backward()

    def _forward(self, a: np.ndarray, y) -> float:
        raise NotImplementedError

    def _backward(self) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------ target validation helpers
    def _target_like(self, y, a: np.ndarray) -> np.ndarray:
        """``y`` as a finite float array of ``a``'s shape (a ``(n,)`` target fits ``(n, 1)``)."""
        name = type(self).__name__
        y = as_float_array(y, f"{name} (target)", a.dtype)
        if y.shape != a.shape:
            if a.ndim == 2 and y.ndim == 1 and a.shape[1] == 1 and len(y) == len(a):
                y = y[:, None]
            else:
                check_shape(y, name, a.shape, "target (same shape as the prediction)")
        check_finite(y, name, "target")
        return y

    def _pm1_labels(self, y, a: np.ndarray) -> np.ndarray:
        """Labels for a ±1 loss; 0/1 labels get an error that says how to convert them."""
        y = self._target_like(y, a)
        bad = (y != 1) & (y != -1)
        if np.any(bad):
            name = type(self).__name__
            if np.all((y == 0) | (y == 1)):
                raise ValueError(
                    f"{name}: expects labels −1/+1, received 0/1 labels. Convert them with "
                    "y = 2 * y - 1 (or use BCEWithLogitsLoss, which takes 0/1 labels)."
                )
            raise ValueError(
                f"{name}: expects labels −1/+1, received {np.unique(y[bad])[:5]}."
            )
        return y

    def _class_targets(self, y, a: np.ndarray, allow_soft: bool = True) -> np.ndarray:
        """Targets of a ``k``-class loss as an ``(n, k)`` float matrix ``Y`` (labels one-hot encoded)."""
        labels, Y = self._labels_or_rows(y, a, allow_soft)
        if Y is None:
            Y = np.zeros(a.shape, dtype=a.dtype)
            Y[np.arange(len(labels)), labels] = 1
        return Y

    def _labels_or_rows(self, y, a: np.ndarray, allow_soft: bool = True):
        """Targets of a ``k``-class loss as ``(labels, None)`` or ``(None, Y)``.

        Accepts integer labels ``(n,)`` (or ``(n, 1)``) in ``0 … k−1``, returned as int64, or,
        when ``allow_soft``, one-hot / probability rows ``(n, k)``, returned as the float matrix ``Y``.
        """
        name = type(self).__name__
        check_shape(a, name, (None, None), "scores (one row per example, one column per class)")
        n, k = a.shape
        y = np.asarray(y)
        if y.dtype.kind not in "fiub":
            raise DTypeError(f"{name}: targets must be numeric, received {describe(y)}.")
        if y.ndim == 2 and y.shape[1] == k and k > 1:
            Y = as_float_array(y, name, a.dtype)
            check_shape(Y, name, (n, k), "target rows (one per example)")
            check_finite(Y, name, "target")
            if np.any(Y < 0):
                raise ValueError(f"{name}: target rows must be non-negative (probabilities).")
            if not allow_soft and not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
                raise ValueError(
                    f"{name}: needs hard labels: one-hot rows or integer labels of shape ({n},)."
                )
            return None, Y
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            rows = "one-hot/probability rows" if allow_soft else "one-hot rows"
            soft = f" or {rows} of shape ({n}, {k})"
            raise ShapeError(
                f"{name}: expected integer labels of shape ({n},){soft}, received shape {y.shape}."
            )
        if len(y) != n:
            raise ShapeError(
                f"{name}: the prediction has {n} rows but the target has {len(y)} labels; "
                "pass one label per example."
            )
        if y.dtype.kind == "f":
            check_finite(y, name, "labels")
            if np.any(y != np.round(y)):
                raise ValueError(
                    f"{name}: labels must be whole numbers (class indices 0 … {k - 1}), received "
                    f"non-integral values such as {y[y != np.round(y)][0]}. For soft targets "
                    f"pass probability rows of shape ({n}, {k})."
                )
        labels = y.astype(np.int64, copy=False)
        if n and (labels.min() < 0 or labels.max() >= k):
            raise ValueError(
                f"{name}: labels must lie in 0 … {k - 1} (there are {k} classes/columns), "
                f"received labels in [{labels.min()}, {labels.max()}]."
            )
        return labels, None


class MSELoss(Loss):
    """Quadratic cost: ``C = 1/(2n) Σₓ ‖y(x) − a(x)‖²``;  ``∂C/∂a = (a − y) / n``.

    Note the ½ (which cancels the 2 of the derivative) and the sum over output units: this is
    the quadratic cost of the course, *not* PyTorch's ``MSELoss`` which averages over units too.
    """

    def _forward(self, a, y):
        y = self._target_like(y, a)
        self._diff = a - y
        self._n = len(a)
        return 0.5 * float(np.sum(self._diff * self._diff)) / self._n

    def _backward(self):
        return self._diff / self._n


QuadraticLoss = MSELoss


class BCELoss(Loss):
    """Binary cross-entropy on probabilities ``a ∈ (0, 1)`` (e.g. sigmoid outputs):

        C = −(1/n) Σₓ Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)],       ∂C/∂a = (a − y) / (a (1 − a)) / n

    With a sigmoid output ``a = σ(z)`` the ``a (1 − a) = σ'(z)`` cancels: ``∂C/∂z = (a − y)/n``,
    so learning does not slow down when the unit saturates (unlike the quadratic cost).
    ``a`` is clipped to ``[ε, 1 − ε]`` (ε the dtype's machine epsilon) so that a saturated
    prediction gives a large finite cost instead of ``ln 0``. Prefer
    :class:`BCEWithLogitsLoss` on the logits ``z``: same cost, no clipping needed.
    """

    def _forward(self, a, y):
        check_unit_interval(a, type(self).__name__, "predictions (probabilities)",
                                  "Apply Sigmoid first, or give the logits to BCEWithLogitsLoss.")
        y = self._target_like(y, a)
        check_unit_interval(y, type(self).__name__, "targets", "Use 0/1 labels (or probabilities).")
        eps = np.finfo(a.dtype).eps
        self._a, self._y, self._n = np.clip(a, eps, 1 - eps), y, len(a)
        a = self._a
        return -float(np.sum(y * np.log(a) + (1 - y) * np.log1p(-a))) / self._n

    def _backward(self):
        a = self._a
        return (a - self._y) / (a * (1 - a)) / self._n


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy from the logits ``z`` (a = σ(z) is applied inside), stable for any z:

        C = (1/n) Σ [softplus(z) − y z],  softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^{−|z|})
        ∂C/∂z = (σ(z) − y) / n
    """

    def _forward(self, z, y):
        y = self._target_like(y, z)
        check_unit_interval(y, type(self).__name__, "targets", "Use 0/1 labels (or probabilities).")
        self._z, self._y, self._n = z, y, len(z)
        return float(np.sum(F.softplus(z) - y * z)) / self._n

    def _backward(self):
        return (F.sigmoid(self._z) - self._y) / self._n


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy (the log-likelihood cost) from the logits ``z`` of shape ``(n, k)``:

        C = −(1/n) Σₓ Σⱼ yⱼ ln softmax(z)ⱼ = (1/n) Σₓ [ln Σⱼ e^{zⱼ} − z_y]      (for a label y)
        ∂C/∂z = (softmax(z) − y) / n

    Targets are integer labels ``(n,)`` in ``0 … k−1`` or one-hot / probability rows ``(n, k)``
    (for rows that do not sum to 1 the gradient is ``(softmax(z) Σⱼ yⱼ − y)/n``). The log-sum-exp
    is computed after subtracting the row maximum, so logits of 1000 do not overflow. Do not put a
    :class:`~coursepkg.nn.Softmax` layer before this loss: it applies the softmax itself.
    """

    def _forward(self, z, y):
        self._labels, self._Y = self._labels_or_rows(y, z)
        shifted = z - F.reduce_along(np.maximum, z)  # ln softmax(z) = shifted − ln Σⱼ e^shiftedⱼ
        e = np.exp(shifted)
        total = F.reduce_along(np.add, e)
        e /= total
        self._p, self._n = e, len(z)
        if self._Y is None:  # integer labels: C = (1/n) Σₓ [ln Σⱼ e^shiftedⱼ − shifted_y]
            return float((np.log(total[:, 0]) - shifted[np.arange(self._n), self._labels]).sum()) / self._n
        return -float((self._Y * (shifted - np.log(total))).sum()) / self._n

    def _backward(self):
        if self._Y is None:
            grad = self._p / self._n
            grad[np.arange(self._n), self._labels] -= 1 / self._n
            return grad
        return (self._p * self._Y.sum(axis=1, keepdims=True) - self._Y) / self._n


class NLLLoss(Loss):
    """Negative log-likelihood on log-probabilities ``a = ln q`` of shape ``(n, k)`` (from :class:`LogSoftmax`):

        C = −(1/n) Σₓ Σⱼ yⱼ aⱼ = −(1/n) Σₓ a_y        ∂C/∂a = −y / n

    ``LogSoftmax()`` followed by ``NLLLoss()`` equals :class:`CrossEntropyLoss` on the logits.
    Targets as for ``CrossEntropyLoss``.
    """

    def _forward(self, a, y):
        Y = self._class_targets(y, a)
        if a.size and a.max() > np.sqrt(np.finfo(a.dtype).eps):
            raise ValueError(
                f"NLLLoss: expects log-probabilities (≤ 0), received values up to {a.max():.4g}. "
                "Put a LogSoftmax layer before it, or give the logits to CrossEntropyLoss."
            )
        self._Y, self._n = Y, len(a)
        return -float(np.sum(Y * a)) / self._n

    def _backward(self):
        return -self._Y / self._n


class HingeLoss(Loss):
    """Binary hinge loss (the SVM cost) on scores ``a`` with labels ``y = ±1``:

        C = (1/n) Σ max(0, m − y a),        ∂C/∂a = −y 1{y a < m} / n

    Examples classified correctly with a margin of at least ``m`` (default 1) cost nothing.
    """

    def __init__(self, margin: float = 1.0):
        self.margin = float(margin)

    def _forward(self, a, y):
        y = self._pm1_labels(y, a)
        slack = self.margin - y * a
        self._active, self._y, self._n = slack > 0, y, len(a)
        return float(np.sum(np.maximum(slack, 0))) / self._n

    def _backward(self):
        return np.where(self._active, -self._y, 0).astype(self._y.dtype) / self._n

    def extra_repr(self) -> str:
        return f"margin={self.margin}"


class LogisticLoss(Loss):
    """Log loss with labels ``y = ±1`` on scores ``a`` (a smooth hinge; logistic regression's cost):

        C = (1/n) Σ ln(1 + e^{−y a}) = (1/n) Σ softplus(−y a),     ∂C/∂a = −y σ(−y a) / n

    With ``y = 2t − 1`` it equals :class:`BCEWithLogitsLoss` on 0/1 labels ``t``.
    """

    def _forward(self, a, y):
        y = self._pm1_labels(y, a)
        self._m, self._y, self._n = -y * a, y, len(a)
        return float(np.sum(F.softplus(self._m))) / self._n

    def _backward(self):
        return -self._y * F.sigmoid(self._m) / self._n


class MultiMarginLoss(Loss):
    """Multiclass hinge (max-margin) loss on scores ``a`` ``(n, k)`` with integer labels ``y``:

        aggregate="sum":  Cₓ = Σ_{j≠y} max(0, aⱼ − a_y + Δ)       (Weston–Watkins, the "multiclass SVM")
        aggregate="max":  Cₓ = max(0, max_{j≠y} aⱼ − a_y + Δ)     (Crammer–Singer, the notes' MaxMargin)

    Gradient (divided by n): every violating class ``j`` (``aⱼ − a_y + Δ > 0``) gets ``+1`` and the
    true class ``−1`` per violation ("sum"), or only the worst class ``j*`` gets ``+1`` and the
    true class ``−1`` when the cost is positive ("max"). Unlike PyTorch's ``MultiMarginLoss``
    the cost is not divided by k.
    """

    def __init__(self, margin: float = 1.0, aggregate: str = "sum"):
        if aggregate not in ("sum", "max"):
            raise ValueError(f"MultiMarginLoss: aggregate must be 'sum' or 'max', received {aggregate!r}.")
        self.margin, self.aggregate = float(margin), aggregate

    def _forward(self, a, y):
        Y = self._class_targets(y, a, allow_soft=False).astype(bool)
        margins = a - a[Y][:, None] + self.margin
        margins[Y] = -np.inf if self.aggregate == "max" else 0
        if self.aggregate == "sum":
            self._hit = margins > 0
            cost = np.sum(margins[self._hit])
        else:
            worst = np.argmax(margins, axis=1)
            top = margins[np.arange(len(a)), worst]
            self._hit = np.zeros_like(Y)
            self._hit[np.arange(len(a)), worst] = top > 0
            cost = np.sum(np.maximum(top, 0))
        self._Y, self._n, self._dtype = Y, len(a), a.dtype
        return float(cost) / self._n

    def _backward(self):
        hit = self._hit.astype(self._dtype)
        return (hit - self._Y * hit.sum(axis=1, keepdims=True)) / self._n

    def extra_repr(self) -> str:
        return f"margin={self.margin}, aggregate={self.aggregate!r}"


class KLDivLoss(Loss):
    """Kullback–Leibler divergence of the prediction ``q`` from the target distribution ``p``:

        C = (1/n) Σₓ KL(p ‖ q) = (1/n) Σₓ Σⱼ pⱼ ln(pⱼ / qⱼ)       (with 0 ln 0 = 0)
        ∂C/∂q = −p / q / n;        with log_input=True:  ∂C/∂(ln q) = −p / n

    Call it as ``loss(prediction, target)``: the **prediction** is the model's distribution ``q``
    (probabilities, or log-probabilities ``ln q`` when ``log_input=True``, e.g. from
    :class:`LogSoftmax`), the **target** is the reference distribution ``p``. Since
    ``KL(p‖q) = Σ p ln p − Σ p ln q`` and the first sum does not depend on the model, minimizing
    it is the same as minimizing the cross-entropy; KL is 0 exactly when ``q = p``.
    """

    def __init__(self, log_input: bool = False):
        self.log_input = bool(log_input)

    def _forward(self, a, p):
        p = self._target_like(p, a)
        if np.any(p < 0):
            raise ValueError("KLDivLoss: the target p must be a distribution (entries ≥ 0).")
        if self.log_input:
            log_q = a
        else:
            check_unit_interval(a, type(self).__name__, "predictions q (probabilities)",
                                      "Apply Softmax first, or pass log-probabilities with log_input=True.")
            with np.errstate(divide="ignore"):
                log_q = np.log(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - log_q), 0)
        self._a, self._p, self._n = a, p, len(a)
        return float(np.sum(terms)) / self._n

    def _backward(self):
        if self.log_input:
            return -self._p / self._n
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self._p > 0, -self._p / self._a, 0) / self._n

    def extra_repr(self) -> str:
        return f"log_input={self.log_input}"


__all__ = [
    "Loss", "MSELoss", "QuadraticLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "NLLLoss", "HingeLoss", "LogisticLoss", "MultiMarginLoss", "KLDivLoss",
]
