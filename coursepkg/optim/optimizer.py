"""The ``Optimizer`` base class: holds parameters, per-parameter state and the learning rate."""

from __future__ import annotations

import numpy as np

from ..nn.module import Parameter


class Optimizer:
    """Base class of every optimizer.

    Subclasses implement ``_update(p, state)``, which changes ``p.data`` in place from
    ``p.grad``; ``state`` is a dict kept per parameter (velocities, running averages, …).
    ``lr`` is a plain attribute so learning-rate schedules can change it between steps, and
    ``t`` counts the steps taken so far.
    """

    def __init__(self, params, lr: float | None = None):
        self.params = list(params)
        if not self.params:
            raise ValueError(
                f"{type(self).__name__}: received an empty parameter list. "
                "Pass model.parameters() of a model that has learnable layers."
            )
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{type(self).__name__}: item {i} of params is a {type(p).__name__}, not a "
                    "Parameter. Pass model.parameters()."
                )
        if lr is not None and not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, received {lr!r}.")
        self.lr = lr
        self.t = 0
        self.state: list[dict] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to zero."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter once from its current gradient."""
        self.t += 1
        for p, state in zip(self.params, self.state):
            self._update(p, state)

    def _update(self, p: Parameter, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, {len(self.params)} parameters)"
