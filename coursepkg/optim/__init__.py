"""Optimizers: ``step()`` updates parameters from their ``.grad``; ``zero_grad()`` clears them."""

from .adaptive import Adadelta, Adagrad, Adam, RMSprop
from .annealing import Annealer, AnnealTrace, Boltzmann, Cauchy, CauchyBackprop, make_closure, squash_weights
from .clipping import clip_grad_norm, clip_grad_value, grad_norm
from .elementwise import ElementwiseOptimizer, num_threads, set_num_threads
from .functions import Beale, QuadraticBowl, Rosenbrock, Saddle, Surface, trajectory
from .langevin import SGLD, posterior_predictions
from .newton import Newton, cost_hessian, newton_step, numerical_hessian, parameters_to_vector, vector_to_parameters
from .noise import add_gradient_noise, noise_variance
from .optimizer import Optimizer
from .rprop import AdaptiveGains, Rprop
from .schedules import Constant, ExponentialDecay, InverseTime, PlateauDetector, PlateauHalving, Schedule, StepDecay
from .sgd import SGD

__all__ = [
    "Optimizer", "ElementwiseOptimizer", "set_num_threads", "num_threads", "SGD",
    "Adagrad", "Adadelta", "RMSprop", "Adam",
    "Rprop", "AdaptiveGains",
    "Newton", "cost_hessian", "newton_step", "numerical_hessian", "parameters_to_vector", "vector_to_parameters",
    "Annealer", "Boltzmann", "Cauchy", "CauchyBackprop", "AnnealTrace", "make_closure", "squash_weights",
    "Schedule", "Constant", "InverseTime", "StepDecay", "ExponentialDecay", "PlateauHalving",
    "PlateauDetector",
    "clip_grad_value", "clip_grad_norm", "grad_norm",
    "add_gradient_noise", "noise_variance",
    "SGLD", "posterior_predictions",
    "Surface", "QuadraticBowl", "Rosenbrock", "Beale", "Saddle", "trajectory",
]
