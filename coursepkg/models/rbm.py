"""Restricted Boltzmann machines (Bernoulli-Bernoulli) trained by contrastive divergence, and deep belief nets.

An RBM has binary visible units ``v`` (a row of ``n_v`` values) and binary hidden units ``h``
(``n_h`` values), connected by weights ``W`` (``n_v × n_h``) with visible biases ``b`` and hidden
biases ``c``, and no connection inside a layer. It gives every configuration an energy

    E(v, h) = −v b − h c − v W hᵀ,          p(v, h) = e^{−E(v, h)} / Z,   Z = Σ_{v,h} e^{−E(v, h)}

Summing out ``h`` gives the **free energy** ``F(v) = −v b − Σⱼ softplus(cⱼ + (vW)ⱼ)`` with
``p(v) = e^{−F(v)} / Z``. Because a layer has no internal connections, its units are independent
given the other layer:

    p(hⱼ = 1 | v) = σ(cⱼ + (vW)ⱼ),         p(vᵢ = 1 | h) = σ(bᵢ + (h Wᵀ)ᵢ)

The gradient of the negative log-likelihood is a difference of two expectations,

    −∂ ln p(v)/∂W = E_model[vᵀ h] − vᵀ p(h | v)        (data term minus model term, reversed)

and the model term needs samples from ``p``. **CD-k** starts a Gibbs chain at the data and runs
``k`` steps; **persistent CD** keeps one chain going across updates. Both write their estimate of
``∂(−ln p)/∂θ`` into ``Parameter.grad``, so any :mod:`coursepkg.optim` optimizer can step them.
"""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..data.batching import minibatches, num_batches
from ..errors import as_float_array, check_finite, check_positive, check_shape, check_unit_interval
from ..nn import functional as F
from ..nn.module import DEFAULT_DTYPE, Module, Parameter
from ..optim import SGD
from ..train import History, progress_bar

MAX_ENUMERATED_UNITS = 20


def all_binary_states(n: int, dtype=np.float64) -> np.ndarray:
    """Every binary vector of length ``n``, one per row: shape ``(2ⁿ, n)``."""
    if not 0 <= n <= MAX_ENUMERATED_UNITS:
        raise ValueError(f"all_binary_states: n must lie in [0, {MAX_ENUMERATED_UNITS}] (2ⁿ rows), received {n}.")
    return ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(dtype)


class RBM(Module):
    """Bernoulli-Bernoulli restricted Boltzmann machine with parameters ``W`` (n_v, n_h), ``b`` (n_v,), ``c`` (n_h,).

    ``forward(v)`` = ``hidden_probs(v)``, the features an RBM gives to the next layer or a classifier.
    ``rng`` (seed or generator) drives every sampling method; ``W`` starts as ``N(0, 0.01²)``, biases at 0.
    """

    def __init__(self, n_visible: int, n_hidden: int, rng=None, dtype=DEFAULT_DTYPE):
        if int(n_visible) <= 0 or int(n_hidden) <= 0:
            raise ValueError(f"RBM: n_visible and n_hidden must be positive, received {n_visible}, {n_hidden}.")
        self.n_visible, self.n_hidden = int(n_visible), int(n_hidden)
        self.rng = initializers.make_rng(rng)
        W = initializers.get("normal")((self.n_visible, self.n_hidden), self.n_visible, self.n_hidden, self.rng, dtype)
        self.W = Parameter(0.01 * W)
        self.b = Parameter(np.zeros(self.n_visible, dtype=dtype))
        self.c = Parameter(np.zeros(self.n_hidden, dtype=dtype))
        self.chain = None  # persistent CD's fantasy particles

    # ----------------------------------------------------------------- validation
    def _visible(self, v, what="visible units v") -> np.ndarray:
        v = as_float_array(v, self, self.W.dtype)
        check_shape(v, self, (None, self.n_visible), what)
        check_finite(v, self, what)
        return v

    def _hidden(self, h) -> np.ndarray:
        h = as_float_array(h, self, self.W.dtype)
        check_shape(h, self, (None, self.n_hidden), "hidden units h")
        return h

    # ----------------------------------------------------------------- the model
    def energy(self, v, h) -> np.ndarray:
        """``E(v, h) = −v b − h c − v W hᵀ`` for each row: shape ``(n,)``."""
        v, h = self._visible(v), self._hidden(h)
        return -(v @ self.b.data) - h @ self.c.data - np.sum((v @ self.W.data) * h, axis=1)

    def free_energy(self, v) -> np.ndarray:
        """``F(v) = −ln Σ_h e^{−E(v, h)} = −v b − Σⱼ softplus(cⱼ + (vW)ⱼ)``, shape ``(n,)``."""
        v = self._visible(v)
        return -(v @ self.b.data) - F.softplus(v @ self.W.data + self.c.data).sum(axis=1)

    def hidden_probs(self, v) -> np.ndarray:
        """``p(h = 1 | v) = σ(vW + c)``, shape ``(n, n_h)``."""
        return self._h_given(self._visible(v))

    def visible_probs(self, h) -> np.ndarray:
        """``p(v = 1 | h) = σ(h Wᵀ + b)``, shape ``(n, n_v)``."""
        return self._v_given(self._hidden(h))

    def _h_given(self, v: np.ndarray) -> np.ndarray:  # the conditionals on checked input (inner loops)
        return F.sigmoid(v @ self.W.data + self.c.data)

    def _v_given(self, h: np.ndarray) -> np.ndarray:
        return F.sigmoid(h @ self.W.data.T + self.b.data)

    def forward(self, v):
        return self.hidden_probs(v)

    def _bernoulli(self, p) -> np.ndarray:
        return (self.rng.random(p.shape) < p).astype(p.dtype)

    def gibbs(self, v, steps: int = 1, sample: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Run ``steps`` Gibbs steps ``v → h ~ p(h|v) → v ~ p(v|h)``; returns ``(v, p(v = 1 | h))`` of the last one.

        With ``sample=False`` every draw is replaced by its probability (a deterministic
        mean-field chain).
        """
        if int(steps) != steps or steps < 1:
            raise ValueError(f"RBM.gibbs: steps must be a positive integer, received {steps!r}.")
        v = self._visible(v)
        for _ in range(int(steps)):
            h = self._h_given(v)
            p_v = self._v_given(self._bernoulli(h) if sample else h)
            v = self._bernoulli(p_v) if sample else p_v
        return v, p_v

    def sample(self, n: int, steps: int = 1000, v0=None) -> np.ndarray:
        """``p(v = 1 | h)`` after ``steps`` Gibbs steps from ``v0`` (default: random bits), shape ``(n, n_v)``."""
        v0 = self._bernoulli(np.full((n, self.n_visible), 0.5, self.W.dtype)) if v0 is None else v0
        return self.gibbs(v0, steps)[1]

    # ----------------------------------------------------------------- learning
    def contrastive_divergence(self, v, k: int = 1, persistent: bool = False, sample: bool = True) -> None:
        """Add the CD-k (or persistent CD) estimate of ``∂(−ln p(v))/∂θ``, averaged over the batch, to ``.grad``.

        Positive phase at the data ``v⁰`` with ``p⁰ = p(h = 1 | v⁰)``; negative phase at the end of
        ``k``-step Gibbs chains, ``vᵏ`` and ``pᵏ = p(h = 1 | vᵏ)``. The chains start at ``v⁰`` (CD-k)
        or where the previous call left them (persistent CD, ``self.chain``: as many chains as the
        first batch had examples, kept when a later batch is smaller). Each phase is averaged over
        its own rows (``n`` examples, ``m`` chains):

            ∂W ≈ vᵏᵀ pᵏ / m − v⁰ᵀ p⁰ / n,   ∂b ≈ mean(vᵏ) − mean(v⁰),   ∂c ≈ mean(pᵏ) − mean(p⁰)

        ``sample=False`` uses probabilities instead of samples in the chain (deterministic).
        """
        v0 = self._visible(v, "data v")
        start = v0
        if persistent:
            if self.chain is None or self.chain.dtype != v0.dtype:
                self.chain = self._bernoulli(v0)
            start = self.chain
        vk = self.gibbs(start, k, sample)[0]
        if persistent:
            self.chain = vk
        p0, pk = self._h_given(v0), self._h_given(vk)
        self.W.grad += vk.T @ pk / len(vk) - v0.T @ p0 / len(v0)
        self.b.grad += vk.mean(axis=0) - v0.mean(axis=0)
        self.c.grad += pk.mean(axis=0) - p0.mean(axis=0)

    def reconstruction_error(self, v) -> float:
        """Mean over the batch of ``‖v − p(v | p(h | v))‖²`` (a cheap, rough progress measure)."""
        v = self._visible(v)
        return float(np.mean(np.sum((v - self.visible_probs(self.hidden_probs(v))) ** 2, axis=1)))

    # ----------------------------------------------------------------- exact quantities (tiny RBMs)
    def log_partition(self) -> float:
        """``ln Z``, exactly, by enumerating the smaller layer (at most 20 units), in float64.

        Enumerating ``h``: ``ln Z = ln Σ_h e^{h c + Σᵢ softplus(bᵢ + (h Wᵀ)ᵢ)}``; enumerating ``v``:
        ``ln Z = ln Σ_v e^{−F(v)}``. The states are processed in chunks of 4,096.
        """
        W, b, c = (p.data.astype(np.float64) for p in (self.W, self.b, self.c))
        if self.n_hidden > self.n_visible:
            W, b, c = W.T, c, b  # enumerate v instead: the same formula with the layers swapped
        states = all_binary_states(len(c))
        chunks = np.array_split(states, num_batches(len(states), 4096))
        exponents = [s @ c + F.softplus(s @ W.T + b).sum(axis=1) for s in chunks]
        return float(F.logsumexp(np.concatenate(exponents), axis=0))

    def log_likelihood(self, v) -> float:
        """Mean ``ln p(v) = −F(v) − ln Z`` over the batch (exact; tiny RBMs only)."""
        return float(-np.mean(self.free_energy(v)) - self.log_partition())

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"


def train_rbm(rbm: RBM, X, epochs: int = 1, batch_size: int = 20, optimizer=None, k: int = 1,
              persistent: bool = False, rng=None, progress: bool = True) -> History:
    """Train ``rbm`` on the rows of ``X`` (values in [0, 1]) by CD-k or persistent CD.

    Each mini-batch: ``zero_grad``, :meth:`RBM.contrastive_divergence`, ``optimizer.step()``
    (default ``SGD(lr=0.05, momentum=0.5)``). After every epoch the history records
    ``reconstruction_error`` (on up to 1,000 training rows) and the mean ``free_energy`` there.
    """
    X = rbm._visible(X, "training data X")
    check_unit_interval(X, "train_rbm", "X (probabilities of the visible units being on)",
                        "Scale your data, e.g. pixels / 255.")
    check_positive(epochs, "train_rbm", "epochs", allow_zero=True)
    optimizer = SGD(rbm.parameters(), lr=0.05, momentum=0.5) if optimizer is None else optimizer
    rng = initializers.make_rng(rng)
    history, monitor = History(), X[:1000]
    bar = progress_bar(epochs * num_batches(len(X), batch_size), progress, "RBM")
    for _ in range(int(epochs)):
        for Xb, _ in minibatches(X, None, batch_size, shuffle=True, rng=rng):
            rbm.zero_grad()
            rbm.contrastive_divergence(Xb, k=k, persistent=persistent)
            optimizer.step()
            bar.update(1)
        logs = {"reconstruction_error": rbm.reconstruction_error(monitor),
                "free_energy": float(rbm.free_energy(monitor).mean())}
        history.append(logs)
        bar.set_postfix({key: f"{value:.4g}" for key, value in logs.items()}, refresh=False)
    bar.close()
    return history


class DBN(Module):
    """Deep belief net: a stack of RBMs trained greedily, bottom up, that can generate samples.

    ``sizes = [n_v, n₁, n₂, …]``. RBM ``l`` models the hidden probabilities of RBM ``l − 1`` on the
    data. To generate, the top RBM runs a long Gibbs chain (an undirected associative memory), then
    one top-down pass through the lower RBMs' ``p(v | h)`` turns its visible layer into an image.
    """

    def __init__(self, sizes, rng=None, dtype=DEFAULT_DTYPE):
        if len(sizes) < 2:
            raise ValueError(f"DBN: sizes must list at least the visible and one hidden layer, received {sizes!r}.")
        rng = initializers.make_rng(rng)
        self.rbms = [RBM(a, b, rng=rng, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])]

    def forward(self, v):
        """The top layer's ``p(h = 1 | ·)`` after one bottom-up pass of probabilities (features)."""
        for rbm in self.rbms:
            v = rbm.hidden_probs(v)
        return v

    def pretrain(self, X, epochs: int = 1, batch_size: int = 20, lr: float = 0.05, k: int = 1, rng=None,
                 progress: bool = True) -> list:
        """Greedy layer-wise training; returns one :class:`History` per RBM."""
        rng = initializers.make_rng(rng)
        histories = []
        for rbm in self.rbms:
            optimizer = SGD(rbm.parameters(), lr=lr, momentum=0.5)
            histories.append(train_rbm(rbm, X, epochs, batch_size, optimizer, k=k, rng=rng, progress=progress))
            X = rbm.hidden_probs(X)
        return histories

    def sample(self, n: int = 10, steps: int = 200, v0=None) -> np.ndarray:
        """``n`` samples ``p(v = 1 | h¹)`` at the bottom, shape ``(n, n_v)``.

        The top RBM's chain starts from random bits, or (when ``v0`` is given, one sample per row of
        ``v0``) from samples of the bottom-up codes of ``v0``, and runs ``steps`` Gibbs steps.
        """
        top = self.rbms[-1]
        if v0 is None:
            start = top._bernoulli(np.full((n, top.n_visible), 0.5, top.W.dtype))
        else:
            for rbm in self.rbms[:-1]:
                v0 = rbm.hidden_probs(v0)
            start = top._bernoulli(top._visible(v0))
        v, p = top.gibbs(start, steps)
        for rbm in reversed(self.rbms[:-1]):
            p = rbm.visible_probs(v)
            v = rbm._bernoulli(p)
        return p
