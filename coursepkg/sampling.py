"""Generating text from a character-level language model, with a temperature.

A language model gives, after reading ``x_1 … x_t``, logits ``z`` over the next character. We
turn them into probabilities with a *temperature* ``τ``:

    p_j = e^{z_j/τ} / Σ_k e^{z_k/τ}

``τ = 1`` samples from the model's own distribution; ``τ < 1`` sharpens it (towards always
taking the most likely character, ``τ → 0``: safe but repetitive text); ``τ > 1`` flattens it
(towards uniform noise: more surprising, more misspelled). The drawn character is fed back as
the next input, and the recurrent state carries everything read so far, so each step costs one
time step of the network.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError, check_positive
from .init import make_rng
from .nn.module import Module
from .nn.recurrent import Bidirectional, carrying_state


def softmax_temperature(logits, temperature: float = 1.0) -> np.ndarray:
    """Probabilities ``p_j ∝ e^{z_j/τ}`` along the last axis (``τ = 0``: all mass on the argmax)."""
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        p = np.zeros_like(z)
        np.put_along_axis(p, z.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return p
    check_positive(temperature, "softmax_temperature", "temperature")
    z = z / temperature
    z -= z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def sample(model: Module, prime_ids, length: int, temperature: float = 1.0, rng=None) -> np.ndarray:
    """Generate ``length`` token ids from ``model`` after reading ``prime_ids``.

    ``model`` maps ids ``(1, T)`` to logits ``(1, T, V)``, e.g.
    ``Sequential(OneHot(V), LSTM(V, H), TimeDistributed(Dense(H, V)))``. Its recurrent layers
    carry their state from step to step during the call (see
    :func:`~coursepkg.nn.carrying_state`; their settings are restored afterwards) and it runs
    in evaluation mode. Returns the generated ids (without the prime), shape ``(length,)``.
    """
    prime = np.asarray(prime_ids)
    if prime.ndim != 1 or prime.size == 0 or prime.dtype.kind not in "iu":
        raise ShapeError(f"sample: prime_ids must be a non-empty 1-D array of integer ids, received shape "
                         f"{prime.shape}, {prime.dtype}. Encode a short text, e.g. vocab.encode('ROMEO:').")
    if any(isinstance(m, Bidirectional) for m in model.modules()):
        raise ValueError("sample: a bidirectional model reads the future, so it cannot generate text "
                         "one character at a time; sample from a unidirectional model.")
    if temperature != 0:
        check_positive(temperature, "sample", "temperature")
    rng = make_rng(rng)
    was_training = model.training
    model.eval()
    out = np.empty(int(length), dtype=np.int64)
    try:
        with carrying_state(model):
            logits = model.forward(prime[None, :])
            for t in range(int(length)):
                p = softmax_temperature(logits[0, -1], temperature)
                out[t] = rng.choice(p.size, p=p)
                logits = model.forward(out[None, t:t + 1])
    finally:
        model.train(was_training)
    return out


def sample_text(model: Module, vocab, prime: str, length: int, temperature: float = 1.0, rng=None) -> str:
    """``prime`` followed by ``length`` characters sampled from ``model`` (``vocab``: a ``CharVocab``)."""
    return prime + vocab.decode(sample(model, vocab.encode(prime), length, temperature, rng))
