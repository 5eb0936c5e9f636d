"""Dropout: train a different thinned network on every mini-batch, use the whole one at test time."""

from __future__ import annotations

from .. import init as initializers
from ..errors import check_probability
from .activations import _Activation

DROPOUT_MODES = ("inverted", "scale_at_test")


class Dropout(_Activation):
    """Set each unit's activation to 0 with probability ``p`` during training.

    **``p`` is the probability of DROPPING a unit** (as in PyTorch); a unit is *kept* with
    probability ``1 − p``. ``p = 0.5`` drops half of the units, ``p = 0`` disables dropout. (Some
    texts, and the course notes, write the *keep* probability instead; convert with
    ``p = 1 − keep``.)

    With a random mask ``m`` whose entries are 1 with probability ``1 − p`` and 0 otherwise, the
    expected value of a dropped-out activation is ``E[m ⊙ a] = (1 − p) a``. To make training and
    testing see activations of the same size, one of the two phases must rescale:

    ``mode="inverted"`` (default)
        training: ``y = m ⊙ a / (1 − p)``;   evaluation: ``y = a`` (nothing to do at test time).
    ``mode="scale_at_test"`` (the original formulation of Srivastava, Hinton et al.)
        training: ``y = m ⊙ a``;             evaluation: ``y = (1 − p) a`` (equivalently, multiply
        the outgoing weights by the keep probability ``1 − p``).

    Both give the same expected activation; the inverted form keeps the test-time network
    untouched, which is why libraries use it. Backward multiplies ``∂C/∂y`` by the same factor as
    the forward pass (``m/(1 − p)``, ``m``, ``1`` or ``1 − p``). In ``eval()`` mode nothing is
    random.

    Fixing the mask (for a numerical gradient check, or to show one thinned network): set
    ``layer.resample = False``; the mask of the last training forward pass, ``layer.mask`` (a
    boolean array, True = kept), is then reused by later calls on inputs of the same shape. You
    may also assign your own boolean ``layer.mask`` before setting ``resample = False``.

    Parameters
    ----------
    p : probability of dropping a unit, in ``[0, 1)``.
    mode : ``"inverted"`` or ``"scale_at_test"``.
    rng : seed or ``numpy.random.Generator`` for the masks.
    """

    def __init__(self, p: float = 0.5, mode: str = "inverted", rng=None):
        check_probability(p, "Dropout", "p (the probability of DROPPING a unit)")
        if mode not in DROPOUT_MODES:
            raise ValueError(f"Dropout: mode must be one of {DROPOUT_MODES}, received {mode!r}.")
        self.p = float(p)
        self.mode = mode
        self.rng = initializers.make_rng(rng)
        self.resample = True
        self.mask = None
        self._factor = None

    def _forward(self, x):
        keep = 1.0 - self.p
        if not self.training:
            self._factor = keep if self.mode == "scale_at_test" else 1.0
            return x * x.dtype.type(self._factor) if self._factor != 1.0 else x.copy()
        if self.resample or self.mask is None or self.mask.shape != x.shape:
            self.mask = self.rng.random(x.shape) >= self.p
        scale = 1.0 / keep if self.mode == "inverted" else 1.0
        self._factor = self.mask.astype(x.dtype) * x.dtype.type(scale)
        return x * self._factor

    def _backward(self, g):
        return g * self._factor

    def extra_repr(self) -> str:
        return f"p={self.p:g} (drop probability), mode={self.mode!r}"
