"""Callbacks that plug the optimisation tools into ``fit``: early stopping, learning-rate
schedules, gradient clipping, gradient noise and keeping the samples of a sampler (SGLD).

    history = fit(model, loss, opt, train, val=val, epochs=100, callbacks=[
        EarlyStopping("val_accuracy", patience=10, restore_best_weights=True),
        LRScheduler(InverseTime(lr0=0.5, lam=0.1)),
        ClipGradNorm(5.0),
    ])

The mathematics lives in ``coursepkg.optim`` (schedules, ``clip_grad_norm``,
``add_gradient_noise``); these classes only decide *when* the training loop applies it.
"""

from __future__ import annotations

import numpy as np

from .errors import check_positive_int
from .init import make_rng
from .optim.clipping import clip_grad_norm, clip_grad_value
from .optim.newton import parameters_to_vector
from .optim.noise import add_gradient_noise
from .optim.schedules import PlateauDetector, PlateauHalving
from .train import Callback


def _metric(logs: dict, monitor: str, who: str) -> float:
    if monitor not in logs:
        raise KeyError(
            f"{who}: the epoch's logs have no {monitor!r}; they have {sorted(logs)}. "
            "Pass val=(X_val, y_val) to fit for 'val_' metrics, or monitor another key."
        )
    return logs[monitor]


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    With the best value at epoch ``b``, training stops after epoch ``b + patience`` (the
    "no improvement in n epochs" rule). ``restore_best_weights=True`` puts back the weights of
    epoch ``b`` at the end (via ``model.state_dict()``/``load_state_dict``). ``mode`` is
    ``"min"``, ``"max"`` or ``"auto"`` (min for names containing "loss"). Afterwards
    ``best_epoch``, ``best`` and ``stopped_epoch`` (0 if training ran to the end) tell what
    happened. Networks sometimes plateau and then improve again: a larger ``patience`` is safer.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False):
        self.monitor, self.restore_best_weights = monitor, restore_best_weights
        self.detector = PlateauDetector(patience, mode=mode, min_delta=min_delta, monitor=monitor)
        self.stopped_epoch = 0
        self.best_state = None

    @property
    def best(self) -> float:
        return self.detector.best

    @property
    def best_epoch(self) -> int:
        return self.detector.best_epoch

    def on_train_begin(self, trainer):
        self.detector = PlateauDetector(self.detector.patience, mode=self.detector.mode,
                                        min_delta=self.detector.min_delta)
        self.stopped_epoch, self.best_state = 0, None

    def on_epoch_end(self, trainer, logs):
        value = _metric(logs, self.monitor, "EarlyStopping")
        improved = self.detector.improved(value)
        if self.detector.update(value):
            trainer.stop_training = True
            self.stopped_epoch = trainer.epoch
        elif improved and self.restore_best_weights:
            self.best_state = trainer.model.state_dict()

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)


class LRScheduler(Callback):
    """Set ``optimizer.lr = schedule(t)`` before each epoch (``per="epoch"``, ``t`` = epochs
    done) or before each step (``per="step"``, ``t`` = optimizer steps done).

    ``schedule`` is any function of ``t``, e.g. ``InverseTime(lr0=0.5, lam=0.01)`` or
    ``lambda t: 0.1 * 0.5 ** (t // 10)``. The rate used is logged in ``history["lr"]``.
    """

    def __init__(self, schedule, per: str = "epoch"):
        if per not in ("epoch", "step"):
            raise ValueError(f"LRScheduler: per must be 'epoch' or 'step', received {per!r}.")
        self.schedule, self.per = schedule, per

    def _set(self, trainer, t: int) -> None:
        trainer.optimizer.lr = float(self.schedule(t))

    def on_epoch_begin(self, trainer):
        if self.per == "epoch":
            self._set(trainer, trainer.epoch - 1)
        else:
            self._set(trainer, trainer.optimizer.t)

    def after_step(self, trainer):
        if self.per == "step":
            self._set(trainer, trainer.optimizer.t)


class ReduceLROnPlateau(Callback):
    """Halve ``optimizer.lr`` whenever ``monitor`` has not improved for ``patience`` epochs,
    and stop training once the rate is ``min_ratio`` (1/1024) of its value at the start:
    the ``PlateauHalving`` recipe run inside ``fit``. ``halvings`` lists the epochs at which the
    rate dropped."""

    def __init__(self, monitor: str = "val_accuracy", factor: float = 0.5, patience: int = 1,
                 min_ratio: float = 1 / 1024, mode: str = "auto", stop: bool = True):
        self.monitor, self.stop = monitor, stop
        self.options = dict(factor=factor, patience=patience, min_ratio=min_ratio,
                            monitor=monitor, mode=mode)
        self.plateau: PlateauHalving | None = None
        self.halvings: list[int] = []

    def on_train_begin(self, trainer):
        self.plateau = PlateauHalving(trainer.optimizer.lr, **self.options)
        self.halvings = []

    def on_epoch_end(self, trainer, logs):
        before = self.plateau.lr
        trainer.optimizer.lr = self.plateau.update(_metric(logs, self.monitor, "ReduceLROnPlateau"))
        if trainer.optimizer.lr < before:
            self.halvings.append(trainer.epoch)
        if self.stop and self.plateau.finished:
            trainer.stop_training = True


class ClipGradValue(Callback):
    """Clip every gradient component to ``[−c, c]`` before each step (``clip_grad_value``)."""

    def __init__(self, clip_value: float):
        self.clip_value = clip_value

    def after_backward(self, trainer):
        clip_grad_value(trainer.params, self.clip_value)


class ClipGradNorm(Callback):
    """Rescale the gradients to a joint L2 norm of at most ``max_norm`` before each step
    (``clip_grad_norm``). ``norms`` records the norm of every step before clipping."""

    def __init__(self, max_norm: float):
        self.max_norm = max_norm
        self.norms: list[float] = []

    def after_backward(self, trainer):
        self.norms.append(clip_grad_norm(trainer.params, self.max_norm))


class GradientNoise(Callback):
    """Add annealed Gaussian noise to the gradients before each step:

        g ← g + N(0, σₜ²),    σₜ² = η / (1 + t)^γ,    t = optimizer steps so far

    (``add_gradient_noise``; ``η`` is the noise scale, e.g. 0.01, 0.3 or 1, and ``γ = 0.55``).
    ``rng`` is a seed or generator.
    """

    def __init__(self, eta: float = 0.01, gamma: float = 0.55, rng=None):
        self.eta, self.gamma = eta, gamma
        self.rng = make_rng(rng)

    def after_backward(self, trainer):
        add_gradient_noise(trainer.params, trainer.optimizer.t, self.eta, self.gamma, self.rng)


class PosteriorSamples(Callback):
    """A ``fit`` callback that keeps θ⁽ᵏ⁾ after every ``thin``-th step, once ``burn_in`` steps are done.

    With θₜ the parameters after optimizer step t (t = 1, 2, …), it keeps

        θ⁽ᵏ⁾ = θ_{burn_in + k·thin},    k = 1, 2, …

    The first steps of a sampler still carry the memory of where it started (the burn-in);
    consecutive samples are strongly correlated, so keeping every ``thin``-th one loses little.
    ``samples`` is an array ``(number kept, number of parameters)`` of flat parameter vectors
    (the layout of ``parameters_to_vector``), in float64.
    """

    def __init__(self, burn_in: int = 0, thin: int = 1):
        if int(burn_in) != burn_in or burn_in < 0:
            raise ValueError(f"PosteriorSamples: burn_in must be a non-negative integer, received {burn_in!r}.")
        self.burn_in = int(burn_in)
        self.thin = check_positive_int(thin, "PosteriorSamples", "thin")
        self.steps = 0
        self._kept: list[np.ndarray] = []

    def after_step(self, trainer) -> None:
        self.steps += 1
        if self.steps > self.burn_in and (self.steps - self.burn_in) % self.thin == 0:
            self._kept.append(parameters_to_vector(trainer.params))

    @property
    def samples(self) -> np.ndarray:
        """The kept θ⁽¹⁾, θ⁽²⁾, … stacked: an array ``(number kept, number of parameters)``, float64."""
        if not self._kept:
            raise ValueError(f"PosteriorSamples: no sample kept yet ({self.steps} steps taken, burn_in="
                             f"{self.burn_in}). Train for more than burn_in + thin steps.")
        return np.stack(self._kept)

    def __len__(self) -> int:
        return len(self._kept)

    def __repr__(self) -> str:
        return f"PosteriorSamples(burn_in={self.burn_in}, thin={self.thin}, {len(self)} kept)"
