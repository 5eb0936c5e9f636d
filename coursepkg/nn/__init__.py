"""Neural-network building blocks: ``Parameter``, ``Module``, layers, activations and losses.

Everything is re-exported here, so ``from coursepkg.nn import Dense, Sigmoid, CrossEntropyLoss``
works whatever submodule a class lives in.
"""

from .module import DEFAULT_DTYPE, Module, Parameter, Sequential
from .linear import Dense
from .losses import Loss, MSELoss, QuadraticLoss

__all__ = [
    "DEFAULT_DTYPE", "Module", "Parameter", "Sequential",
    "Dense",
    "Loss", "MSELoss", "QuadraticLoss",
]
