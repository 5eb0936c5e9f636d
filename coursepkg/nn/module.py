"""``Parameter``, ``Module`` and ``Sequential``: the three pieces every model is built from.

A module is a function with a memory. ``forward(x)`` computes the output and caches whatever
the backward pass will need; ``backward(grad_out)`` receives ∂C/∂(output), adds the gradients
of its parameters into ``Parameter.grad`` (gradients *accumulate*, as in PyTorch) and returns
∂C/∂(input) so the previous module can continue the chain rule:

    forward:   a = f(x; θ)
    backward:  θ.grad += (∂a/∂θ)ᵀ · ∂C/∂a,     returns (∂a/∂x)ᵀ · ∂C/∂a
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

DEFAULT_DTYPE = np.float32


def aligned_empty(shape, dtype) -> np.ndarray:
    """An uninitialized C-contiguous array whose first byte starts a 64-byte cache line.

    PyTorch's allocator aligns tensors the same way. The BLAS kernels then read and write
    weights and gradients in whole cache lines, and a vector load never straddles two lines.
    (NumPy itself only guarantees 16 bytes.)
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def aligned_zeros(shape, dtype) -> np.ndarray:
    """Zeros in an array from :func:`aligned_empty`."""
    zeros = aligned_empty(shape, dtype)
    zeros.fill(0)
    return zeros


class Parameter:
    """A learnable array ``data`` with the gradient ``grad`` of the cost with respect to it.

    ``grad`` has the shape and dtype of ``data`` and starts at zero. Modules add to it in
    ``backward``; optimizers read it in ``step`` and clear it in ``zero_grad``.

    Clearing is free: ``zero_grad`` only *marks* the gradient as zero. Reading ``grad`` then
    gives zeros as before, but a layer's backward pass can write its first contribution
    straight into the array with ``add_grad_matmul`` / ``add_grad_sum`` instead of zero-filling
    it, computing a temporary and adding the two (PyTorch's ``zero_grad(set_to_none=True)``
    saves the same three passes over memory).
    """

    __slots__ = ("data", "_grad", "_grad_is_zero")

    def __init__(self, data, dtype=None):
        data = np.asarray(data, dtype=dtype)
        self.store(data if data.dtype.kind == "f" else data.astype(DEFAULT_DTYPE))

    def store(self, data: np.ndarray) -> None:
        """Make ``data`` (an array of any layout) the parameter's value, as an aligned copy (see
        :func:`aligned_empty`) with a zero gradient of its shape and dtype."""
        self.data = aligned_empty(data.shape, data.dtype)
        self.data[...] = data
        self.grad = aligned_zeros(data.shape, data.dtype)

    @property
    def grad(self) -> np.ndarray:
        """∂C/∂θ, an array like ``data``."""
        if self._grad_is_zero:
            self._grad.fill(0)
            self._grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        self._grad = value
        self._grad_is_zero = False

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    def zero_grad(self) -> None:
        """Set ``grad`` to zero (lazily: the array is filled when next read, if ever)."""
        self._grad_is_zero = True

    def add_grad_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``, where the product has ``grad``'s size (it may be shaped differently,
        e.g. a convolution kernel's gradient comes out as a matrix)."""
        if self._grad_is_zero and self._grad.flags.c_contiguous:
            np.matmul(a, b, out=self._grad.reshape(a.shape[0], b.shape[-1]))
            self._grad_is_zero = False
        else:
            grad = self.grad
            grad += (a @ b).reshape(grad.shape)

    def add_grad_sum(self, x: np.ndarray, axis) -> None:
        """``grad += x.sum(axis)``, e.g. a bias gradient: the sum of δ over the batch."""
        if self._grad_is_zero:
            np.add.reduce(x, axis=axis, out=self._grad)
            self._grad_is_zero = False
        else:
            grad = self.grad
            grad += np.add.reduce(x, axis=axis)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of layers, activations, losses and whole models.

    Subclasses implement ``forward`` and ``backward``. Parameters and sub-modules stored as
    attributes (directly, or inside lists and tuples) are found automatically by
    ``parameters()``, ``train()``/``eval()`` and ``zero_grad()``.
    """

    training: bool = True
    #: names of attributes holding non-learnable state that checkpoints must keep (e.g. batch
    #: norm's running statistics); saved by ``state_dict`` beside the parameters
    buffers: tuple = ()
    #: when False, ``backward`` may skip computing ∂C/∂input and return ``None``. The training
    #: loop clears it on a model's first layers while it trains, since the data needs no gradient
    #: (for a dense first layer that saves a third of its backward work); see ``leading_layers``.
    needs_input_grad: bool = True

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    def __call__(self, *inputs, **kwargs):
        return self.forward(*inputs, **kwargs)

    # ----------------------------------------------------------------- traversal
    def _children(self) -> Iterator[tuple[str, object]]:
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Module)):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` pairs, each parameter once, in definition order."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            pre, module = stack.pop(0)
            for name, value in module._children():
                full = f"{pre}{name}"
                if isinstance(value, Parameter):
                    if id(value) not in seen:
                        seen.add(id(value))
                        yield full, value
                else:
                    stack.append((full + ".", value))

    def parameters(self) -> list[Parameter]:
        """All learnable parameters of this module and its sub-modules (each once)."""
        return [p for _, p in self.named_parameters()]

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module (name ``prefix``) and every sub-module, depth first."""
        yield prefix, self
        for name, value in self._children():
            if isinstance(value, Module):
                yield from value.named_modules(f"{prefix}{name}.")

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, depth first."""
        for _, module in self.named_modules():
            yield module

    def _named_buffers(self) -> Iterator[tuple[str, Module, str]]:
        for pre, module in self.named_modules():
            for attr in module.buffers:
                if getattr(module, attr, None) is not None:
                    yield f"{pre}{attr}", module, attr

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # ----------------------------------------------------------------- state
    def zero_grad(self) -> None:
        """Set every parameter gradient to zero (call before each backward pass)."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its sub-modules to training mode (or evaluation if ``mode`` is False)."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: dropout off, batch norm uses its running statistics."""
        return self.train(False)

    def to(self, dtype) -> Module:
        """Convert every parameter (and its gradient) to ``dtype``, e.g. ``np.float64`` for gradient checks."""
        for p in self.parameters():
            p.store(p.data.astype(dtype, copy=False))
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter's values and every buffer (e.g. running statistics), keyed by
        name — for checkpoints, early stopping and transfer learning."""
        state = OrderedDict((n, p.data.copy()) for n, p in self.named_parameters())
        for name, module, attr in self._named_buffers():
            state[name] = np.array(getattr(module, attr), copy=True)
        return state

    def load_state_dict(self, state) -> Module:
        """Copy values from ``state`` (as made by ``state_dict``) into this module's parameters
        and buffers."""
        buffers = {name: (module, attr) for name, module, attr in self._named_buffers()}
        buffer_state = {k: v for k, v in state.items() if k in buffers}
        state = {k: v for k, v in state.items() if k not in buffers}
        own = dict(self.named_parameters())
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys "
                f"{unexpected}. The state must come from a model with the same architecture."
            )
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.data.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: parameter '{name}' expects shape "
                    f"{p.data.shape}, received {value.shape}."
                )
            p.data[...] = value
        for name, value in buffer_state.items():
            module, attr = buffers[name]
            old = getattr(module, attr)
            value = np.array(value, copy=True)
            setattr(module, attr, type(old)(value) if isinstance(old, (int, float)) else value)
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = [(n, v) for n, v in self._children() if isinstance(v, Module)]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


def first_layer(model: Module) -> Module:
    """The module that receives the data: the first leaf of nested ``Sequential`` models."""
    while isinstance(model, Sequential) and len(model):
        model = model[0]
    return model


def _leaves(model: Module) -> Iterator[Module]:
    """The modules of nested ``Sequential`` models in the order the data meets them."""
    if isinstance(model, Sequential):
        for layer in model:
            yield from _leaves(layer)
    else:
        yield model


def leading_layers(model: Module) -> list[Module]:
    """The layers from the data up to and including the first one with parameters (all of them if
    none has any). None of them needs ∂C/∂input: nothing that learns lies before them. For
    ``Sequential(Dropout(0.2), Dense(784, 100), …)`` that is the dropout and the dense layer."""
    layers = []
    for layer in _leaves(model):
        layers.append(layer)
        if layer.parameters():
            break
    return layers


class _InputGradientFlags:
    """Context manager: ``needs_input_grad = value`` on ``modules`` inside the ``with`` block; the
    previous settings (set on the instance, or the class default) come back after."""

    def __init__(self, modules, value: bool):
        self.modules, self.value = list(modules), value

    def __enter__(self):
        self.saved = [m.__dict__.get("needs_input_grad") for m in self.modules]
        for m in self.modules:
            m.needs_input_grad = self.value
        return self

    def __exit__(self, *exc):
        for m, value in zip(self.modules, self.saved):
            if value is None:
                m.__dict__.pop("needs_input_grad", None)
            else:
                m.needs_input_grad = value
        return False


def input_gradients_needed(model: Module) -> _InputGradientFlags:
    """Context manager: every module of ``model`` computes ∂C/∂input inside the ``with`` block
    (e.g. for adversarial examples during training); the previous settings come back after."""
    return _InputGradientFlags(model.modules(), True)


def input_gradient_skipped(model: Module) -> _InputGradientFlags:
    """Context manager: the :func:`leading_layers` of ``model`` skip ∂C/∂input inside the ``with``
    block, as nothing upstream needs it (``fit`` trains inside one)."""
    return _InputGradientFlags(leading_layers(model), False)


class Sequential(Module):
    """A chain of modules: ``a = fₗ(… f₂(f₁(x)))``; backward runs the chain in reverse.

    >>> model = Sequential(Dense(784, 30), Sigmoid(), Dense(30, 10))
    """

    def __init__(self, *layers: Module):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential: item {i} is a {type(layer).__name__}, not a Module. "
                    "Pass layer instances, e.g. Sigmoid() rather than Sigmoid."
                )
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            if grad_out is None:  # a layer skipped ∂C/∂input (needs_input_grad): nothing before it learns
                return None
            grad_out = layer.backward(grad_out)
        return grad_out

    def append(self, layer: Module) -> Sequential:
        self.layers.append(layer)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)
