"""Recurrent layers: ``RNN``, ``LSTM`` (with peephole and coupled-gate variants), ``GRU``,
the ``Bidirectional`` wrapper and ``TimeDistributed``.

Sequences are batch first: ``x`` has shape ``(batch, time, features)``. A recurrent layer reads
the sequence one time step at a time and updates a hidden state ``OUT_t`` (written ``h_t``):

    OUT_t = f(OUT_{t−1} W_r + X_t W_x + b)           (vanilla RNN, f = tanh)

Conventions shared by every layer here
--------------------------------------
* ``forward(x, h0=None)`` returns the hidden states of all time steps, shape
  ``(batch, time, hidden)`` (or only the last one, ``(batch, hidden)``, with
  ``return_sequences=False``; that makes the layer usable inside ``Sequential``). The final
  state is kept in ``layer.last_state``: an array ``(batch, hidden)`` for ``RNN``/``GRU``, the
  pair ``(h_T, c_T)`` for ``LSTM`` (whose cell state ``c`` is not part of the output).
* ``h0`` is the initial state in the same format. Without it the layer starts from zeros, or
  from a learned parameter (``learn_h0=True``: parameters ``h0`` and, for an LSTM, ``c0``,
  shared by every sequence of the batch), or, when ``stateful=True``, from the last state of
  the previous call (see truncated BPTT below).
* ``backward(grad_out, grad_last_state=None)`` runs backpropagation through time. ``grad_out``
  is ∂C/∂(output); ``grad_last_state`` optionally adds ∂C/∂(last state) coming from elsewhere
  (e.g. a decoder that started from this encoder's final state). It returns ∂C/∂x and stores
  ∂C/∂h0 in ``layer.grad_h0`` (same format as ``h0``); a learned ``h0`` receives it in its
  ``.grad`` (summed over the batch).

Backpropagation through time (BPTT)
-----------------------------------
Unrolled over time, the layer is a deep feed-forward net whose layers share ``W_x``, ``W_r``
and ``b``. Backprop walks the steps in reverse; the error reaching ``OUT_{t−1}`` is what the
output at ``t−1`` receives directly plus what flows back through step ``t``:

    δ_t = ∂C/∂z_t = (∂C/∂OUT_t) ⊙ f'(z_t),         ∂C/∂OUT_{t−1} += δ_t W_rᵀ

and the shared weights collect the sum over the steps: ``∂C/∂W_x = Σ_t X_tᵀ δ_t``,
``∂C/∂W_r = Σ_t OUT_{t−1}ᵀ δ_t``, ``∂C/∂b = Σ_t Σ_batch δ_t``.

Truncated BPTT: to train on a long text, cut it into chunks, carry the *state* from one chunk
to the next but stop the *gradient* at the chunk boundary. ``stateful=True`` does exactly that:
each ``forward`` starts from the previous call's ``last_state`` (a plain array: backward stops
there and only reports ``grad_h0``); ``reset_state()`` starts over from zeros (or the learned
``h0``). Passing ``h0=layer.last_state`` explicitly is equivalent.

Implementation: the only Python loop is over time steps; everything inside it works on the
whole batch. The gates of an LSTM/GRU live side by side in one weight matrix, so one matrix
product per step feeds all of them (for ``RNN``/``LSTM`` it multiplies the stacked column
``[X_t; OUT_{t−1}; 1]`` by ``[W_x; W_r; b]ᵀ``, so the input projection comes with it; the
``GRU`` computes ``X_t W_x + b`` for all steps with one GEMM before the loop). In backward,
every factor of the recursion that does not depend on the incoming error is computed for all
steps before the loop, and after it one GEMM each gives ``∂C/∂W_x``, ``∂C/∂W_r`` and ``∂C/∂X``
for all steps. Work arrays are kept between calls (see ``Recurrent._work``).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .. import init as initializers
from ..errors import ShapeError, as_float_array, check_shape
from .module import DEFAULT_DTYPE, Module, Parameter


def _sigmoid_(z: np.ndarray, halved: bool = False) -> np.ndarray:
    """The logistic sigmoid σ(z) = 1/(1 + e^{−z}) computed *in place* as ½ tanh(z/2) + ½.

    Same function as :func:`coursepkg.nn.functional.sigmoid` (and, like it, never overflows);
    in place because it runs on every time step. ``halved=True``: ``z`` already holds z/2.
    """
    if not halved:
        z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


class Recurrent(Module):
    """Base class of the recurrent layers: input checks, initial state, stateful carry, BPTT driver.

    Subclasses define ``_gates`` (number of weight blocks of width ``hidden``), ``_n_states``
    (1, or 2 for the LSTM's ``(h, c)``), and implement ``_run(xs, state0) -> (hs, last)`` and
    ``_bptt(dY, dlast) -> (dZ, dstate0)``.

    Inside the time loop states are stored *transposed*, one column per example: ``hs[t]`` is
    ``OUT_tᵀ`` of shape ``(hidden, batch)``, and a step computes ``z_tᵀ = W_rᵀ OUT_{t−1}ᵀ + …``.
    Same numbers, but BLAS runs these small products about a third faster with the weights on
    the left. So ``_run`` gets ``xs`` ``(time, batch, n_in)`` and the initial states ``(batch,
    hidden)``, and returns ``hs`` ``(time, hidden, batch)`` and the last states ``(hidden, batch)``;
    ``_bptt`` gets ``dY`` ``(time, hidden, batch)`` and ``dlast`` ``(hidden, batch)``, adds the
    gradient of ``W_r`` and returns ``dZ = ∂C/∂z`` as rows ``(time·batch, gates·hidden)`` (for
    the input weights, handled here) and ``∂C/∂(initial states)ᵀ``.
    """

    _gates = 1
    _n_states = 1
    _stacked_input = False  # True: ``_run`` multiplies by the stacked ``[X_t; OUT_{t−1}; 1]``
    _state_names = ("h0",)

    def __init__(self, n_in: int, hidden: int, *, return_sequences: bool = True, stateful: bool = False,
                 learn_h0: bool = False, init="xavier", rng=None, dtype=DEFAULT_DTYPE):
        name = type(self).__name__
        if int(n_in) <= 0 or int(hidden) <= 0:
            raise ValueError(f"{name}: n_in and hidden must be positive integers, received {n_in}, {hidden}.")
        self.n_in, self.hidden = int(n_in), int(hidden)
        self.return_sequences, self.stateful, self.learn_h0 = bool(return_sequences), bool(stateful), bool(learn_h0)
        rng = initializers.make_rng(rng)
        make = initializers.get(init)
        H, G = self.hidden, self._gates
        # one (fan_in, hidden) block per gate, initialized as separate matrices and placed side by side
        self.W_x = Parameter(np.concatenate([make((self.n_in, H), self.n_in, H, rng, dtype) for _ in range(G)], axis=1))
        self.W_r = Parameter(np.concatenate([make((H, H), H, H, rng, dtype) for _ in range(G)], axis=1))
        self.b = Parameter(np.zeros(G * H, dtype=dtype))
        if self.learn_h0:
            for state_name in self._state_names:
                setattr(self, state_name, Parameter(np.zeros(H, dtype=dtype)))
        self.last_state = None
        self.grad_h0 = None
        self._carry = None
        self._cache = self._common = None
        self._workspace: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ public API
    def reset_state(self) -> None:
        """Forget the carried state: the next ``forward`` starts from zeros (or the learned ``h0``)."""
        self._carry = None

    def forward(self, x, h0=None):
        x = self._check_input(x)
        state0, learned = self._initial_state(h0, len(x))
        xs = self._work("xs", (x.shape[1], x.shape[0], self.n_in))
        xs[...] = x.transpose(1, 0, 2)  # time-major: xs[t] is (batch, n_in)
        hs, last = self._run(xs, state0)
        self._common = (xs, learned, x.shape[0])
        last = tuple(s.T.copy() for s in last)
        self.last_state = self._public(last)
        if self.stateful:
            self._carry = last
        if self.return_sequences:
            return hs.transpose(2, 0, 1).copy()
        return last[0].copy()

    def backward(self, grad_out, grad_last_state=None):
        name = type(self).__name__
        if self._cache is None:
            raise RuntimeError(f"{name}.backward called before forward: run the forward pass first.")
        xs, learned, batch = self._common
        T, H = xs.shape[0], self.hidden
        dtype = self.W_x.data.dtype
        g = as_float_array(grad_out, f"{name}.backward", dtype)
        expected = (batch, T, H) if self.return_sequences else (batch, H)
        if g.shape != expected:
            raise ShapeError(f"{name}.backward: expected grad_out of the output's shape {expected}, "
                             f"received shape {g.shape}. Pass ∂C/∂(output) of the last forward call.")
        dY = self._work("dY", (T, H, batch))  # ∂C/∂OUT_tᵀ
        if self.return_sequences:
            dY[...] = g.transpose(1, 2, 0)
        else:
            dY.fill(0)
            dY[-1] = g.T
        if grad_last_state is None:
            dlast = tuple(np.zeros((H, batch), dtype=dtype) for _ in range(self._n_states))
        else:
            dlast = tuple(np.array(s.T, dtype=dtype, order="C")
                          for s in self._as_tuple(grad_last_state, batch, "grad_last_state"))
        dZ2, dstate0 = self._bptt(dY, dlast)
        dstate0 = tuple(d.T.copy() for d in dstate0)
        self._weight_grads(xs, dZ2)
        dxs = self._work("dxs", (T * batch, self.n_in))
        np.matmul(dZ2, self.W_x.data.T, out=dxs)
        self.grad_h0 = self._public(dstate0)
        if learned:
            for state_name, d in zip(self._state_names, dstate0):
                getattr(self, state_name).grad += d.sum(axis=0)
        return dxs.reshape(T, batch, self.n_in).transpose(1, 0, 2).copy()

    def extra_repr(self) -> str:
        opts = [f"{self.n_in}, {self.hidden}"]
        for flag in ("return_sequences", "stateful", "learn_h0"):
            value = getattr(self, flag)
            if value != (flag == "return_sequences"):
                opts.append(f"{flag}={value}")
        return ", ".join(opts + self._extra_options())

    # ------------------------------------------------------------------ helpers
    def _extra_options(self) -> list[str]:
        return []

    def _weight_grads(self, xs: np.ndarray, dZ2: np.ndarray) -> None:
        """Add the gradients of the input projection ``X_t W_x + b``, summed over all steps, from
        ``dZ2 = ∂C/∂z`` as rows ``(time·batch, gates·hidden)``; ``_bptt`` has added ``W_r``'s
        (unless the layer runs on :meth:`_stacked` columns: then all three come from one GEMM)."""
        if self._stacked_input:
            self._stacked_grads(dZ2)
            return
        self.W_x.add_grad_matmul(xs.reshape(len(dZ2), -1).T, dZ2)
        self.b.add_grad_sum(dZ2, axis=0)

    def _public(self, states: tuple):
        return states[0] if self._n_states == 1 else tuple(states)

    def _as_tuple(self, state, batch: int, what: str) -> tuple:
        name = type(self).__name__
        if self._n_states == 1:
            parts = (state,)
        else:
            if not isinstance(state, (tuple, list)) or len(state) != self._n_states:
                raise ShapeError(f"{name}: {what} must be a pair (h, c) of arrays of shape "
                                 f"({batch}, {self.hidden}), received {type(state).__name__}.")
            parts = tuple(state)
        dtype = self.W_x.data.dtype
        out = []
        for part in parts:
            arr = as_float_array(part, name, dtype)
            check_shape(arr, f"{name}({self.n_in}, {self.hidden})", (batch, self.hidden), what)
            out.append(arr)
        return tuple(out)

    def _check_input(self, x) -> np.ndarray:
        name = f"{type(self).__name__}({self.n_in}, {self.hidden})"
        x = as_float_array(x, name, self.W_x.data.dtype)
        if x.ndim != 3 or x.shape[2] != self.n_in:
            hint = " Integer token ids need an Embedding or OneHot layer first." if x.ndim == 2 else ""
            if x.ndim == 2 and x.shape[1] == self.n_in:
                hint = " A single sequence needs a batch axis: use x[None]."
            raise ShapeError(f"{name}: expected input of shape (batch, time, {self.n_in}), received "
                             f"shape {x.shape}.{hint}")
        if x.shape[1] == 0:
            raise ShapeError(f"{name}: the input sequence is empty (time = 0); give at least one step.")
        return x

    def _initial_state(self, h0, batch: int) -> tuple[tuple, bool]:
        """The state to start from and whether it is the learned parameter (for backward)."""
        dtype, H = self.W_x.data.dtype, self.hidden
        if h0 is not None:
            return self._as_tuple(h0, batch, "h0"), False
        if self.stateful and self._carry is not None:
            if self._carry[0].shape[0] != batch:
                raise ShapeError(
                    f"{type(self).__name__}: stateful layer carries a state for batch size "
                    f"{self._carry[0].shape[0]} but received a batch of {batch}. Call reset_state() "
                    "(or reset_states(model)) before changing the batch size.")
            return self._carry, False
        if self.learn_h0:
            return tuple(np.broadcast_to(getattr(self, n).data, (batch, H)) for n in self._state_names), True
        return tuple(np.zeros((batch, H), dtype=dtype) for _ in range(self._n_states)), False

    def _work(self, name: str, shape: tuple) -> np.ndarray:
        """A work array kept between calls (fresh large arrays cost page faults on every call).

        Scratch space, not state (unlike ``Module.buffers``, it is never saved): only caches and
        temporaries live here; what a caller receives is always a copy.
        """
        dtype = self.W_x.data.dtype
        buf = self._workspace.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._workspace[name] = np.empty(shape, dtype=dtype)
        return buf

    def _project(self, xs: np.ndarray) -> np.ndarray:
        """``(X_t W_x + b)ᵀ`` for every step with one GEMM, shape ``(time, gates·hidden, batch)``."""
        T, B, _ = xs.shape
        z = self._work("z", (T * B, self.W_x.shape[1]))
        np.matmul(xs.reshape(T * B, -1), self.W_x.data, out=z)
        A = self._work("A", (T, z.shape[1], B))
        np.add(z.reshape(T, B, -1).transpose(0, 2, 1), self.b.data[:, None], out=A)
        return A

    def _stacked(self, xs: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-step columns ``[X_tᵀ; OUT_{t−1}ᵀ; 1]``, shape ``(time+1, n_in+hidden+1, batch)``.

        With :meth:`_stacked_weights` one product per step gives the whole net input
        ``(X_t W_x + OUT_{t−1} W_r + b)ᵀ``. Also returns the states ``hs`` (a view of the middle
        rows: ``hs[t]`` is ``OUT_{t−1}ᵀ``, ``hs[0] = h0ᵀ``), where the loop writes each new state.
        """
        T, B, n = xs.shape
        xh = self._work("xh", (T + 1, n + self.hidden + 1, B))
        xh[:T, :n] = xs.transpose(0, 2, 1)
        xh[T, :n] = 0
        xh[:, -1] = 1
        hs = xh[:, n:n + self.hidden]
        hs[0] = h0.T
        return xh, hs

    def _stacked_weights(self) -> np.ndarray:
        """``[W_x; W_r; b]ᵀ``, shape ``(gates·hidden, n_in+hidden+1)``: see :meth:`_stacked`."""
        n, H = self.n_in, self.hidden
        W = self._work("W_stacked", (self.W_x.shape[1], n + H + 1))
        W[:, :n] = self.W_x.data.T
        W[:, n:n + H] = self.W_r.data.T
        W[:, -1] = self.b.data
        return W

    def _stacked_grads(self, dZ2: np.ndarray) -> None:
        """Gradients of ``W_x``, ``W_r`` and ``b`` at once for the layers that use :meth:`_stacked`:
        ``Σ_t [X_t; OUT_{t−1}; 1] δ_t`` is one GEMM of the stacked columns (rows here) with ``dZ2``."""
        xh = self._workspace["xh"]
        n, H = self.n_in, self.hidden
        dW = self._rows("xh2", xh[:-1]).T @ dZ2  # (n_in + hidden + 1, gates·hidden)
        self.W_x.grad += dW[:n]
        self.W_r.grad += dW[n:n + H]
        self.b.grad += dW[-1]

    def _rows(self, name: str, cols: np.ndarray) -> np.ndarray:
        """Per-step columns ``(time, k, batch)`` as one matrix of rows ``(time·batch, k)``."""
        T, k, B = cols.shape
        rows = self._work(name, (T, B, k))
        rows[...] = cols.transpose(0, 2, 1)
        return rows.reshape(T * B, k)

    def _weights_t(self, name: str, W: np.ndarray) -> np.ndarray:
        """A C-contiguous copy of ``Wᵀ`` (the left factor of the per-step products)."""
        buf = self._work(name, W.T.shape)
        buf[...] = W.T
        return buf


    def _states(self, name: str, batch: int, steps: int) -> np.ndarray:
        return self._work(name, (steps, self.hidden, batch))


class RNN(Recurrent):
    """Vanilla (Elman) recurrent layer: ``OUT_t = tanh(OUT_{t−1} W_r + X_t W_x + b)``.

    Shapes: ``W_x`` is ``(n_in, hidden)``, ``W_r`` ``(hidden, hidden)``, ``b`` ``(hidden,)``.
    BPTT: ``δ_t = (∂C/∂OUT_t) ⊙ (1 − OUT_t²)`` and ``∂C/∂OUT_{t−1} += δ_t W_rᵀ``; the repeated
    factor ``W_rᵀ diag(1 − OUT²)`` makes gradients vanish or explode over long sequences.
    See :mod:`coursepkg.nn.recurrent` for ``forward``/``backward``, ``h0``, ``stateful``.
    """

    _stacked_input = True

    def _run(self, xs, state0):
        T = len(xs)
        xh, hs = self._stacked(xs, state0[0])
        W = self._stacked_weights()
        for t in range(T):
            np.matmul(W, xh[t], out=hs[t + 1])
            np.tanh(hs[t + 1], out=hs[t + 1])
        self._cache = hs
        return hs[1:], (hs[T],)

    def _bptt(self, dY, dlast):
        hs = self._cache
        T = len(dY)
        dZ = self._work("dZ", dY.shape)  # tanh'(z_t) = 1 − OUT_t², turned into δ_tᵀ in place below
        np.multiply(hs[1:], hs[1:], out=dZ)
        np.subtract(1, dZ, out=dZ)
        dh = dlast[0]
        W_r = self.W_r.data
        for t in range(T - 1, -1, -1):
            dh += dY[t]
            dZ[t] *= dh
            np.matmul(W_r, dZ[t], out=dh)  # (δ_t W_rᵀ)ᵀ = W_r δ_tᵀ
        dZ2 = self._rows("dZ2", dZ)
        return dZ2, (dh,)


class LSTM(Recurrent):
    """Long short-term memory layer with optional peephole connections and coupled gates.

    With ``[OUT_{t−1}, X_t]`` feeding every gate (``W_{x·}`` and ``W_{r·}`` are the input and
    recurrent blocks of one weight matrix):

        f_t = σ(X_t W_xf + OUT_{t−1} W_rf + b_f)        forget gate: how much of C_{t−1} to keep
        i_t = σ(X_t W_xi + OUT_{t−1} W_ri + b_i)        input gate: how much of the candidate to add
        C̃_t = tanh(X_t W_xg + OUT_{t−1} W_rg + b_g)     candidate values
        C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t                 cell state (the memory)
        o_t = σ(X_t W_xo + OUT_{t−1} W_ro + b_o)        output gate
        OUT_t = o_t ⊙ tanh(C_t)

    The cell is a sum, not a squashing: with ``f = 1, i = 0`` it is carried unchanged, and its
    gradient ``∂C_t/∂C_{t−1} = f_t`` does not shrink through a weight matrix each step. With
    ``i = o = 1, f = 0`` the cell is just the candidate, ``C_t = C̃_t``, and ``OUT_t = tanh(C̃_t)``:
    a vanilla RNN step with ``tanh∘tanh`` as its activation.

    Variants (the notes' "peephole connections" and "update gates"):

    * ``peephole=True``: the gates also look at the cell, ``f_t`` and ``i_t`` at ``C_{t−1}``,
      ``o_t`` at the new ``C_t`` (added to the net inputs as ``p_f ⊙ C_{t−1}``, ``p_i ⊙ C_{t−1}``,
      ``p_o ⊙ C_t``). The notes write the cell into the full concatenated input of every gate
      (and ``C_{t−1}`` for ``o_t`` in the formula although the text says ``C_t``); we follow the
      original design (Gers & Schmidhuber): one peephole weight per unit (a diagonal matrix,
      parameter ``P`` with rows ``p_o, p_i, p_f``) and ``C_t`` for the output gate.
    * ``coupled=True``: one update gate replaces the forget and input gates, ``i_t = 1 − f_t``:
      the cell writes exactly as much as it forgets.

    Parameters: ``W_x`` ``(n_in, k·hidden)``, ``W_r`` ``(hidden, k·hidden)``, ``b`` ``(k·hidden,)``
    with the blocks in the order ``[o, i, f, C̃]`` (``k = 4``; ``[o, f, C̃]``, ``k = 3``, when
    coupled). ``forget_bias`` initializes ``b_f`` (1 by default, so that a fresh LSTM remembers).
    The state is the pair ``(h, c)``; see :mod:`coursepkg.nn.recurrent` for the API.
    """

    _n_states = 2
    _state_names = ("h0", "c0")
    _stacked_input = True

    def __init__(self, n_in: int, hidden: int, *, peephole: bool = False, coupled: bool = False,
                 forget_bias: float = 1.0, rng=None, dtype=DEFAULT_DTYPE, **kwargs):
        self.peephole, self.coupled = bool(peephole), bool(coupled)
        self._gates = 3 if self.coupled else 4
        super().__init__(n_in, hidden, rng=rng, dtype=dtype, **kwargs)
        H = self.hidden
        self._f = 1 if self.coupled else 2  # block index of the forget gate
        self.b.data[self._f * H:(self._f + 1) * H] = forget_bias
        self.forget_bias = float(forget_bias)
        # peephole weights, rows in block order [o, (i,) f]; start at zero (= a plain LSTM)
        self.P = Parameter(np.zeros((self._gates - 1, H), dtype=dtype)) if self.peephole else None

    def _extra_options(self) -> list[str]:
        return [f"{k}=True" for k in ("peephole", "coupled") if getattr(self, k)]

    def _run(self, xs, state0):
        T, B, _ = xs.shape
        H, G, f = self.hidden, self._gates, self._f
        # σ(z) = ½ tanh(z/2) + ½: with the sigmoid gates' net inputs halved (their rows of the
        # stacked weights and the peepholes), one tanh per step covers every gate and the candidate.
        xh, hs = self._stacked(xs, state0[0])
        W = self._stacked_weights()
        W[:(f + 1) * H] *= 0.5
        P = 0.5 * self.P.data[:, :, None] if self.peephole else None
        A = self._work("A", (T, G, H, B))  # gate values
        cs, tc = self._states("cs", B, T + 1), self._states("tc", B, T)  # C_t and tanh(C_t)
        cs[0] = state0[1].T
        tmp = np.empty((H, B), dtype=A.dtype)
        gates = slice(0, f + 1) if P is None else slice(1, f + 1)  # sigmoids known before C_t
        for t in range(T):
            a = A[t]
            np.matmul(W, xh[t], out=a.reshape(G * H, B))
            if P is not None:
                a[1:f + 1] += P[1:] * cs[t]
            np.tanh(a[gates.start:], out=a[gates.start:])
            a[gates] *= 0.5
            a[gates] += 0.5
            c = cs[t + 1]
            np.multiply(a[f], cs[t], out=c)
            if self.coupled:  # i = 1 − f:  C = f C_{t−1} + C̃ − f C̃
                np.multiply(a[f], a[-1], out=tmp)
                c -= tmp
                c += a[-1]
            else:
                np.multiply(a[1], a[-1], out=tmp)
                c += tmp
            if P is not None:
                np.multiply(P[0], c, out=tmp)
                a[0] += tmp
                _sigmoid_(a[0], halved=True)
            np.tanh(c, out=tc[t])
            np.multiply(a[0], tc[t], out=hs[t + 1])
        self._cache = (A, hs, cs, tc)
        return hs[1:], (hs[T], cs[T])

    def _bptt(self, dY, dlast):
        A, hs, cs, tc = self._cache
        T, G, H, B = A.shape
        f = self._f
        o, g, c_prev = A[:, 0], A[:, -1], cs[:-1]
        # Everything the backward recursion multiplies by, computed for all steps at once:
        #   dZ_o = dh ⊙ N,   dC = dC_next + dh ⊙ Q,   dZ_[i f C̃] = dC ⊙ M,   dC_{t−1} = dC ⊙ R
        dsig = self._work("dsig", (T, f + 1, H, B))  # σ' = σ(1 − σ) of the gates [o, (i,) f]
        np.subtract(1, A[:, :f + 1], out=dsig)
        dsig *= A[:, :f + 1]
        N = self._states("N", B, T)
        np.multiply(tc, dsig[:, 0], out=N)
        Q = self._states("Q", B, T)
        np.multiply(tc, tc, out=Q)
        np.subtract(1, Q, out=Q)
        Q *= o
        M = self._work("M", (T, G - 1, H, B))
        dtanh_g = M[:, -1]  # (1 − C̃²), times the input gate below
        np.multiply(g, g, out=dtanh_g)
        np.subtract(1, dtanh_g, out=dtanh_g)
        if self.coupled:
            dtanh_g *= 1 - A[:, f]
            np.subtract(c_prev, g, out=M[:, 0])
            M[:, 0] *= dsig[:, 1]
        else:
            dtanh_g *= A[:, 1]
            np.multiply(g, dsig[:, 1], out=M[:, 0])
            np.multiply(c_prev, dsig[:, 2], out=M[:, 1])
        R = A[:, f]
        if self.peephole:
            P = self.P.data
            Q += P[0][:, None] * N
            R = R + np.einsum("tkhb,kh->thb", M[:, :f], P[1:])
        dZ = self._work("dZ", (T, G, H, B))
        dh, dc = dlast
        tmp = np.empty((H, B), dtype=A.dtype)
        W_r = self.W_r.data
        for t in range(T - 1, -1, -1):
            dh += dY[t]
            np.multiply(dh, Q[t], out=tmp)
            dc += tmp
            np.multiply(dh, N[t], out=dZ[t, 0])
            np.multiply(dc, M[t], out=dZ[t, 1:])
            dc *= R[t]
            np.matmul(W_r, dZ[t].reshape(G * H, B), out=dh)
        if self.peephole:
            self.P.grad[0] += np.einsum("thb,thb->h", dZ[:, 0], cs[1:])
            self.P.grad[1:] += np.einsum("tkhb,thb->kh", dZ[:, 1:f + 1], c_prev)
        dZ2 = self._rows("dZ2", dZ.reshape(T, G * H, B))
        return dZ2, (dh, dc)


class GRU(Recurrent):
    """Gated recurrent unit, as in the notes (reset gate ``r``, update gate ``z``, no cell):

        z_t = σ(X_t W_xz + h_{t−1} W_rz + b_z)
        r_t = σ(X_t W_xr + h_{t−1} W_rr + b_r)
        h̃_t = tanh(X_t W_xh + (r_t ⊙ h_{t−1}) W_rh + b_h)
        h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t  = OUT_t

    With every ``r = 1`` and ``z = 1`` this is exactly the vanilla :class:`RNN`. (The notes say
    "update gates 0": that holds for the other common convention ``h_t = z h_{t−1} + (1−z) h̃``,
    used e.g. by PyTorch, where ``z`` is a *keep* gate; in the notes' formula, used here, it is
    the *update* gate.) The reset gate is applied before the recurrent product (Cho et al.).

    Parameters: ``W_x`` ``(n_in, 3·hidden)``, ``W_r`` ``(hidden, 3·hidden)``, ``b`` ``(3·hidden,)``,
    blocks in the order ``[r, z, h̃]``. See :mod:`coursepkg.nn.recurrent` for the API.
    """

    _gates = 3

    def _run(self, xs, state0):
        T, B, _ = xs.shape
        H = self.hidden
        A = self._project(xs).reshape(T, 3, H, B)
        hs = self._states("hs", B, T + 1)
        rh = self._states("rh", B, T)  # (r_t ⊙ h_{t−1})ᵀ
        hs[0] = state0[0].T
        W_rT = self._weights_t("W_rT", self.W_r.data)
        W_zrT, W_hT = W_rT[:2 * H], W_rT[2 * H:]
        rec = np.empty((2, H, B), dtype=A.dtype)
        tmp = np.empty((H, B), dtype=A.dtype)
        for t in range(T):
            a = A[t]
            np.matmul(W_zrT, hs[t], out=rec.reshape(2 * H, B))
            a[:2] += rec
            _sigmoid_(a[:2])
            np.multiply(a[0], hs[t], out=rh[t])
            np.matmul(W_hT, rh[t], out=tmp)
            a[2] += tmp
            np.tanh(a[2], out=a[2])
            h = hs[t + 1]  # h_{t−1} + z (h̃ − h_{t−1})
            np.subtract(a[2], hs[t], out=h)
            h *= a[1]
            h += hs[t]
        self._cache = (A, hs, rh)
        return hs[1:], (hs[T],)

    def _bptt(self, dY, dlast):
        A, hs, rh = self._cache
        T, _, H, B = A.shape
        r, z, hh = A[:, 0], A[:, 1], A[:, 2]
        h_prev = hs[:-1]
        # dZ_[z h̃] = dh ⊙ M,  dZ_r = (dZ_h̃ W_rhᵀ) ⊙ h_{t−1} ⊙ σ'(r)
        M = self._work("M", (T, 2, H, B))
        np.subtract(hh, h_prev, out=M[:, 0])
        M[:, 0] *= z
        M[:, 0] *= 1 - z
        np.multiply(hh, hh, out=M[:, 1])
        np.subtract(1, M[:, 1], out=M[:, 1])
        M[:, 1] *= z
        Mr = h_prev * r * (1 - r)
        keep = 1 - z
        dZ = self._work("dZ", (T, 3, H, B))
        dh = dlast[0]
        drh = np.empty((H, B), dtype=A.dtype)
        tmp = np.empty((H, B), dtype=A.dtype)
        W_zr, W_h = np.ascontiguousarray(self.W_r.data[:, :2 * H]), np.ascontiguousarray(self.W_r.data[:, 2 * H:])
        for t in range(T - 1, -1, -1):
            d = dZ[t]
            dh += dY[t]
            np.multiply(dh, M[t], out=d[1:])
            np.matmul(W_h, d[2], out=drh)
            np.multiply(drh, Mr[t], out=d[0])
            dh *= keep[t]
            np.multiply(drh, r[t], out=tmp)
            dh += tmp
            np.matmul(W_zr, d[:2].reshape(2 * H, B), out=tmp)
            dh += tmp
        dZ2 = self._rows("dZ2", dZ.reshape(T, 3 * H, B))
        self.W_r.grad[:, :2 * H] += self._rows("hs2", h_prev).T @ dZ2[:, :2 * H]
        self.W_r.grad[:, 2 * H:] += self._rows("rh2", rh).T @ dZ2[:, 2 * H:]
        return dZ2, (dh,)


class Bidirectional(Module):
    """Run one recurrent layer forward in time and another on the reversed sequence; concatenate.

    ``y_t = [OUT_t^fwd ; OUT_t^bwd]``: ``OUT_t^fwd`` has read ``x_1 … x_t``, ``OUT_t^bwd`` has read
    ``x_T … x_t``, so every position sees its whole context. Output ``(batch, time, 2·hidden)``
    (or ``(batch, 2·hidden)`` when both layers have ``return_sequences=False``: the two final
    states, a summary of the whole sequence). ``h0`` and ``grad_last_state`` are pairs
    ``(for the forward layer, for the backward layer)``; ``last_state`` likewise.

    >>> Bidirectional(LSTM(65, 128, rng=0), LSTM(65, 128, rng=1))
    """

    def __init__(self, forward_layer: Recurrent, backward_layer: Recurrent):
        for what, layer in (("forward_layer", forward_layer), ("backward_layer", backward_layer)):
            if not isinstance(layer, Recurrent):
                raise TypeError(f"Bidirectional: {what} must be a recurrent layer (RNN, LSTM, GRU), "
                                f"received {type(layer).__name__}.")
        if forward_layer.n_in != backward_layer.n_in or \
                forward_layer.return_sequences != backward_layer.return_sequences:
            raise ValueError("Bidirectional: both layers need the same n_in and return_sequences; received "
                             f"{forward_layer!r} and {backward_layer!r}.")
        self.forward_layer, self.backward_layer = forward_layer, backward_layer
        self.last_state = self.grad_h0 = None

    def forward(self, x, h0=None):
        h0f, h0b = (None, None) if h0 is None else h0
        seq = self.forward_layer.return_sequences
        yf = self.forward_layer.forward(x, h0f)
        yb = self.backward_layer.forward(np.asarray(x)[:, ::-1], h0b)
        if seq:
            yb = yb[:, ::-1]
        self.last_state = (self.forward_layer.last_state, self.backward_layer.last_state)
        return np.concatenate([yf, yb], axis=-1)

    def backward(self, grad_out, grad_last_state=None):
        gf, gb = np.split(np.asarray(grad_out), 2, axis=-1)
        glf, glb = (None, None) if grad_last_state is None else grad_last_state
        seq = self.forward_layer.return_sequences
        dx = self.forward_layer.backward(gf, glf)
        dxb = self.backward_layer.backward(gb[:, ::-1] if seq else gb, glb)
        self.grad_h0 = (self.forward_layer.grad_h0, self.backward_layer.grad_h0)
        return dx + dxb[:, ::-1]


class TimeDistributed(Module):
    """Apply the same module to every time step: ``y_t = module(x_t)`` for ``x`` of shape
    ``(batch, time, …)``; e.g. ``TimeDistributed(Dense(hidden, vocab))`` gives the logits of every
    step. The steps are stacked into one batch of ``batch·time`` rows, so it costs one call.
    """

    def __init__(self, module: Module):
        if not isinstance(module, Module):
            raise TypeError(f"TimeDistributed: expected a Module, received {type(module).__name__}.")
        self.module = module
        self._bt = None

    def forward(self, x):
        x = np.asarray(x)
        if x.ndim < 3:
            raise ShapeError(f"TimeDistributed({self.module!r}): expected input of shape (batch, time, …), "
                             f"received shape {x.shape}. For one time step use the module itself.")
        self._bt = x.shape[:2]
        y = self.module.forward(x.reshape((-1,) + x.shape[2:]))
        return y.reshape(self._bt + y.shape[1:])

    def backward(self, grad_out):
        if self._bt is None:
            raise RuntimeError("TimeDistributed.backward called before forward: run the forward pass first.")
        g = np.asarray(grad_out)
        dx = self.module.backward(g.reshape((-1,) + g.shape[2:]))
        return None if dx is None else dx.reshape(self._bt + dx.shape[1:])


def reset_states(model: Module) -> None:
    """Call ``reset_state()`` on every recurrent layer of ``model`` (e.g. at the start of an epoch)."""
    for m in model.modules():
        if isinstance(m, Recurrent):
            m.reset_state()


@contextmanager
def carrying_state(model: Module):
    """Within the ``with`` block every recurrent layer of ``model`` is stateful, starting afresh.

    Feeding a sequence piece by piece then gives the same states as feeding it at once, which is
    how a language model generates text one character at a time. On exit each layer gets back
    its own ``stateful`` flag and carried state, so sampling in the middle of truncated-BPTT
    training does not disturb it.
    """
    layers = [m for m in model.modules() if isinstance(m, Recurrent)]
    saved = [(m.stateful, m._carry) for m in layers]
    try:
        for m in layers:
            m.stateful, m._carry = True, None
        yield model
    finally:
        for m, (stateful, carry) in zip(layers, saved):
            m.stateful, m._carry = stateful, carry
