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
from .attention import AdditiveAttention, Attention, DotAttention
from .conv import Conv2D, col2im, conv_output_size, feature_maps, im2col
from .dropout import Dropout
from .embedding import Embedding, OneHot
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
from .pooling import AvgPool2D, Flatten, KMaxPool, L2Pool2D, MaxPool2D
from .rbf import RBF
from .recurrent import GRU, LSTM, RNN, Bidirectional, Recurrent, TimeDistributed, carrying_state, reset_states

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
    "Embedding", "OneHot",
    "Attention", "DotAttention", "AdditiveAttention",
    "Recurrent", "RNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed", "reset_states",
    "carrying_state",
    "Conv2D", "conv_output_size", "im2col", "col2im", "feature_maps",
    "MaxPool2D", "AvgPool2D", "L2Pool2D", "KMaxPool", "Flatten",
]
