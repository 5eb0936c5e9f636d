"""``ElementwiseOptimizer``: optimizers whose update treats every weight on its own.

SGD, momentum, Adagrad, Adadelta, RMSprop, Adam, Rprop and adaptive gains all update weight
``i`` from ``θᵢ``, ``gᵢ`` and that weight's own state (velocity, running averages, step size).
Such an update is written once, as a *kernel* on flat arrays, and this base class

* keeps the per-parameter state arrays (created on the first step, shaped like the parameter),
* hands the kernel flat views of ``θ``, ``g`` and the state, so it can work in place with
  ``out=`` and allocate nothing,
* splits large parameters into contiguous chunks and runs the kernel on them in a few threads.
  NumPy releases the interpreter lock inside its array loops, so the chunks really run in
  parallel; this is how a step over a million weights keeps up with PyTorch's multi-threaded
  ``foreach`` kernels. The result is identical to one call on the whole array, since no weight
  depends on another.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..nn.module import aligned_zeros
from .optimizer import Optimizer

#: Threads used for parameters of at least ``MIN_CHUNK * 2`` weights (``set_num_threads``). Handing a
#: chunk to a thread costs tens of microseconds, so only arrays of half a million weights and more
#: are split (measured: smaller thresholds slowed down mini-batch training of mid-size nets).
_threads = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
_pool: ThreadPoolExecutor | None = None
MIN_CHUNK = 1 << 18


def num_threads() -> int:
    """The number of threads large parameter updates are split between."""
    return _threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for large parameter updates (1 = everything in the calling thread)."""
    global _threads, _pool
    if n < 1 or int(n) != n:
        raise ValueError(f"set_num_threads: n must be a positive integer, received {n!r}.")
    if _pool is not None:
        _pool.shutdown()
        _pool = None
    _threads = int(n)


def _chunks(size: int) -> list[slice]:
    k = min(_threads, size // MIN_CHUNK)
    if k <= 1:
        return [slice(None)]
    return [slice(i * size // k, (i + 1) * size // k) for i in range(k)]


def _run_all(calls: list) -> None:
    for fn, args in calls:
        fn(*args)


class ElementwiseOptimizer(Optimizer):
    """Base class of optimizers with a per-weight update.

    Subclasses list their state arrays in ``state_names``, may override ``init_state(name, p)``
    (default: zeros like ``p``, a boolean array for ``"mask"``) and implement
    ``kernel(theta, g, s)``: update the flat array ``theta`` in place from the flat gradient
    ``g`` and the dict ``s`` of flat state views (``s["buffer"]`` is always there as scratch
    space). ``self.lr`` and ``self.t`` are the current learning rate and step.
    """

    state_names: tuple[str, ...] = ()
    #: whether large parameters are split between this module's threads (False for kernels
    #: that call a multi-threaded library themselves)
    split_work: bool = True
    _planned = None

    def init_state(self, name: str, p) -> np.ndarray:
        """Zeros like ``p`` (cache-line aligned, as ``p`` is); a state named ``"mask"`` is a boolean
        scratch array."""
        if name == "mask":
            return np.empty(p.shape, dtype=bool)
        return aligned_zeros(p.shape, p.data.dtype)

    def kernel(self, theta: np.ndarray, g: np.ndarray, s: dict) -> None:
        raise NotImplementedError

    def _flat_views(self, p, state) -> tuple[np.ndarray, np.ndarray, dict]:
        if not state:
            for name in (*self.state_names, "buffer"):
                state[name] = self.init_state(name, p)
        if not (p.data.flags.c_contiguous and p.grad.flags.c_contiguous):
            raise ValueError(
                f"{type(self).__name__}: parameters and gradients must be contiguous arrays "
                "(use np.ascontiguousarray when you assign p.data or p.grad)."
            )
        return p.data.reshape(-1), p.grad.reshape(-1), {k: v.reshape(-1) for k, v in state.items()}

    def _plan(self) -> list[list]:
        """Per thread, the kernel calls of one step: small parameters in this thread, large ones
        split into chunks shared out between the threads. The plan is kept from step to step
        and made again only when a parameter's ``data`` or ``grad`` is a new array."""
        arrays = [(p.data, p.grad) for p in self.params]
        split = (_threads, self.split_work)
        cached = self._planned
        if (cached is not None and cached[0] == split
                and all(a is b and g is h for (a, g), (b, h) in zip(arrays, cached[1]))):
            return cached[2]
        work: list[list] = [[] for _ in range(_threads)]
        for p, state in zip(self.params, self.state):
            theta, g, s = self._flat_views(p, state)
            parts = _chunks(theta.size) if self.split_work else [slice(None)]
            if len(parts) == 1:
                work[0].append((self.kernel, (theta, g, s)))
                continue
            for i, c in enumerate(parts):
                work[i].append((self.kernel, (theta[c], g[c], {k: v[c] for k, v in s.items()})))
        self._planned = (split, arrays, work)
        return work

    def step(self) -> None:
        """Update every parameter once (one batch of work per thread, see ``_plan``)."""
        self.t += 1
        work = self._plan()
        global _pool
        if any(work[1:]) and _pool is None:
            _pool = ThreadPoolExecutor(_threads - 1, thread_name_prefix="coursepkg-optim")
        jobs = [_pool.submit(_run_all, calls) for calls in work[1:] if calls]
        _run_all(work[0])
        for job in jobs:
            job.result()
