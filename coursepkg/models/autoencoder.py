"""Autoencoders: a network trained to reproduce its own input through a constrained code.

An autoencoder is an **encoder** ``h = f(x)`` followed by a **decoder** ``x̂ = g(h)``, trained to
make the reconstruction ``x̂`` close to ``x`` (binary cross-entropy for inputs in [0, 1], squared
error for real values). Copying is easy unless the code is constrained, so each variant adds a
constraint:

* **undercomplete**: fewer code units than inputs (a bottleneck);
* **denoising**: the encoder sees a corrupted ``x̃`` and must reconstruct the clean ``x``
  (:class:`Corruption`, placed first in the encoder, is active only in training mode);
* **sparse**: a penalty keeps each code unit's mean activation near a small target ρ
  (:class:`SparsityPenalty`);
* **contractive**: a penalty on the encoder's Jacobian ``‖∂h/∂x‖²_F`` makes the code insensitive
  to small input changes (:class:`ContractivePenalty`);
* **tied weights**: the decoder reuses the encoder's weights transposed (:class:`TiedDense`).

Penalties are identity layers placed after the code: their forward pass records the penalty
``Ω(h)`` (``penalty.value``) and their backward pass adds ``∂Ω/∂h`` to the gradient coming from
the decoder, so the ordinary ``fit(model, BCELoss(), optimizer, (X, X))`` trains on ``C + Ω``.
:func:`pretrain_stack` trains a deep encoder greedily, one shallow autoencoder per layer.
"""

from __future__ import annotations

import numpy as np

from ..errors import as_float_array, check_finite, check_positive, check_probability, check_shape, check_unit_interval
from ..init import make_rng
from ..nn.activations import Identity, Sigmoid, _Activation
from ..nn.linear import Dense
from ..nn.losses import BCELoss
from ..nn.module import DEFAULT_DTYPE, Module, Parameter, Sequential
from ..optim import Adam
from ..train import fit

CORRUPTIONS = ("mask", "gaussian")


class Autoencoder(Sequential):
    """``x̂ = decode(encode(x))``: an encoder module followed by a decoder module.

    A two-part :class:`Sequential` (so ``fit`` lets the encoder's first layer skip ∂C/∂x, as for
    any model) whose parts are named ``encoder`` and ``decoder``. ``forward`` keeps the code of the
    last call in ``self.code``; ``backward(∂C/∂x̂)`` runs the decoder's backward pass, then the
    encoder's, and returns ``∂C/∂x``. Any modules work (dense, convolutional, with penalties or
    corruption inside); :func:`dense_autoencoder` builds the usual one-hidden-layer kind.
    """

    def __init__(self, encoder: Module, decoder: Module):
        for name, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, Module):
                raise TypeError(f"Autoencoder: the {name} must be a Module, received {type(part).__name__}. "
                                "Wrap layers in Sequential(...).")
        super().__init__(encoder, decoder)
        self.code = None

    @property
    def encoder(self) -> Module:
        """The encoder ``f``."""
        return self.layers[0]

    @property
    def decoder(self) -> Module:
        """The decoder ``g``."""
        return self.layers[1]

    def _children(self):
        yield "encoder", self.encoder  # named parts in the repr and in state_dict keys
        yield "decoder", self.decoder

    def encode(self, x) -> np.ndarray:
        """The code ``h = f(x)`` (corrupted first if the encoder holds a :class:`Corruption` in training mode)."""
        return self.encoder.forward(x)

    def decode(self, h) -> np.ndarray:
        """The reconstruction ``x̂ = g(h)`` of a code."""
        return self.decoder.forward(h)

    def forward(self, x):
        self.code = self.encode(x)
        return self.decode(self.code)

    @property
    def penalties(self) -> list:
        """The :class:`ActivityPenalty` layers inside the model."""
        return [m for m in self.modules() if isinstance(m, ActivityPenalty)]

    def penalty_value(self) -> float:
        """``Ω``: the sum of the penalties recorded by the last forward pass (0 without penalties)."""
        return float(sum(p.value for p in self.penalties))


class TiedDense(Module):
    """Decoder layer whose weights are the transpose of an encoder :class:`Dense`'s: ``x̂_z = h Wᵀ + c``.

    ``W`` (shape ``(n_in, n_code)``) is the *same* :class:`Parameter` as ``encoder.W``; only the bias
    ``c`` (shape ``(n_in,)``) is new. With ``δ = ∂C/∂(h Wᵀ + c)``:

        ∂C/∂W += δᵀ h   (added to the encoder's own contribution Xᵀ δ_enc: W gets the sum of both uses),
        ∂C/∂c = Σₙ δₙ,   ∂C/∂h = δ W
    """

    def __init__(self, encoder: Dense):
        if not isinstance(encoder, Dense):
            raise TypeError(f"TiedDense: expected the encoder's Dense layer, received {type(encoder).__name__}.")
        self.W = encoder.W
        self.c = Parameter(np.zeros(encoder.n_in, dtype=encoder.W.dtype))
        self.n_code, self.n_out = encoder.n_out, encoder.n_in
        self._h = None

    def forward(self, h):
        h = as_float_array(h, self, self.W.dtype)
        check_shape(h, self, (None, self.n_code))
        self._h = h
        return h @ self.W.data.T + self.c.data

    def backward(self, grad_out):
        if self._h is None:
            raise RuntimeError("TiedDense.backward called before forward: run the forward pass first.")
        self.W.add_grad_matmul(grad_out.T, self._h)
        self.c.add_grad_sum(grad_out, axis=0)
        return grad_out @ self.W.data

    def extra_repr(self) -> str:
        return f"{self.n_code}, {self.n_out}, tied"


class Corruption(_Activation):
    """Corrupt the input during training, for denoising autoencoders; identity in ``eval()`` mode.

    ``kind="mask"``: masking noise, ``x̃ = m ⊙ x`` with ``mᵢ = 0`` with probability ``level``
    (each pixel is erased independently; unlike dropout nothing is rescaled).
    ``kind="gaussian"``: additive noise, ``x̃ = x + level · ε`` with ``ε ~ N(0, 1)``.
    Backward: ``∂C/∂x = m ⊙ ∂C/∂x̃`` for masking, ``∂C/∂x̃`` for additive noise.
    """

    def __init__(self, kind: str = "mask", level: float = 0.3, rng=None):
        if kind not in CORRUPTIONS:
            raise ValueError(f"Corruption: kind must be one of {CORRUPTIONS}, received {kind!r}.")
        if kind == "mask":
            check_probability(level, "Corruption", "level (the probability of erasing an input)")
        else:
            check_positive(level, "Corruption", "level (the noise standard deviation)", allow_zero=True)
        self.kind, self.level = kind, float(level)
        self.rng = make_rng(rng)
        self.mask = None

    def _forward(self, x):
        self.mask = None
        if not self.training:
            return x
        if self.kind == "mask":
            self.mask = self.rng.random(x.shape) >= self.level
            return x * self.mask
        return x + (self.level * self.rng.standard_normal(x.shape)).astype(x.dtype)

    def _backward(self, g):
        return g if self.mask is None else g * self.mask

    def extra_repr(self) -> str:
        return f"{self.kind!r}, level={self.level:g}"


def corrupt(x, kind: str = "mask", level: float = 0.3, rng=None) -> np.ndarray:
    """A corrupted copy ``x̃`` of ``x`` (masking or Gaussian noise, see :class:`Corruption`)."""
    return Corruption(kind, level, rng).forward(x).copy()


class ActivityPenalty(Module):
    """Identity layer that adds a penalty ``Ω(h)`` on the activations ``h`` passing through it.

    forward: returns ``h`` unchanged and records ``self.value = Ω(h)``.
    backward: returns ``∂C/∂h + ∂Ω/∂h`` (and adds any direct ``∂Ω/∂θ`` to parameters' gradients),
    so the layers below are trained on ``C + Ω``. Subclasses implement ``penalty(h)`` and
    ``gradient(h)``.
    """

    value = 0.0
    _h = None

    def forward(self, h):
        h = as_float_array(h, self)
        check_shape(h, self, (None, None), "activations h")
        check_finite(h, self, "activations h")
        self._h = h
        self.value = self._forward_penalty(h)
        return h

    def backward(self, grad_out):
        if self._h is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: run the forward pass first.")
        return grad_out + self._backward_gradient().astype(grad_out.dtype, copy=False)

    def _forward_penalty(self, h) -> float:
        """``Ω(h)`` in the forward pass; a subclass may keep what its backward pass reuses."""
        return self.penalty(h)

    def _backward_gradient(self) -> np.ndarray:
        """``∂Ω/∂h`` at the ``h`` of the last forward pass."""
        return self.gradient(self._h)

    def penalty(self, h) -> float:
        raise NotImplementedError

    def gradient(self, h) -> np.ndarray:
        raise NotImplementedError


class SparsityPenalty(ActivityPenalty):
    """KL sparsity penalty on the code ``h`` (values in (0, 1), e.g. sigmoid units), shape ``(n, k)``.

    With the mean activation of unit ``j`` over the batch ``ρ̂ⱼ = (1/n) Σᵢ hᵢⱼ`` and a target ρ:

        Ω = β Σⱼ KL(ρ ‖ ρ̂ⱼ),   KL(ρ ‖ ρ̂) = ρ ln(ρ/ρ̂) + (1 − ρ) ln((1 − ρ)/(1 − ρ̂))
        ∂Ω/∂hᵢⱼ = (β/n) (−ρ/ρ̂ⱼ + (1 − ρ)/(1 − ρ̂ⱼ))     (the same for every example i)

    KL is 0 when ``ρ̂ⱼ = ρ`` and grows without bound as ``ρ̂ⱼ → 0`` or 1, so units that fire too
    often are pushed down. ``ρ̂`` is clipped to ``[1e-7, 1 − 1e-7]`` to keep Ω finite.
    """

    def __init__(self, rho: float = 0.05, beta: float = 1.0):
        if not 0.0 < rho < 1.0:
            raise ValueError(f"SparsityPenalty: rho (the target mean activation) must lie in (0, 1), "
                             f"received {rho!r}. Typical values are 0.01-0.1.")
        check_positive(beta, "SparsityPenalty", "beta (the penalty weight)", allow_zero=True)
        self.rho, self.beta = float(rho), float(beta)

    def mean_activation(self, h) -> np.ndarray:
        """``ρ̂ⱼ``, the mean of each unit over the batch, clipped away from 0 and 1."""
        return np.clip(np.mean(h, axis=0, dtype=np.float64), 1e-7, 1 - 1e-7)

    def penalty(self, h) -> float:
        r, q = self.rho, self.mean_activation(h)
        return float(self.beta * np.sum(r * np.log(r / q) + (1 - r) * np.log((1 - r) / (1 - q))))

    def gradient(self, h) -> np.ndarray:
        r, q = self.rho, self.mean_activation(h)
        row = self.beta / len(h) * (-r / q + (1 - r) / (1 - q))
        return np.broadcast_to(row.astype(h.dtype), h.shape)

    def extra_repr(self) -> str:
        return f"rho={self.rho:g}, beta={self.beta:g}"


class ContractivePenalty(ActivityPenalty):
    """Contractive penalty: the squared Frobenius norm of the encoder's Jacobian, averaged over the batch.

    For a sigmoid code ``h = σ(xW + b)`` (``W`` of ``layer``, shape ``(n_in, k)``) the Jacobian of
    one example is ``∂hⱼ/∂xₖ = hⱼ(1 − hⱼ) Wₖⱼ``, so with ``aᵢⱼ = hᵢⱼ(1 − hᵢⱼ)`` and
    ``wⱼ = Σₖ Wₖⱼ²``:

        Ω = (λ/n) Σᵢ Σⱼ aᵢⱼ² wⱼ
        ∂Ω/∂hᵢⱼ = (λ/n) 2 aᵢⱼ (1 − 2hᵢⱼ) wⱼ        (flows back through σ and the layer)
        ∂Ω/∂Wₖⱼ (direct) = (λ/n) 2 Wₖⱼ Σᵢ aᵢⱼ²     (added to ``W.grad`` in backward)

    The forward pass computes ``a`` once and keeps it for the backward pass. Place it right after
    the :class:`Sigmoid` that follows ``layer``.
    """

    _a = None  # aᵢⱼ = hᵢⱼ(1 − hᵢⱼ) of the last forward pass

    def __init__(self, layer: Dense, lam: float = 0.1):
        if not isinstance(layer, Dense):
            raise TypeError(f"ContractivePenalty: expected the encoder's Dense layer, received {type(layer).__name__}.")
        check_positive(lam, "ContractivePenalty", "lam (the penalty weight λ)", allow_zero=True)
        # the layer's weight Parameter, not the layer: the encoder already holds the layer itself
        self.W, self.n_code, self.lam = layer.W, layer.n_out, float(lam)

    def _slopes(self, h) -> np.ndarray:
        """``aᵢⱼ = hᵢⱼ(1 − hᵢⱼ)``, the sigmoid's derivative at the code ``h`` ``(n, k)``."""
        check_shape(h, self, (None, self.n_code), "code h")
        return h * (1 - h)

    def _squared_norms(self) -> np.ndarray:
        """``wⱼ = Σₖ Wₖⱼ²``."""
        return np.sum(self.W.data ** 2, axis=0)

    def penalty(self, h) -> float:
        return self._penalty(self._slopes(h))

    def gradient(self, h) -> np.ndarray:
        return self._gradient(h, self._slopes(h))

    def weight_gradient(self, h) -> np.ndarray:
        """The direct part ``∂Ω/∂W`` (through ``wⱼ``, at fixed ``h``)."""
        return self._weight_gradient(self._slopes(h))

    def _penalty(self, a) -> float:
        """``Ω = (λ/n) Σᵢ Σⱼ aᵢⱼ² wⱼ``."""
        return float(self.lam / len(a) * np.sum(a ** 2 * self._squared_norms()))

    def _gradient(self, h, a) -> np.ndarray:
        """``∂Ω/∂hᵢⱼ = (λ/n) 2 aᵢⱼ (1 − 2hᵢⱼ) wⱼ``."""
        return self.lam / len(h) * 2 * a * (1 - 2 * h) * self._squared_norms()

    def _weight_gradient(self, a) -> np.ndarray:
        """``∂Ω/∂Wₖⱼ = (λ/n) 2 Wₖⱼ Σᵢ aᵢⱼ²``."""
        return self.lam / len(a) * 2 * self.W.data * np.sum(a ** 2, axis=0)

    def _forward_penalty(self, h) -> float:
        self._a = self._slopes(h)
        return self._penalty(self._a)

    def _backward_gradient(self) -> np.ndarray:
        self.W.grad += self._weight_gradient(self._a).astype(self.W.dtype, copy=False)
        return self._gradient(self._h, self._a)

    def extra_repr(self) -> str:
        return f"lam={self.lam:g}"


def dense_autoencoder(n_in: int, n_code: int, tied: bool = False, output: str = "sigmoid", corruption=None,
                      sparsity=None, contraction=None, rng=None, dtype=DEFAULT_DTYPE) -> Autoencoder:
    """A one-hidden-layer autoencoder ``x̂ = g(σ(x̃W + b) W' + c)`` with sigmoid code units.

    Parameters
    ----------
    n_in, n_code : input size and number of code units (``n_code < n_in``: undercomplete).
    tied : decoder weights ``W' = Wᵀ`` (:class:`TiedDense`) instead of a separate matrix.
    output : ``"sigmoid"`` (inputs in [0, 1]; train with ``BCELoss``) or ``"linear"`` (real inputs;
        ``MSELoss``).
    corruption : a :class:`Corruption` layer (denoising), put first in the encoder.
    sparsity : ``(rho, beta)`` for a :class:`SparsityPenalty` on the code.
    contraction : λ of a :class:`ContractivePenalty` on the code.
    rng, dtype : seed or generator for the weights; parameter dtype.
    """
    if output not in ("sigmoid", "linear"):
        raise ValueError(f"dense_autoencoder: output must be 'sigmoid' or 'linear', received {output!r}.")
    if corruption is not None and not isinstance(corruption, Corruption):
        raise TypeError("dense_autoencoder: corruption must be a Corruption layer, e.g. Corruption('mask', 0.3).")
    rng = make_rng(rng)
    dense = Dense(n_in, n_code, rng=rng, dtype=dtype)
    encoder = [dense, Sigmoid()] if corruption is None else [corruption, dense, Sigmoid()]
    if sparsity is not None:
        encoder.append(SparsityPenalty(*sparsity))
    if contraction is not None:
        encoder.append(ContractivePenalty(dense, contraction))
    out = TiedDense(dense) if tied else Dense(n_code, n_in, rng=rng, dtype=dtype)
    decoder = Sequential(out, Sigmoid() if output == "sigmoid" else Identity())
    return Autoencoder(Sequential(encoder), decoder)


def pretrain_stack(X, sizes, epochs: int = 1, batch_size: int = 64, lr: float = 3e-3, corruption: float = 0.0,
                   rng=None, progress: bool = True) -> tuple[Sequential, list]:
    """Greedy layer-wise pretraining: a deep sigmoid encoder trained one shallow autoencoder at a time.

    Layer ``l`` is the encoder of a (denoising, if ``corruption > 0``: masking noise of that level)
    autoencoder trained with Adam and ``BCELoss`` to reconstruct ``h⁽ˡ⁻¹⁾``, the codes the layers
    below produce (``h⁽⁰⁾ = X``, values in [0, 1]). Returns ``(encoder, histories)``: the encoder
    ``Sequential(Dense, Sigmoid, Dense, Sigmoid, …)`` with the trained weights, ready to be fine-tuned
    with a classifier on top, and the :class:`~coursepkg.train.History` of each layer's autoencoder.
    """
    X = as_float_array(X, "pretrain_stack")
    check_shape(X, "pretrain_stack", (None, None), "X")
    if len(sizes) == 0 or any(int(s) <= 0 for s in sizes):
        raise ValueError(f"pretrain_stack: sizes must be a non-empty list of positive layer sizes, received {sizes!r}.")
    check_unit_interval(X, "pretrain_stack", "X (the autoencoders use sigmoid outputs and BCELoss)",
                        "Scale your data, e.g. pixels / 255.")
    rng = make_rng(rng)
    layers, histories, h = [], [], X
    for size in sizes:
        noise = Corruption("mask", corruption, rng=rng) if corruption > 0 else None
        ae = dense_autoencoder(h.shape[1], int(size), corruption=noise, rng=rng, dtype=X.dtype)
        histories.append(fit(ae, BCELoss(), Adam(ae.parameters(), lr=lr), (h, h), epochs=epochs,
                             batch_size=batch_size, metrics=None, rng=rng, progress=progress))
        ae.eval()  # no corruption: the next layer learns from the clean codes
        h = ae.encode(h)
        layers += [m for m in ae.encoder if not isinstance(m, Corruption)]
    return Sequential(layers), histories
