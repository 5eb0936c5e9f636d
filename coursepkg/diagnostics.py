"""Look inside a network: what each layer outputs, and how large each layer's gradient is.

These helpers run one forward (and backward) pass of a :class:`~coursepkg.nn.Sequential` on a
batch and report per-layer numbers, the instruments of chapters 5 and 10:

* :func:`layer_outputs` — the output of every layer, e.g. the net inputs ``zˡ = aˡ⁻¹Wˡ + bˡ``
  after each ``Dense`` and the activations ``aˡ = f(zˡ)`` after each activation layer;
* :func:`layer_gradient_norms` — ``‖∂C/∂bˡ‖`` (or ``‖∂C/∂Wˡ‖``) for every dense layer ``l``,
  the quantity whose shrinking (vanishing) or growth (exploding) towards the input shows that
  gradients are unstable;
* :func:`dense_layers` — the ``Dense`` layers of a model, in order.

They never train: parameters are left as they are (only their ``.grad`` is overwritten).
"""

from __future__ import annotations

import numpy as np

from .nn import Dense, Sequential


def _sequential(model, who: str) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(f"{who}: expected a Sequential model, received a {type(model).__name__}. "
                        "Build the network as Sequential(Dense(...), Sigmoid(), ...).")
    return model


def dense_layers(model) -> list[Dense]:
    """The :class:`~coursepkg.nn.Dense` layers of ``model``, from the input to the output."""
    return [m for m in model.modules() if isinstance(m, Dense)]


def layer_outputs(model, x) -> list[np.ndarray]:
    """The output of every layer of a ``Sequential`` on the batch ``x``, in order.

    ``outputs[i]`` is what ``model[i]`` returns, so for ``Sequential(Dense, Sigmoid, Dense, …)``
    the even entries are the net inputs ``zˡ = aˡ⁻¹ Wˡ + bˡ`` and the odd ones the activations
    ``aˡ = σ(zˡ)``. The last entry equals ``model(x)``. Runs in the model's current mode.
    """
    model = _sequential(model, "layer_outputs")
    outputs = []
    for layer in model:
        x = layer.forward(x)
        outputs.append(x)
    return outputs


def layer_gradient_norms(model, loss, x, y, param: str = "b") -> np.ndarray:
    """Euclidean norms ``‖∂C/∂bˡ‖`` (``param="b"``) or ``‖∂C/∂Wˡ‖`` (``param="W"``) per dense layer.

    One forward pass of ``model`` on ``x``, the cost ``C = loss(a, y)`` and one backward pass;
    entry ``l`` of the result belongs to the ``l``-th ``Dense`` layer counted from the input.
    Since ``∂C/∂bˡ = Σₖ δˡₖ`` (the error ``δˡ = ∂C/∂zˡ`` summed over the batch), the bias norms
    measure how strongly the cost reaches each layer: in a deep sigmoid net they shrink
    towards the input (vanishing gradients), with large weights they can grow (exploding).

    Every parameter's ``.grad`` is zeroed first and holds this batch's gradient afterwards.
    """
    if param not in ("b", "W"):
        raise ValueError(f"layer_gradient_norms: param must be 'b' or 'W', received {param!r}.")
    dense = dense_layers(model)
    if not dense:
        raise ValueError("layer_gradient_norms: the model has no Dense layer to measure.")
    if param == "b" and any(layer.b is None for layer in dense):
        raise ValueError("layer_gradient_norms: a Dense layer has no bias (bias=False); "
                         "measure the weights with param='W' instead.")
    model.zero_grad()
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    grads = [getattr(layer, param).grad for layer in dense]
    return np.array([np.sqrt(np.vdot(g, g)) for g in grads], dtype=np.float64)
