"""Learning-rate schedules: how ``η`` changes while training goes on.

A schedule is a function of the time ``t`` (epochs or steps, counted from 0) to a learning
rate, ``sched(t) -> η``. ``t`` may be an array, so ``plt.plot(sched(np.arange(50)))`` draws
the whole schedule. To use one while training, pass
``coursepkg.callbacks.LRScheduler(sched)`` to ``fit``, or set ``optimizer.lr = sched(epoch)``
in your own loop.

``PlateauHalving`` is different: it reacts to a validation metric instead of the clock
(halve ``η`` whenever the metric stops improving, stop at 1/1024 of the start).
``PlateauDetector`` is the "no improvement in ``n`` epochs" rule it shares with early stopping.
"""

from __future__ import annotations

import numpy as np

from ..errors import check_positive


class Schedule:
    """Base class: subclasses implement ``_rate(t)`` for a float array ``t ≥ 0``."""

    def __call__(self, t):
        t_arr = np.asarray(t, dtype=float)
        if np.any(t_arr < 0):
            raise ValueError(f"{type(self).__name__}: t must be >= 0 (epochs or steps), received {t!r}.")
        rate = np.asarray(self._rate(t_arr), dtype=float)
        return float(rate) if rate.ndim == 0 else rate

    def _rate(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """``η(t) = η₀``: the baseline every other schedule is compared with."""

    def __init__(self, lr0: float):
        check_positive(lr0, "Constant", "lr0")
        self.lr0 = lr0

    def _rate(self, t):
        return np.full_like(t, self.lr0)


class InverseTime(Schedule):
    """``η(t) = η₀ / (1 + η₀ λ t)``: about ``η₀`` at first, then decaying like ``1/(λ t)``.

    The ``1/t`` tail is the classic condition for stochastic gradient descent to converge
    (the steps sum to infinity but their squares do not).
    """

    def __init__(self, lr0: float, lam: float):
        check_positive(lr0, "InverseTime", "lr0")
        check_positive(lam, "InverseTime", "lam", allow_zero=True)
        self.lr0, self.lam = lr0, lam

    def _rate(self, t):
        return self.lr0 / (1.0 + self.lr0 * self.lam * t)


class StepDecay(Schedule):
    """``η(t) = η₀ · factor^⌊t / every⌋``: drop by ``factor`` every ``every`` epochs."""

    def __init__(self, lr0: float, factor: float = 0.5, every: int = 10):
        check_positive(lr0, "StepDecay", "lr0")
        if not 0 < factor < 1:
            raise ValueError(f"StepDecay: factor must lie in (0, 1), received {factor!r}.")
        if every < 1 or int(every) != every:
            raise ValueError(f"StepDecay: every must be a positive integer, received {every!r}.")
        self.lr0, self.factor, self.every = lr0, factor, int(every)

    def _rate(self, t):
        return self.lr0 * self.factor ** np.floor(t / self.every)


class ExponentialDecay(Schedule):
    """``η(t) = η₀ · γᵗ`` (``= η₀ e^{−t ln(1/γ)}``): a smooth version of step decay."""

    def __init__(self, lr0: float, gamma: float = 0.95):
        check_positive(lr0, "ExponentialDecay", "lr0")
        if not 0 < gamma <= 1:
            raise ValueError(f"ExponentialDecay: gamma must lie in (0, 1], received {gamma!r}.")
        self.lr0, self.gamma = lr0, gamma

    def _rate(self, t):
        return self.lr0 * self.gamma ** t


def _mode_for(monitor: str, mode: str) -> str:
    if mode == "auto":
        return "min" if "loss" in monitor or "error" in monitor else "max"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', received {mode!r}.")
    return mode


class PlateauDetector:
    """The "no improvement in ``n`` epochs" rule.

    ``update(value)`` records one epoch's metric and returns True when the best value has not
    improved (by more than ``min_delta``) for ``patience`` epochs in a row; the count then
    starts again. ``mode`` is ``"min"`` (losses), ``"max"`` (accuracies) or ``"auto"`` (from
    the ``monitor`` name). ``best`` and ``best_epoch`` (1-based) tell where the best was.
    """

    def __init__(self, patience: int, mode: str = "auto", min_delta: float = 0.0,
                 monitor: str = "val_loss"):
        if patience < 1 or int(patience) != patience:
            raise ValueError(f"PlateauDetector: patience must be a positive integer, received {patience!r}.")
        check_positive(min_delta, "PlateauDetector", "min_delta", allow_zero=True)
        self.patience, self.min_delta = int(patience), min_delta
        self.mode = _mode_for(monitor, mode)
        self.best = np.inf if self.mode == "min" else -np.inf
        self.best_epoch = 0
        self.epoch = 0
        self.wait = 0

    def improved(self, value: float) -> bool:
        """Would ``value`` be a new best?"""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float) -> bool:
        self.epoch += 1
        if self.improved(value):
            self.best, self.best_epoch, self.wait = float(value), self.epoch, 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.wait = 0
            return True
        return False


class PlateauHalving:
    """Hold ``η`` until the validation metric stops improving, then halve it; repeat until
    ``η`` has fallen to ``min_ratio`` (1/1024) of its start, then stop training.

        η ← factor · η     after ``patience`` epochs without a new best

    ``update(metric) -> η`` is called once per epoch; ``finished`` becomes True when
    ``η ≤ η₀ · min_ratio`` (after 10 halvings with the defaults). This is the hyper-parameter
    notes' recipe; the ``ReduceLROnPlateau`` callback runs it inside ``fit``.
    """

    def __init__(self, lr0: float, factor: float = 0.5, patience: int = 1,
                 min_ratio: float = 1 / 1024, monitor: str = "val_accuracy", mode: str = "auto"):
        check_positive(lr0, "PlateauHalving", "lr0")
        if not 0 < factor < 1:
            raise ValueError(f"PlateauHalving: factor must lie in (0, 1), received {factor!r}.")
        if not 0 < min_ratio < 1:
            raise ValueError(f"PlateauHalving: min_ratio must lie in (0, 1), received {min_ratio!r}.")
        self.lr0, self.lr, self.factor, self.min_ratio = lr0, lr0, factor, min_ratio
        self.detector = PlateauDetector(patience, mode=mode, monitor=monitor)

    @property
    def finished(self) -> bool:
        return self.lr <= self.lr0 * self.min_ratio * (1 + 1e-9)

    def update(self, metric: float) -> float:
        if self.detector.update(metric) and not self.finished:
            self.lr *= self.factor
        return self.lr

    def __repr__(self) -> str:
        return (f"PlateauHalving(lr={self.lr:.4g}, lr0={self.lr0}, factor={self.factor}, "
                f"patience={self.detector.patience})")
