"""Neural-network building blocks: ``Parameter``, ``Module``, layers, activations and losses.

Everything is re-exported here, so ``from coursepkg.nn import Dense, Sigmoid, CrossEntropyLoss``
works whatever submodule a class lives in.
"""

from . import functional
from .activations import (
                     HardTanh,
                     Identity,
                     LeakyReLU,
                     LogSoftmax,
                     Maxout,
                     PReLU,
                     Ramp,
                     ReLU,
                     RReLU,
                     Sigmoid,
                     Softmax,
                     Step,
                     StochasticBinary,
                     Tanh,
)
from .dropout import Dropout
from .linear import Dense
from .losses import (
                     BCELoss,
                     BCEWithLogitsLoss,
                     CrossEntropyLoss,
                     HingeLoss,
                     KLDivLoss,
                     LogisticLoss,
                     Loss,
                     MSELoss,
                     MultiMarginLoss,
                     NLLLoss,
                     QuadraticLoss,
)
from .module import DEFAULT_DTYPE, Module, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, recompute_batchnorm_statistics
from .rbf import RBF

__all__ = [
    "DEFAULT_DTYPE", "Module", "Parameter", "Sequential",
    "Dense",
    "Loss", "MSELoss", "QuadraticLoss",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "HingeLoss", "LogisticLoss",
    "MultiMarginLoss", "KLDivLoss",
    "Identity", "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "RReLU", "Ramp",
    "HardTanh", "Softmax", "LogSoftmax", "StochasticBinary", "Maxout",
    "RBF", "functional",
    "Dropout", "BatchNorm1d", "BatchNorm2d", "recompute_batchnorm_statistics",
]
