"""Hopfield networks: symmetric binary units that settle into stored memories (the RBM's ancestor).

``N`` units with states ``s ∈ {−1, +1}^N`` are connected by symmetric weights ``W`` (``Wᵢⱼ = Wⱼᵢ``,
``Wᵢᵢ = 0``) and have biases ``b``. Every state has an energy

    E(s) = −½ sᵀ W s − bᵀ s

Unit ``i`` looks at its net input ``hᵢ = Σⱼ Wᵢⱼ sⱼ + bᵢ`` and takes its sign (a tie ``hᵢ = 0``, up
to rounding: :data:`TIE`, keeps the current state). Updated one unit at a time (**asynchronously**),
a flip ``Δsᵢ`` changes the energy by

    ΔE = −Δsᵢ hᵢ ≤ 0,

since a unit only flips to the sign of ``hᵢ``. The energy never rises and takes finitely many
values, so the network settles in a local minimum of ``E``: a state that no single flip improves.
Those minima are its memories. **Hebbian storage** of ``P`` patterns ``ξ^μ`` digs them as minima:

    W = (1/N) Σ_μ ξ^μ ξ^μᵀ   with the diagonal set to 0.

Started from a corrupted pattern, the network slides down to the stored one (content-addressable
memory). With random patterns this works up to about ``P ≈ 0.138 N`` (Amit, Gutfreund &
Sompolinsky, 1985); beyond it the patterns interfere and spurious minima take over.

States are rows: every function takes a batch ``(n, N)`` and updates all its rows at once; an
asynchronous sweep loops over the units (in a random order), never over the examples.
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array, check_positive_int

#: Amit, Gutfreund & Sompolinsky's capacity of a Hebbian Hopfield net, in patterns per unit
CAPACITY = 0.138


def _spins(states, who: str, n_units: int) -> np.ndarray:
    """``states`` as a float64 batch ``(n, N)`` of ±1 values (one state per row)."""
    s = as_float_array(states, who, np.float64)
    if s.ndim == 1:
        s = s[None]
    if s.ndim != 2 or s.shape[1] != n_units:
        raise ShapeError(f"{who}: expected states of shape (n, {n_units}) (one state of the {n_units} units per "
                         f"row), received shape {np.shape(states)}.")
    if not np.all(np.abs(s) == 1):
        hint = " Convert 0/1 states with s = 2 * x - 1." if np.all((s == 0) | (s == 1)) else ""
        raise ValueError(f"{who}: Hopfield units take the states −1 and +1, received values such as "
                         f"{s[np.abs(s) != 1][:3]}.{hint}")
    return s


#: net inputs this close to 0 count as a tie: Hebbian weights are multiples of 1/N, so a net input
#: that is exactly 0 in exact arithmetic may come out as ±1e-16, on a side that depends on rounding
TIE = 1e-9


def _sign_or_keep(h: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``sign(h)``, keeping the current state ``s`` where ``h`` is a tie (``|h| ≤ TIE``)."""
    return np.where(h > TIE, 1.0, np.where(h < -TIE, -1.0, s))


class HopfieldNetwork:
    """A Hopfield network of ``n_units`` binary (±1) units with symmetric weights ``W`` and biases ``b``.

    ``store(patterns)`` adds patterns by the Hebbian rule; ``energy``, ``update`` and ``recall``
    work on batches of states ``(n, N)``. ``W`` and ``b`` are plain arrays: set them by hand to
    explore other energy landscapes (``W`` must stay symmetric with a zero diagonal).
    """

    def __init__(self, n_units: int):
        self.n_units = check_positive_int(n_units, "HopfieldNetwork", "n_units")
        self.W = np.zeros((self.n_units, self.n_units))
        self.b = np.zeros(self.n_units)
        self.n_patterns = 0

    def store(self, patterns) -> HopfieldNetwork:
        """Add the patterns ``ξ^μ`` (rows of ±1) by the Hebbian rule ``W += (1/N) Σ_μ ξ^μ ξ^μᵀ``, diagonal 0."""
        xi = _spins(patterns, "HopfieldNetwork.store", self.n_units)
        self.W += xi.T @ xi / self.n_units
        np.fill_diagonal(self.W, 0.0)
        self.n_patterns += len(xi)
        return self

    def net_input(self, states) -> np.ndarray:
        """``h = s W + b`` for every row ``s`` (``W`` is symmetric)."""
        return _spins(states, "HopfieldNetwork", self.n_units) @ self.W + self.b

    def energy(self, states) -> np.ndarray:
        """``E(s) = −½ sᵀ W s − bᵀ s`` of every row: shape ``(n,)``."""
        s = _spins(states, "HopfieldNetwork.energy", self.n_units)
        return -0.5 * np.einsum("ni,ij,nj->n", s, self.W, s) - s @ self.b

    def update(self, states, sweeps: int = 1, synchronous: bool = False, rng=None) -> np.ndarray:
        """``sweeps`` rounds of updates, returned as a new array of states.

        Asynchronous (default): each sweep visits every unit once in a random order and sets
        ``sᵢ ← sign(hᵢ)`` with the current states of the others, so ``E`` never rises.
        ``synchronous=True`` updates all units at once from the old states: faster, but the energy
        argument fails and the network can oscillate between two states.
        """
        s = _spins(states, "HopfieldNetwork.update", self.n_units).copy()
        rng = initializers.make_rng(rng)
        for _ in range(check_positive_int(sweeps, "HopfieldNetwork.update", "sweeps")):
            if synchronous:
                s = _sign_or_keep(s @ self.W + self.b, s)
                continue
            for i in rng.permutation(self.n_units):
                s[:, i] = _sign_or_keep(s @ self.W[:, i] + self.b[i], s[:, i])
        return s

    def recall(self, states, max_sweeps: int = 100, rng=None) -> tuple[np.ndarray, int]:
        """Asynchronous sweeps until no unit of any row changes (a minimum of ``E`` for every row)
        or ``max_sweeps``; returns the final states and the number of sweeps made."""
        s = _spins(states, "HopfieldNetwork.recall", self.n_units)
        rng = initializers.make_rng(rng)
        for sweep in range(1, check_positive_int(max_sweeps, "HopfieldNetwork.recall", "max_sweeps") + 1):
            new = self.update(s, rng=rng)
            if np.array_equal(new, s):
                return new, sweep
            s = new
        return s, max_sweeps

    def __repr__(self) -> str:
        return f"HopfieldNetwork(n_units={self.n_units}, n_patterns={self.n_patterns})"


def overlap(states, patterns) -> np.ndarray:
    """``m = (1/N) s · ξ`` of every state with every pattern, shape ``(n_states, n_patterns)``:
    1 for the pattern itself, −1 for its negative (also a minimum of ``E``), ≈ 0 for an unrelated state."""
    xi = np.atleast_2d(np.asarray(patterns, dtype=np.float64))
    s = _spins(states, "overlap", xi.shape[1])
    return s @ _spins(xi, "overlap", xi.shape[1]).T / xi.shape[1]


def random_patterns(n_patterns: int, n_units: int, rng=None) -> np.ndarray:
    """``n_patterns`` random ±1 patterns of ``n_units`` units, each unit +1 with probability ½."""
    rng = initializers.make_rng(rng)
    shape = (check_positive_int(n_patterns, "random_patterns", "n_patterns"),
             check_positive_int(n_units, "random_patterns", "n_units"))
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def flip(states, fraction: float, rng=None) -> np.ndarray:
    """A copy of ``states`` with a random ``fraction`` of each row's units flipped (a corrupted memory cue)."""
    s = np.array(states, dtype=np.float64, ndmin=2)
    if not 0 <= fraction <= 1:
        raise ValueError(f"flip: fraction must lie in [0, 1], received {fraction}.")
    rng = initializers.make_rng(rng)
    k = int(round(fraction * s.shape[1]))
    chosen = np.argsort(rng.random(s.shape), axis=1)[:, :k]  # k distinct units per row
    np.put_along_axis(s, chosen, -np.take_along_axis(s, chosen, axis=1), axis=1)
    return s
