"""coursepkg: the vectorized NumPy companion package of *Neural Networks from Scratch*.

Modules (data flows left to right):  data → nn (model, loss) → optim → train,
with gradcheck to verify gradients, viz/widgets to look at things and grading for exercises.
"""

from . import (
               adversarial,
               augment,
               callbacks,
               data,
               gradcheck,
               hyperopt,
               init,
               models,
               nn,
               optim,
               perceptron,
               regularization,
               sampling,
)
from .train import Callback, History, Trainer, fit

__version__ = "0.1.0"

__all__ = [
    "adversarial", "augment", "callbacks", "data", "diagnostics", "gradcheck", "hyperopt", "init", "models", "nn",
    "optim", "perceptron", "regularization", "sampling", "fit", "Trainer", "History", "Callback",
]
