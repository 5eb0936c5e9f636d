"""Gradient clipping: keep one huge gradient from throwing the weights across the cost surface.

Both functions change ``p.grad`` in place; call them after ``backward`` and before
``optimizer.step()`` (inside ``fit``, use the ``ClipGradValue``/``ClipGradNorm`` callbacks).
"""

from __future__ import annotations

import numpy as np

from ..errors import check_positive


def clip_grad_value(params, clip_value: float) -> None:
    """Clip every gradient component to ``[−c, c]``:  ``g ← max(−c, min(c, g))``.

    Simple, but it changes the gradient's direction when only some components are clipped.
    """
    check_positive(clip_value, "clip_grad_value", "clip_value")
    for p in params:
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


def grad_norm(params) -> float:
    """The L2 norm of all gradients together, ``‖g‖ = √(Σ_p Σ_i g_{p,i}²)``."""
    return float(np.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in params)))


def clip_grad_norm(params, max_norm: float) -> float:
    """Rescale all gradients together so their joint L2 norm is at most ``max_norm``:

        g ← g · max_norm / ‖g‖    if ‖g‖ > max_norm

    The direction of the step is kept; only its length is capped. Returns ``‖g‖`` *before*
    clipping (worth plotting: spikes show where gradients explode).
    """
    check_positive(max_norm, "clip_grad_norm", "max_norm")
    params = list(params)
    norm = grad_norm(params)
    if norm > max_norm:
        scale = max_norm / norm
        for p in params:
            p.grad *= scale
    return norm
