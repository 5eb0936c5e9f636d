"""Adversarial examples: the fast gradient sign method (FGSM) and adversarial training.

A trained classifier can often be fooled by a perturbation too small for a person to notice.
Goodfellow, Shlens & Szegedy (2015) explain why with linearity: the net input ``w·x`` changes by
``w·η`` when the input moves by ``η``, and under a max-norm budget ``‖η‖_∞ ≤ ε`` the change is
largest for ``η = ε sgn(w)``, where it grows like ``ε ‖w‖₁`` — with many input dimensions, many
tiny changes add up to a large one. For a network, the cost's gradient with respect to the
input plays the role of ``w`` (a first-order, "linear" view of the network):

    x_adv = clip(x + ε · sgn(∇ₓ C(x, y)), 0, 1)

One forward and one backward pass give ``∇ₓ C``: it is what ``model.backward`` returns.

Adversarial training mixes such examples, crafted afresh against the current weights, into
every mini-batch: ``C̃ = α C(x, y) + (1 − α) C(x_adv, y)``. It is a regularizer that makes the
network flatter around the training points (and more robust to this attack).
"""

from __future__ import annotations

import numpy as np

from .errors import check_positive
from .nn.module import input_gradients_needed
from .train import Trainer, accuracy


def input_gradient(model, loss, X, y) -> np.ndarray:
    """``∇ₓ C(model(X), y)``, the gradient of the (batch-mean) cost with respect to the input.

    The model runs in its current train/eval mode. Parameter gradients are left exactly as they
    were (the backward pass adds to them; they are restored afterwards).
    """
    params = model.parameters()
    saved = [p.grad.copy() for p in params]
    try:
        with input_gradients_needed(model):  # also while the training loop has switched it off
            loss.forward(model.forward(X), y)
            return model.backward(loss.backward())
    finally:
        for p, g in zip(params, saved):
            p.grad[...] = g


def fgsm(model, loss, X, y, eps: float, clip=(0.0, 1.0), eval_mode: bool = True) -> np.ndarray:
    """Fast gradient sign method: ``x_adv = clip(x + ε sgn(∇ₓ C(x, y)), lo, hi)``.

    ``eps`` is the max-norm budget ε (in input units: pixels in [0, 1] → ε = 0.1 is a tenth of the
    intensity range). ``clip=(lo, hi)`` keeps the result a valid input (``None`` disables it).
    With ``eval_mode`` (default) the attack targets the deployed network (dropout off, batch norm
    with its stored statistics); the model's mode is restored afterwards.
    """
    check_positive(eps, "fgsm", "eps", allow_zero=True)
    X = np.asarray(X)
    was_training = model.training
    if eval_mode:
        model.eval()
    try:
        grad = input_gradient(model, loss, X, y)
    finally:
        model.train(was_training)
    X_adv = X + np.asarray(eps, dtype=grad.dtype) * np.sign(grad)
    if clip is not None:
        X_adv = np.clip(X_adv, clip[0], clip[1])
    return X_adv.astype(grad.dtype, copy=False)


def adversarial_accuracy(model, loss, X, y, eps: float, batch_size: int = 1000, clip=(0.0, 1.0)) -> float:
    """Accuracy of ``model`` (in eval mode) on FGSM examples made from ``(X, y)`` with budget ``eps``."""
    was_training = model.training
    model.eval()
    try:
        correct = 0.0
        for i in range(0, len(X), batch_size):
            Xb, yb = X[i:i + batch_size], y[i:i + batch_size]
            X_adv = fgsm(model, loss, Xb, yb, eps, clip=clip)
            correct += accuracy(model.forward(X_adv), yb) * len(Xb)
    finally:
        model.train(was_training)
    return correct / len(X)


class AdversarialTrainer(Trainer):
    """A :class:`~coursepkg.train.Trainer` whose steps minimize ``α C(x, y) + (1 − α) C(x_adv, y)``.

    For each mini-batch, ``x_adv = fgsm(x)`` is crafted against the current weights (with the
    model in training mode, as it is at that moment), then both halves are backpropagated with
    weights ``α`` and ``1 − α`` before the optimizer steps. ``alpha=1`` is ordinary training.
    Callbacks, history and evaluation are those of ``Trainer``; the reported batch cost is ``C̃``.
    """

    def __init__(self, model, loss, optimizer, eps: float = 0.1, alpha: float = 0.5, clip=(0.0, 1.0),
                 callbacks=(), metrics="auto", progress: bool = True):
        super().__init__(model, loss, optimizer, callbacks=callbacks, metrics=metrics, progress=progress)
        check_positive(eps, "AdversarialTrainer", "eps", allow_zero=True)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"AdversarialTrainer: alpha must lie in [0, 1], received {alpha!r}.")
        self.eps, self.alpha, self.clip = float(eps), float(alpha), clip

    def train_batch(self, X, y) -> float:
        X_adv = fgsm(self.model, self.loss, X, y, self.eps, clip=self.clip, eval_mode=False)
        for p in self.params:
            p.zero_grad()
        cost = 0.0
        for weight, inputs in ((self.alpha, X), (1.0 - self.alpha, X_adv)):
            if weight == 0:
                continue
            cost += weight * self.loss.forward(self.model.forward(inputs), y)
            self.model.backward(self.loss.backward(weight))
        self._call("after_backward")
        self.optimizer.step()
        self._call("after_step")
        return cost


def adversarial_fit(model, loss, optimizer, train, val=None, eps: float = 0.1, alpha: float = 0.5,
                    epochs: int = 10, batch_size: int = 32, callbacks=(), clip=(0.0, 1.0), rng=None,
                    progress: bool = True):
    """Adversarial training, like :func:`~coursepkg.train.fit` but with :class:`AdversarialTrainer`."""
    trainer = AdversarialTrainer(model, loss, optimizer, eps=eps, alpha=alpha, clip=clip, callbacks=callbacks,
                                 progress=progress)
    return trainer.fit(train, val, epochs=epochs, batch_size=batch_size, rng=rng)

