"""Bayesian fitting by stochastic gradient Langevin dynamics (SGLD): sample weights instead of minimizing.

Bayes' rule turns a prior ``p(θ)`` over all parameters θ and the likelihood of the ``n`` training
examples into the posterior ``p(θ | D) ∝ p(D | θ) p(θ) = exp(−U(θ))``, with the *energy*

    U(θ) = − log p(D | θ) − log p(θ) = n C(θ) + (λ/2) ‖θ‖²    (+ a constant)

when the cost ``C`` is the mean negative log-likelihood per example and the prior is Gaussian,
θ ~ N(0, 1/λ) (λ the prior *precision*). Dividing by ``n``: ``U/n = C + (λ/2n) ‖θ‖²``, the cost
of L2 regularization (weight decay, ``coursepkg.regularization.L2(λ, n)``). So the L2-trained
network is the single most probable θ, the *MAP* estimate (maximum a posteriori). Bayesian
fitting keeps the whole distribution instead and predicts with the average over it.

``SGLD`` draws samples from ``p_T(θ) ∝ exp(−U(θ)/T)``: each step is a gradient step on ``U``
plus Gaussian noise of just the right size (Welling & Teh, 2011). The callback
``coursepkg.callbacks.PosteriorSamples`` keeps every k-th parameter vector during ``fit``, and
``posterior_predictions`` runs the network once per kept vector.

    sampler = SGLD(model.parameters(), lr=1e-4, n_data=len(X), prior_precision=lam, rng=0)
    keeper = PosteriorSamples(burn_in=1000, thin=20)
    fit(model, MSELoss(), sampler, (X, y), epochs=5000, batch_size=len(X), callbacks=[keeper])
    outputs = posterior_predictions(model, keeper.samples, X_new)    # (samples, n_new, units)
    mean, std = outputs.mean(axis=0), outputs.std(axis=0)
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import check_positive, check_positive_int
from ..init import make_rng
from . import blas
from .newton import parameters_to_vector, vector_to_parameters
from .optimizer import Optimizer

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class SGLD(Optimizer):
    """Stochastic gradient Langevin dynamics: a sampler of ``p_T(θ) ∝ exp(−U(θ)/T)``.

    The energy is ``U(θ) = n C(θ) + (λ/2) ‖θ‖²`` (``n = n_data`` training examples, ``C`` the
    mean cost = the negative log-likelihood per example, λ = ``prior_precision``: a Gaussian prior
    θ ~ N(0, 1/λ)). Each step reads ``p.grad`` = ∂C/∂θ, the gradient of the mean cost over a
    mini-batch as the training loop leaves it (an unbiased estimate of the full ∂C/∂θ), and does

        θ ← θ − (η/2) ∇U(θ) + √(ηT) ξ,       ∇U(θ) = n ∂C/∂θ + λ θ,   ξ ~ N(0, I)
          = (1 − ηλ/2) θ − (ηn/2) ∂C/∂θ + √(ηT) ξ

    **Weight decay is the Gaussian prior.** ``U/n = C + (λ/2n) ‖θ‖²`` is exactly the cost of
    L2 regularization ``L2(λ, n)``, so the minimum of ``U`` (what weight decay finds) is the MAP
    estimate, the most probable θ. SGLD *samples* ``exp(−U/T)`` instead of minimizing ``U``:

    * without the noise it is gradient descent on ``U`` with learning rate ``ηn/2`` on the mean
      cost (``temperature=0`` gives exactly that: L2-regularized training);
    * the noise (variance ``ηT`` per weight and step) makes θ wander over the region where
      ``exp(−U/T)`` is large, and for small η the visited θ are samples of that density
      (Langevin dynamics: ``dθ = −∇U dt + √(2T) dW`` with time step ``η/2``). A finite η
      widens the distribution a little: for a quadratic ``U`` with curvature ``h`` the variance
      is ``T/(h (1 − ηh/4))`` instead of ``T/h``. Keep ``ηh`` well below 1 (and below 4,
      where the steps diverge, as gradient descent does).

    ``temperature`` T = 1 samples the posterior when ``C`` is the exact negative
    log-likelihood per example (e.g. the cross-entropy of a softmax classifier). The course's
    quadratic cost ``C = (1/2n) Σ ‖y − a‖²`` is the negative log-likelihood of Gaussian output
    noise of variance σ² only after dividing by σ²; then ``T = σ²`` (with the L2 network's λ)
    gives the posterior of noise σ² and prior precision λ/σ².

    Parameters
    ----------
    params : the parameters to sample (``model.parameters()``), float32 or float64.
    lr : η, the step size (small: the step on the mean cost is ``ηn/2``).
    n_data : n, the number of training examples (the full training set, not the mini-batch).
    prior_precision : λ ≥ 0 (0: a flat prior, which may leave some directions unbounded).
    temperature : T ≥ 0.
    which : ``"all"`` (default) puts the prior on every parameter; ``"weights"`` only on
        parameters with two or more dimensions, like ``L2``'s default (the biases then have a
        flat prior). Train the MAP network with the same choice (``L2(λ, n, which="all")``).
    rng : a seed or ``numpy.random.Generator`` for the noise.
    """

    def __init__(self, params, lr: float, n_data: int, prior_precision: float = 1.0,
                 temperature: float = 1.0, which: str = "all", rng=None):
        super().__init__(params, lr)
        self.n_data = check_positive_int(n_data, "SGLD", "n_data (the number of training examples)")
        check_positive(prior_precision, "SGLD", "prior_precision", allow_zero=True)
        check_positive(temperature, "SGLD", "temperature", allow_zero=True)
        if which not in ("all", "weights"):
            raise ValueError(f"SGLD: which must be 'all' (a prior on every parameter) or 'weights' (only on "
                             f"parameters with 2 or more dimensions), received {which!r}.")
        for i, p in enumerate(self.params):
            if p.data.dtype not in _FLOATS:
                raise TypeError(f"SGLD: parameter {i} is {p.data.dtype}, expected float32 or float64. "
                                "Convert the model with model.float() or model.double().")
        self.prior_precision = float(prior_precision)
        self.temperature = float(temperature)
        self.which = which
        self.rng = make_rng(rng)

    def prior_on(self, p) -> bool:
        """Whether the Gaussian prior (the decay term ``λθ``) applies to parameter ``p``."""
        return self.which == "all" or p.data.ndim >= 2

    def energy(self, mean_cost: float) -> float:
        """``U(θ) = n C + (λ/2) ‖θ‖²`` at the current parameters, given the mean cost ``C`` there."""
        decay = sum(float(np.sum(np.square(p.data, dtype=np.float64))) for p in self.params if self.prior_on(p))
        return self.n_data * float(mean_cost) + 0.5 * self.prior_precision * decay

    def _update(self, p, state) -> None:
        theta, eta = p.data, self.lr
        noise = state.get("noise")
        if noise is None or noise.shape != theta.shape or noise.dtype != theta.dtype:
            noise = state["noise"] = np.empty_like(theta)
        if self.prior_on(p) and self.prior_precision:           # θ ← (1 − ηλ/2) θ
            theta *= 1.0 - 0.5 * eta * self.prior_precision
        if self.temperature:                                    # θ ← θ + √(ηT) ξ
            self.rng.standard_normal(dtype=theta.dtype, out=noise)
            noise *= math.sqrt(eta * self.temperature)
            theta += noise
        blas.axpy(-0.5 * eta * self.n_data, p.grad, theta, noise)  # θ ← θ − (ηn/2) ∂C/∂θ

    def __repr__(self) -> str:
        return (f"SGLD(lr={self.lr}, n_data={self.n_data}, prior_precision={self.prior_precision:g}, "
                f"temperature={self.temperature:g}, which={self.which!r}, {len(self.params)} parameters)")


def posterior_predictions(model, samples, X, batch_size: int = 1000) -> np.ndarray:
    """The outputs ``a(x; θ⁽ᵏ⁾)`` of ``model`` for every sample θ⁽ᵏ⁾, an array ``(samples, len(X), units)``.

    The Bayesian prediction is their average, ``p(y | x, D) ≈ (1/S) Σₖ p(y | x, θ⁽ᵏ⁾)``, an
    approximation of ``∫ p(y | x, θ) p(θ | D) dθ``; their spread (e.g. the standard deviation
    over axis 0) measures how unsure the posterior is about the function at ``x``. It costs one
    forward pass per sample. Runs in evaluation mode and leaves the model's parameters and mode
    as they were.
    """
    params = model.parameters()
    samples = np.asarray(samples)
    size = sum(p.size for p in params)
    if samples.ndim != 2 or samples.shape[1] != size:
        raise ValueError(f"posterior_predictions: expected samples of shape (number of samples, {size}) for this "
                         f"model, received shape {samples.shape}. Pass PosteriorSamples(...).samples.")
    batch_size = check_positive_int(batch_size, "posterior_predictions", "batch_size")
    saved, was_training = parameters_to_vector(params), model.training
    model.eval()
    try:
        outputs = []
        for theta in samples:
            vector_to_parameters(theta, params)
            outputs.append(np.concatenate([model.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]))
        return np.stack(outputs)
    finally:
        vector_to_parameters(saved, params)
        model.train(was_training)
