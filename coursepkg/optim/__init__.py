"""Optimizers: ``step()`` updates parameters from their ``.grad``; ``zero_grad()`` clears them."""

from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
