"""Statistical training by simulated annealing: Boltzmann, Cauchy and Cauchy + backprop.

These methods do not follow the gradient (the hybrid only partly). Each step

  1. sets the artificial temperature ``T(t)`` (high at first, cooling as ``t`` grows),
  2. changes every weight at random by an amount that scales with ``T``,
  3. recomputes the cost ``C`` and its change ``c = C_new − C_old``,
  4. keeps the change if the cost went down; if it went up, keeps it anyway with the
     Boltzmann probability ``P(c) = exp(−c / kT)`` (draw ``r ~ U[0, 1)``, keep if ``r < P(c)``),
     otherwise puts the weights back.

Accepting some uphill moves lets the search climb out of local minima while ``T`` is high;
as ``T`` falls such moves become rare and the weights settle.

The notes change one weight at a time; here a step changes all weights at once, which costs one
cost evaluation per step instead of one per weight (and works well for the small networks
these methods suit).

Usage: ``closure()`` recomputes and returns the cost at the current parameters (for the hybrid
it must also fill ``p.grad``); ``make_closure(model, loss, X, y)`` builds one.

    opt = Cauchy(model.parameters(), T0=1.0, rng=0)
    trace = opt.run(make_closure(model, loss, X, y), steps=2000)
    plt.plot(trace.cost); plt.plot(trace.temperature)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import check_positive
from ..init import make_rng
from .optimizer import Optimizer


def make_closure(model, loss, X, y, backward: bool = True):
    """``closure() -> C`` for ``model`` on the whole data set ``(X, y)``.

    With ``backward=True`` it also runs the backward pass, so ``p.grad`` holds ``∂C/∂p``
    (gradients are zeroed first). The annealers and ``Newton`` call it.
    """

    def closure() -> float:
        cost = loss.forward(model.forward(X), y)
        if backward:
            model.zero_grad()
            model.backward(loss.backward())
        return cost

    return closure


def squash_weights(params, limit: float) -> None:
    """The guard against network paralysis: ``w ← s · tanh(w / s)`` with ``s = limit``.

    Large weights (which drive sigmoid units into their flat tails, where gradients and changes
    of the output vanish) are pulled back below ``s``; small ones are barely touched
    (``s·tanh(w/s) ≈ w`` for ``|w| ≪ s``), and signs are kept. Applied only to parameter arrays
    holding a weight with ``|w| > limit`` — our stand-in for "a unit is approaching saturation".
    """
    check_positive(limit, "squash_weights", "limit")
    for p in params:
        if np.max(np.abs(p.data), initial=0.0) > limit:
            np.tanh(p.data / limit, out=p.data)
            p.data *= limit


@dataclass
class AnnealTrace:
    """What happened at each step of ``run``: arrays over steps ``t = 1, 2, …``.

    ``cost`` is the cost after the step's decision, ``proposed`` the cost of the change that was
    tried, ``accepted`` whether it was kept.
    """

    t: np.ndarray
    temperature: np.ndarray
    cost: np.ndarray
    proposed: np.ndarray
    accepted: np.ndarray

    @property
    def acceptance_rate(self) -> float:
        return float(np.mean(self.accepted)) if len(self.accepted) else 0.0


class Annealer(Optimizer):
    """Base class of the annealing methods: subclasses define ``temperature(t)`` and
    ``_change(shape, T)`` (a random weight change). ``step(closure)`` makes one move.

    ``T0`` is the starting temperature, ``rho`` scales the weight changes (``ρ`` in the
    notes), ``k`` plays the role of Boltzmann's constant in ``P(c) = exp(−c/kT)`` (it lets the
    cost and the weights have different scales), ``squash`` enables ``squash_weights`` after each
    accepted move, ``rng`` is a seed or generator. Random numbers are drawn in this order: the
    changes for each parameter in turn, then (only if the cost went up) ``r``.
    """

    needs_closure = True

    def __init__(self, params, T0: float = 1.0, rho: float = 1.0, k: float = 1.0,
                 squash: float | None = None, rng=None, lr: float | None = None):
        super().__init__(params, lr)
        check_positive(T0, type(self).__name__, "T0")
        check_positive(rho, type(self).__name__, "rho")
        check_positive(k, type(self).__name__, "k")
        if squash is not None:
            check_positive(squash, type(self).__name__, "squash")
        self.T0, self.rho, self.k, self.squash = T0, rho, k, squash
        self.rng = make_rng(rng)
        self.cost: float | None = None  # cost at the current weights

    def temperature(self, t):
        raise NotImplementedError

    def _change(self, shape, T: float) -> np.ndarray:
        raise NotImplementedError

    def accept(self, c: float, T: float) -> bool:
        """Keep a change that raised the cost by ``c`` with probability ``exp(−c/kT)``;
        always keep one that did not raise it."""
        if c <= 0:
            return True
        return bool(self.rng.random() < np.exp(-c / (self.k * T)))

    def _evaluate(self, closure) -> float:
        for p in self.params:
            p.zero_grad()
        return float(closure())

    def _proposal(self, T: float) -> list[np.ndarray]:
        return [self._change(p.shape, T).astype(p.dtype, copy=False) for p in self.params]

    def step(self, closure) -> dict:
        """One annealing move; returns ``{"t", "temperature", "cost", "proposed", "accepted"}``."""
        self.t += 1
        T = float(self.temperature(self.t))
        if self.cost is None:
            self.cost = self._evaluate(closure)
        saved = [p.data.copy() for p in self.params]
        changes = self._proposal(T)
        for p, d in zip(self.params, changes):
            p.data += d
        proposed = self._evaluate(closure)
        accepted = self.accept(proposed - self.cost, T)
        if accepted:
            self.cost = proposed
            self._accepted(changes)
            if self.squash is not None:
                squash_weights(self.params, self.squash)
                self.cost = self._evaluate(closure)
        else:
            for p, old in zip(self.params, saved):
                p.data[...] = old
        return {"t": self.t, "temperature": T, "cost": self.cost, "proposed": proposed,
                "accepted": accepted}

    def _accepted(self, changes) -> None:
        """Hook for methods that remember the last accepted change (the hybrid)."""

    def run(self, closure, steps: int) -> AnnealTrace:
        """Make ``steps`` moves and return their ``AnnealTrace``."""
        records = [self.step(closure) for _ in range(steps)]
        return AnnealTrace(**{key: np.array([r[key] for r in records])
                              for key in ("t", "temperature", "cost", "proposed", "accepted")})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(T0={self.T0}, rho={self.rho}, k={self.k}, t={self.t})"


class Boltzmann(Annealer):
    """Boltzmann training: Gaussian weight changes and the slow cooling

        T(t) = T₀ / log(1 + t),      t = 1, 2, …

    The change of each weight has density ``∝ exp(−Δw² / T²)``, a normal distribution with
    standard deviation ``T/√2`` (times ``ρ``). This logarithmic cooling is slow enough to
    guarantee reaching the global minimum in the limit — and is therefore very slow.
    """

    def temperature(self, t):
        return self.T0 / np.log1p(t)

    def _change(self, shape, T):
        return self.rng.normal(0.0, self.rho * T / np.sqrt(2.0), size=shape)


class Cauchy(Annealer):
    """Cauchy training: heavy-tailed weight changes allow the much faster cooling

        T(t) = T₀ / (1 + t)

    The change density ``T / (T² + x²)`` is a Cauchy distribution; inverting its cumulative
    distribution gives the sampler ``x_c = ρ T tan(u)`` with ``u ~ U(−π/2, π/2)``. Its fat tails
    keep making occasional long jumps even when ``T`` is small.
    """

    def temperature(self, t):
        return self.T0 / (1.0 + t)

    def _change(self, shape, T):
        return self.rho * T * np.tan(self.rng.uniform(-np.pi / 2, np.pi / 2, size=shape))


class CauchyBackprop(Cauchy):
    """Cauchy training combined with backprop (with momentum): each move is

        ΔW = m [α ΔW_prev + (1 − α)(−η ∂C/∂W)] + (1 − m) x_c

    followed by the Cauchy accept/reject rule. ``m`` (``mix``) is the notes' ``η``, renamed
    because ``η`` is our learning rate: ``m = 0`` is pure Cauchy training, ``m = 1`` pure
    backprop with momentum ``α``. ``−η ∂C/∂W`` is the backprop change (the notes' ``δ·OUT``,
    scaled by a learning rate). ``ΔW_prev`` is the last *accepted* move. ``closure()`` must fill
    ``p.grad``. Use ``squash`` to guard against the paralysis a huge Cauchy jump can cause.
    """

    def __init__(self, params, lr: float = 0.5, mix: float = 0.5, momentum: float = 0.9,
                 T0: float = 1.0, rho: float = 1.0, k: float = 1.0, squash: float | None = None,
                 rng=None):
        super().__init__(params, T0=T0, rho=rho, k=k, squash=squash, rng=rng, lr=lr)
        for name, value in (("mix", mix), ("momentum", momentum)):
            if not 0 <= value <= 1:
                raise ValueError(f"CauchyBackprop: {name} must lie in [0, 1], received {value!r}.")
        self.mix, self.momentum = mix, momentum

    def _proposal(self, T):
        changes = []
        for p, state, x_c in zip(self.params, self.state, super()._proposal(T)):
            prev = state.get("prev_change")
            backprop = -(1 - self.momentum) * self.lr * p.grad
            if prev is not None:
                backprop += self.momentum * prev
            changes.append(self.mix * backprop + (1 - self.mix) * x_c)
        return changes

    def _accepted(self, changes):
        for state, d in zip(self.state, changes):
            state["prev_change"] = d

    def step(self, closure) -> dict:
        self.cost = self._evaluate(closure)  # fills p.grad at the current weights
        return super().step(closure)
