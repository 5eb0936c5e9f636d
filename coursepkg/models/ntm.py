"""A neural Turing machine (Graves, Wayne & Danihelka, 2014): a controller network with an
external memory it reads and writes through differentiable heads; and the copy task it is
classically trained on.

One time step, for a batch of ``n`` sequences (``N`` memory locations of width ``W``):

    h_t       = tanh([x_t ; r_{t−1}] W_c + b_c)                   feed-forward controller
    θ^R, θ^W  = h_t W_R + b_R,  h_t W_W + b_W                     head parameters (raw)
    w^W_t     = address(M_{t−1}, θ^W, w^W_{t−1})                  write head focuses …
    M_t       = M_{t−1} ⊙ (1 − w^W_t e_tᵀ) + w^W_t a_tᵀ           … erases and adds
    w^R_t     = address(M_t, θ^R, w^R_{t−1});  r_t = Σ_i w^R_t(i) M_t(i)   read head
    z_t       = [h_t ; r_t] W_o + b_o                              output logits

``address`` is the pipeline of :mod:`coursepkg.models.ntm_addressing` (content → interpolation →
shift → sharpening); the raw head parameters are squashed into their ranges by
:class:`HeadParameters`. The controller is feed-forward (a ``Dense`` + ``Tanh``): all the
machine remembers from one step to the next is in ``M_t``, the weightings and ``r_t``, which makes
the role of the memory plain to see. It starts from ``M_0 = memory_init`` everywhere, both
weightings on location 0 and ``r_0 = 0``.

Backpropagation through time walks the steps in reverse, carrying ∂C/∂M_t, ∂C/∂w^R_t,
∂C/∂w^W_t and ∂C/∂r_t from step ``t + 1`` into step ``t``. The forward pass keeps what the
backward pass needs for every step (the controller's input ``[x_t ; r_{t−1}]`` and output
``h_t``, the heads' squashing caches, one addressing, write and read module per step), so no
step is computed twice. Through the shared layers, with ``δ`` the error at a net input:

    [∂C/∂h_t ; ∂C/∂r_t]  += δ^o_t W_oᵀ                        δ^o_t = ∂C/∂z_t (output layer)
    ∂C/∂h_t              += δ^R_t W_Rᵀ + δ^W_t W_Wᵀ            δ^R_t, δ^W_t = ∂C/∂θ^R_t, ∂C/∂θ^W_t
    [∂C/∂x_t ; ∂C/∂r_{t−1}] = δ^c_t W_cᵀ                       δ^c_t = ∂C/∂h_t ⊙ (1 − h_t²)

and each shared layer collects one term per step, ``∂C/∂W = Σ_t (input_t)ᵀ δ_t``, summed by a
single matrix product over all the steps after the loop. The output layer does not feed back
into the recursion, so it runs once on all the steps, forward and backward.
"""

from __future__ import annotations

import numpy as np

from ..data.sequences import copy_task
from ..errors import ShapeError, as_float_array, check_finite, check_positive_int, check_unit_interval
from ..init import make_rng
from ..nn import functional as F
from ..nn.activations import Tanh
from ..nn.linear import Dense
from ..nn.losses import Loss
from ..nn.module import DEFAULT_DTYPE, Module, Sequential
from .ntm_addressing import Addressing, MemoryRead, MemoryWrite, shift_offsets

#: the head parameters the addressing pipeline takes, in the order of ``Addressing.forward``
_ADDRESS_ARGS = ("k", "beta", "g", "s", "gamma")


class HeadParameters(Module):
    """Split a head's raw controller output θ into its parameters and squash each into its range:

        k = θ_k (any real: the cosine ignores its length)     β = softplus(θ_β) ≥ 0
        g = σ(θ_g) ∈ (0, 1)      s = softmax(θ_s)      γ = 1 + softplus(θ_γ) ≥ 1
        e = σ(θ_e) ∈ (0, 1)^W    a = tanh(θ_a)          (write heads only)

    θ has ``size = W + 3 + n_shifts`` columns (``+ 2W`` for a write head) in the order above.
    ``forward(θ)`` returns a dict ``{"k", "beta", "g", "s", "gamma"[, "e", "a"]}``;
    ``backward(grads)`` takes the dict of ∂C/∂(each parameter) and returns ∂C/∂θ. The pair
    ``squash(θ) -> (p, cache)`` / ``squash_backward(grads, cache)`` does the same with the cache
    handed over explicitly, for a caller that keeps one per time step (the NTM).
    """

    def __init__(self, width: int, n_shifts: int = 3, write: bool = False):
        shift_offsets(n_shifts)  # validates n_shifts
        self.width, self.n_shifts, self.write = int(width), int(n_shifts), bool(write)
        sizes = {"k": self.width, "beta": 1, "g": 1, "s": self.n_shifts, "gamma": 1}
        if self.write:
            sizes.update(e=self.width, a=self.width)
        ends = np.cumsum(list(sizes.values()))
        self.slices = {name: slice(end - size, end) for (name, size), end in zip(sizes.items(), ends)}
        self.size = int(ends[-1])

    _cache = None

    def forward(self, theta):
        p, self._cache = self.squash(theta)
        return p

    def backward(self, grads):
        if self._cache is None:
            raise RuntimeError("HeadParameters.backward called before forward: run the forward pass first.")
        return self.squash_backward(grads, self._cache)

    def squash(self, theta) -> tuple[dict, tuple]:
        """``(p, cache)``: the dict of head parameters of ``θ`` and what :meth:`squash_backward` needs."""
        theta = as_float_array(theta, self)
        if theta.ndim != 2 or theta.shape[1] != self.size:
            raise ShapeError(f"HeadParameters({self.extra_repr()}): expected raw head parameters of shape "
                             f"(batch, {self.size}), received shape {theta.shape}.")
        raw = {name: theta[:, sl] for name, sl in self.slices.items()}
        for scalar in ("beta", "g", "gamma"):
            raw[scalar] = raw[scalar][:, 0]
        p = {"k": raw["k"], "beta": F.softplus(raw["beta"]), "g": F.sigmoid(raw["g"]),
             "s": F.softmax(raw["s"]), "gamma": 1 + F.softplus(raw["gamma"])}
        if self.write:
            p.update(e=F.sigmoid(raw["e"]), a=F.tanh(raw["a"]))
        return p, (raw, p)

    def squash_backward(self, grads, cache: tuple) -> np.ndarray:
        """∂C/∂θ from the dict ``grads`` of ∂C/∂(each parameter) and the ``cache`` of :meth:`squash`:
        ``∂C/∂θ_β = ∂C/∂β σ(θ_β)``, ``∂C/∂θ_g = ∂C/∂g g (1 − g)``, ``∂C/∂θ_a = ∂C/∂a (1 − a²)``, …"""
        raw, p = cache
        d = {"k": grads["k"], "s": F.softmax_backward(p["s"], grads["s"])}
        for name in ("beta", "gamma"):
            d[name] = grads[name] * F.softplus_prime(raw[name])
        d["g"] = grads["g"] * p["g"] * (1 - p["g"])
        if self.write:
            d["e"] = grads["e"] * p["e"] * (1 - p["e"])
            d["a"] = grads["a"] * (1 - p["a"] ** 2)
        out = np.empty((len(p["k"]), self.size), dtype=p["k"].dtype)
        for name, sl in self.slices.items():
            out[:, sl] = d[name] if d[name].ndim == 2 else d[name][:, None]
        return out

    def extra_repr(self) -> str:
        return f"width={self.width}, n_shifts={self.n_shifts}, write={self.write}"


def _add_shared_grads(layer: Dense, inputs: np.ndarray, deltas: np.ndarray) -> None:
    """Gradients of a dense layer applied at every time step, from the inputs ``(T, n, n_in)`` that
    the forward pass kept and the errors ``δ_t`` ``(T, n, n_out)`` at its outputs: one matrix
    product for all the steps, ``∂C/∂W += Σ_t (input_t)ᵀ δ_t``, ``∂C/∂b += Σ_t Σ_batch δ_t``."""
    deltas = deltas.reshape(-1, layer.n_out)
    layer.W.add_grad_matmul(inputs.reshape(len(deltas), layer.n_in).T, deltas)
    layer.b.add_grad_sum(deltas, axis=0)


class NTM(Module):
    """Neural Turing machine with a feed-forward controller, one read head and one write head.

    Parameters
    ----------
    n_in, n_out : features of the input sequence and of the output at each step.
    hidden : units of the controller (``h_t``).
    n_locations, width : memory size ``N × W``.
    n_shifts : entries of the shift distribution (odd; 3 = offsets −1, 0, +1).
    memory_init : the constant every memory cell starts from.

    ``forward(x)`` maps ``x`` ``(n, T, n_in)`` to logits ``(n, T, n_out)`` and records, for plots,
    ``self.read_weights`` and ``self.write_weights`` ``(n, T, N)``, ``self.addressing`` (the
    intermediate weightings of each head at each step: ``{"read"|"write": {stage: (n, T, N)}}``)
    and the final memory ``self.memory`` ``(n, N, W)``. ``backward(∂C/∂logits)`` runs
    backpropagation through time (see the module docstring) and returns ∂C/∂x.
    """

    def __init__(self, n_in: int, n_out: int, hidden: int = 64, n_locations: int = 16, width: int = 8,
                 n_shifts: int = 3, memory_init: float = 1e-6, rng=None, dtype=DEFAULT_DTYPE):
        for name, value in (("n_in", n_in), ("n_out", n_out), ("hidden", hidden),
                            ("n_locations", n_locations), ("width", width)):
            if int(value) != value or value <= 0:
                raise ValueError(f"NTM: {name} must be a positive integer, received {value!r}.")
        if len(shift_offsets(n_shifts)) > n_locations:
            raise ValueError(f"NTM: {n_shifts} shifts need at least as many locations, received "
                             f"n_locations = {n_locations}.")
        self.n_in, self.n_out, self.hidden = int(n_in), int(n_out), int(hidden)
        self.n_locations, self.width, self.memory_init = int(n_locations), int(width), float(memory_init)
        rng = make_rng(rng)
        self.read_params = HeadParameters(width, n_shifts, write=False)
        self.write_params = HeadParameters(width, n_shifts, write=True)
        self.controller = Sequential(Dense(self.n_in + self.width, self.hidden, init="xavier", rng=rng, dtype=dtype),
                                     Tanh())
        self.read_head = Dense(self.hidden, self.read_params.size, rng=rng, dtype=dtype)
        self.write_head = Dense(self.hidden, self.write_params.size, rng=rng, dtype=dtype)
        self.output = Dense(self.hidden + self.width, self.n_out, rng=rng, dtype=dtype)
        self._cache = None

    # ------------------------------------------------------------------ forward
    def initial_state(self, n: int, dtype) -> tuple:
        """``(M_0, w^R_0, w^W_0, r_0)`` for a batch of ``n``."""
        M = np.full((n, self.n_locations, self.width), self.memory_init, dtype=dtype)
        w0 = np.zeros((n, self.n_locations), dtype=dtype)
        w0[:, 0] = 1
        return M, w0, w0.copy(), np.zeros((n, self.width), dtype=dtype)

    def _check_input(self, x) -> np.ndarray:
        dtype = self.output.W.data.dtype
        x = as_float_array(x, self._who, dtype)
        if x.ndim != 3 or x.shape[2] != self.n_in or x.shape[1] == 0:
            raise ShapeError(f"{self._who}: expected input of shape (batch, time ≥ 1, {self.n_in}), "
                             f"received shape {x.shape}.")
        check_finite(x, self._who)
        return x

    def forward(self, x):
        x = self._check_input(x)
        n, T, _ = x.shape
        H = self.hidden
        M, w_read, w_write, r = self.initial_state(n, x.dtype)
        c_in = np.empty((T, n, self.n_in + self.width), dtype=x.dtype)  # [x_t ; r_{t−1}], time first
        c_in[:, :, :self.n_in] = x.swapaxes(0, 1)
        o_in = np.empty((T, n, H + self.width), dtype=x.dtype)  # [h_t ; r_t]
        steps = []
        for t in range(T):
            c_in[t, :, self.n_in:] = r
            h = o_in[t, :, :H] = self.controller.forward(c_in[t])
            M, w_read, w_write, r, step = self._heads_forward(h, M, w_read, w_write)
            o_in[t, :, H:] = r
            steps.append(step)
        logits = self.output.forward(o_in.reshape(T * n, -1)).reshape(T, n, self.n_out)
        self._cache = (c_in, o_in, steps)
        self.memory = M
        self.addressing = {head: {stage: np.stack([s[f"address_{head[0]}"].stages[stage] for s in steps], 1)
                                  for stage in ("content", "gated", "shifted", "sharpened")}
                           for head in ("read", "write")}
        self.read_weights = self.addressing["read"]["sharpened"]
        self.write_weights = self.addressing["write"]["sharpened"]
        return np.ascontiguousarray(logits.swapaxes(0, 1))

    def _heads_forward(self, h, M, w_read, w_write) -> tuple:
        """The heads' part of step ``t``, from ``h_t`` and the state of step ``t − 1``:

            θ^W, θ^R = h_t W_W + b_W,  h_t W_R + b_R        (squashed by ``HeadParameters``)
            w^W_t = address(M_{t−1}, θ^W, w^W_{t−1}),  M_t = M_{t−1} ⊙ (1 − w^W_t e_tᵀ) + w^W_t a_tᵀ
            w^R_t = address(M_t, θ^R, w^R_{t−1}),      r_t = Σ_i w^R_t(i) M_t(i)

        Returns ``(M_t, w^R_t, w^W_t, r_t, cache)``; the ``cache`` of the step holds the squashing
        caches of both heads and the step's own addressing, write and read modules (each keeps
        what its backward needs), for :meth:`_heads_backward`.
        """
        pw, write_cache = self.write_params.squash(self.write_head.forward(h))
        pr, read_cache = self.read_params.squash(self.read_head.forward(h))
        step = {"write_params": write_cache, "read_params": read_cache, "address_w": Addressing(),
                "write": MemoryWrite(), "address_r": Addressing(), "read": MemoryRead()}
        w_write = step["address_w"].forward(M, *(pw[k] for k in _ADDRESS_ARGS), w_write)
        M = step["write"].forward(M, w_write, pw["e"], pw["a"])
        w_read = step["address_r"].forward(M, *(pr[k] for k in _ADDRESS_ARGS), w_read)
        r = step["read"].forward(M, w_read)
        return M, w_read, w_write, r, step

    # ------------------------------------------------------------------ backward through time
    def backward(self, grad_out):
        if self._cache is None:
            raise RuntimeError(f"{self._who}.backward called before forward: run the forward pass first.")
        c_in, o_in, steps = self._cache
        T, n, _ = o_in.shape
        g = as_float_array(grad_out, self._who, self.output.W.data.dtype)
        if g.shape != (n, T, self.n_out):
            raise ShapeError(f"{self._who}.backward: expected grad_out of the output's shape {(n, T, self.n_out)}, "
                             f"received shape {g.shape}.")
        H = self.hidden
        d_o = self.output.backward(g.swapaxes(0, 1).reshape(T * n, -1)).reshape(T, n, -1)  # ∂C/∂[h_t ; r_t]
        delta_c = np.empty((T, n, H), dtype=g.dtype)  # δ^c_t
        d_theta_r = np.empty((T, n, self.read_params.size), dtype=g.dtype)  # ∂C/∂θ^R_t
        d_theta_w = np.empty((T, n, self.write_params.size), dtype=g.dtype)  # ∂C/∂θ^W_t
        dx = np.empty((n, T, self.n_in), dtype=g.dtype)
        dM = np.zeros((n, self.n_locations, self.width), dtype=g.dtype)  # ∂C/∂M_t
        dw_read = np.zeros((n, self.n_locations), dtype=g.dtype)
        dw_write = np.zeros_like(dw_read)
        dr = np.zeros((n, self.width), dtype=g.dtype)  # ∂C/∂r_t through the next controller input
        dense_c = self.controller[0]
        for t in range(T - 1, -1, -1):
            dr = dr + d_o[t, :, H:]
            dM, dw_read, dw_write, d_theta_r[t], d_theta_w[t] = self._heads_backward(steps[t], dM, dw_read,
                                                                                     dw_write, dr)
            dh = d_o[t, :, :H] + d_theta_r[t] @ self.read_head.W.data.T + d_theta_w[t] @ self.write_head.W.data.T
            h = o_in[t, :, :H]
            delta_c[t] = dh * (1 - h * h)
            d_in = delta_c[t] @ dense_c.W.data.T
            dx[:, t], dr = d_in[:, :self.n_in], d_in[:, self.n_in:]
        hidden = o_in[:, :, :H]
        _add_shared_grads(dense_c, c_in, delta_c)
        _add_shared_grads(self.read_head, hidden, d_theta_r)
        _add_shared_grads(self.write_head, hidden, d_theta_w)
        return dx if self.needs_input_grad else None

    def _heads_backward(self, step: dict, dM, dw_read, dw_write, dr) -> tuple:
        """Backward through :meth:`_heads_forward` from the ``step``'s cache: takes ∂C/∂M_t,
        ∂C/∂w^R_t, ∂C/∂w^W_t (from step ``t + 1``) and ∂C/∂r_t (through the output and the next
        controller input); returns ∂C/∂M_{t−1}, ∂C/∂w^R_{t−1}, ∂C/∂w^W_{t−1}, ∂C/∂θ^R_t, ∂C/∂θ^W_t."""
        dM_read, dw = step["read"].backward(dr)
        dM_address, *dpr, dw_read = step["address_r"].backward(dw_read + dw)
        dM, dw, de, da = step["write"].backward(dM + dM_read + dM_address)
        dM_address, *dpw, dw_write = step["address_w"].backward(dw_write + dw)
        d_theta_r = self.read_params.squash_backward(dict(zip(_ADDRESS_ARGS, dpr)), step["read_params"])
        d_theta_w = self.write_params.squash_backward(dict(zip(_ADDRESS_ARGS, dpw), e=de, a=da),
                                                      step["write_params"])
        return dM + dM_address, dw_read, dw_write, d_theta_r, d_theta_w

    @property
    def _who(self) -> str:
        return f"NTM({self.extra_repr()})"

    def extra_repr(self) -> str:
        return (f"{self.n_in}, {self.n_out}, hidden={self.hidden}, memory={self.n_locations}×{self.width}, "
                f"n_shifts={self.read_params.n_shifts}")


# ---------------------------------------------------------------------- the copy task
def copy_bits(n: int, length: int, width: int = 8, rng=None, dtype=DEFAULT_DTYPE):
    """The NTM copy task: see ``length`` random binary vectors of ``width`` bits, then reproduce them.

    The input has ``width + 1`` channels, the last one the delimiter; the machine answers on the
    ``length`` steps *after* the delimiter, while its input is blank (``T = 2·length + 1``):

        x:  v_1 … v_L   [delimiter]   0 … 0            (v_i ∈ {0, 1}^width)
        y:  –   …   –       –         v_1 … v_L        (– = no target: NaN)

    Built on :func:`coursepkg.data.copy_task` (token ``s`` ≥ 2 encodes the vector whose bits are
    those of ``s − 2``), shifted one step later so that the first answer comes after the
    delimiter. Returns ``X`` ``(n, T, width + 1)`` and ``Y`` ``(n, T, width)`` with NaN where
    there is nothing to predict; train with :class:`MaskedBCEWithLogitsLoss`. A model that knows
    nothing predicts 1/2 for each bit: ``ln 2`` nats per bit, half the bits wrong.
    """
    if int(width) != width or not 1 <= width <= 30:
        raise ValueError(f"copy_bits: width must be an integer in 1 … 30, received {width!r}.")
    width = int(width)
    n, length = check_positive_int(n, "copy_bits", "n"), check_positive_int(length, "copy_bits", "length")
    ids_x, ids_y = copy_task(n, length, n_symbols=2 ** width, delay=0, rng=rng)

    def bits(ids):
        return ((np.maximum(ids - 2, 0)[..., None] >> np.arange(width)) & 1).astype(dtype)

    X = np.zeros((len(ids_x), 2 * length + 1, width + 1), dtype=dtype)
    X[:, :-1, :width] = bits(ids_x)  # ids 0 (blank) and 1 (delimiter) give no bits
    X[:, :-1, width] = ids_x == 1
    Y = np.full((len(ids_x), 2 * length + 1, width), np.nan, dtype=dtype)
    Y[:, length + 1:] = bits(ids_y[:, length:])
    return X, Y


class MaskedBCEWithLogitsLoss(Loss):
    """Binary cross-entropy from logits, averaged over the target entries that are not NaN:

        C = (1/|S|) Σ_{(x, t, j) ∈ S} [softplus(z) − y z],      ∂C/∂z = 1_S (σ(z) − y) / |S|

    where ``S`` is the set of entries with a target. NaN marks "no target here" (the input phase
    of :func:`copy_bits`). Unlike the package's other losses, which average over the batch and sum
    over units, this one is a mean *per target bit*, so it reads directly against the ``ln 2 ≈
    0.693`` of guessing 1/2.
    """

    def _forward(self, z, y):
        y = as_float_array(y, "MaskedBCEWithLogitsLoss (target)", z.dtype)
        if y.shape != z.shape:
            raise ShapeError(f"MaskedBCEWithLogitsLoss: expected a target of the prediction's shape {z.shape}, "
                             f"received shape {y.shape}.")
        mask = ~np.isnan(y)
        count = int(mask.sum())
        if count == 0:
            raise ValueError("MaskedBCEWithLogitsLoss: every target entry is NaN, so there is nothing to learn; "
                             "mark only the entries without a target with NaN.")
        y = np.where(mask, y, 0)
        check_unit_interval(y, type(self).__name__, "targets", "Use 0/1 bits (or probabilities), NaN for no target.")
        self._z, self._y, self._mask, self._count = z, y, mask, count
        return float(np.sum(mask * (F.softplus(z) - y * z))) / count

    def _backward(self):
        return self._mask * (F.sigmoid(self._z) - self._y) / self._count


def bit_error_rate(logits, y) -> float:
    """Fraction of target bits (entries of ``y`` that are not NaN) predicted wrongly by ``logits > 0``."""
    y = np.asarray(y)
    mask = ~np.isnan(y)
    return float(np.mean((np.asarray(logits)[mask] > 0) != (y[mask] > 0.5)))
