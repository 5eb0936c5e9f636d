"""Asynchronous parallel SGD on one machine: Hogwild and elastic averaging (EASGD).

Both train a softmax-regression (multinomial logistic) model ``a = softmax(xW + b)`` with the
cross-entropy cost, using several worker *processes*. The weights live in shared memory
(``multiprocessing.RawArray``), so every worker reads and writes the very same numbers:

* **Hogwild** (Niu et al., 2011): every worker runs plain SGD on its own share of the data and
  writes its updates straight into the shared ``W``, *without any lock*. Two workers may read the
  same weight, both compute an update and one overwrite the other's. When each update touches
  only a few weights (sparse inputs, such as MNIST's mostly black pixels: only the rows of ``W``
  whose input is non-zero change) such collisions are rare, and the lost updates cost less than
  locking would.
* **Elastic averaging SGD** (Zhang, Choromanska & LeCun, 2015): every worker ``i`` trains its
  own copy ``Wᵢ`` and, every ``τ`` steps, it and a shared *center* variable ``W̃`` are pulled
  towards each other by an elastic force with strength ``α``:

      d = α (Wᵢ − W̃),     Wᵢ ← Wᵢ − d,     W̃ ← W̃ + d

  Workers may wander off to explore, but the spring keeps them near the center, which averages
  them. The center is the model we keep. ``α = β/p`` for ``p`` workers with ``β ≈ 0.9`` is the
  paper's choice. The exchange is lock-free too (it happens only every ``τ`` steps).

Workers are short-lived processes started by :func:`run_workers`, which always reaps them:
when a worker raises, when the time limit passes and when the caller is interrupted, the
remaining workers are terminated (then killed) before the exception propagates.

The weight matrix ``W`` of shape ``(n_in + 1, k)`` holds the bias ``b`` in its last row.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait

import numpy as np

from .errors import check_positive
from .init import make_rng


class SharedArray:
    """A NumPy array in shared memory that can be handed to worker processes at start-up.

    ``SharedArray(x)`` copies ``x`` into a ``multiprocessing.RawArray``; ``.array`` is a NumPy
    view of that memory, in the parent and (after unpickling at start-up) in every worker:
    writes by one process are seen by all, with no lock and no copy.
    """

    def __init__(self, x, dtype=None):
        x = np.ascontiguousarray(x, dtype=dtype)
        self.shape, self.dtype = x.shape, x.dtype
        self.raw = mp.RawArray("b", max(x.nbytes, 1))
        self.array[...] = x

    @property
    def array(self) -> np.ndarray:
        return np.frombuffer(self.raw, dtype=self.dtype, count=int(np.prod(self.shape))).reshape(self.shape)


def _guarded(target, errors, rank: int, args: tuple) -> None:
    """Run ``target(rank, *args)`` in a worker; on an exception, send its traceback home."""
    try:
        target(rank, *args)
    except BaseException:
        errors.put((rank, traceback.format_exc()[-3000:]))
        raise SystemExit(1) from None


def _stop(procs) -> None:
    """Terminate (then kill) every started worker still alive and wait for all of them."""
    procs = [p for p in procs if p.pid is not None]
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(2.0)
        if p.is_alive():
            p.kill()
            p.join()


def default_start_method() -> str:
    """``"fork"`` where the platform has it (Linux: a worker starts in milliseconds and inherits the
    parent's memory), else ``"spawn"`` (a fresh interpreter per worker: macOS, Windows)."""
    return "fork" if "fork" in mp.get_all_start_methods() and sys.platform.startswith("linux") else "spawn"


def run_workers(target, args_per_worker, timeout: float = 120.0, start_method: str | None = None) -> float:
    """Run ``target(rank, *args)`` for each ``args`` of ``args_per_worker`` in its own process.

    ``target`` must be a module-level function (it is pickled to the workers) and ``args`` small
    (bulk data goes in a :class:`SharedArray`: a large pickle can block the start). Returns the wall
    time from starting the first worker to the last one finishing. Raises ``RuntimeError``
    (with the worker's traceback) as soon as a worker fails and ``TimeoutError`` after
    ``timeout`` seconds; in every case, no worker is left running. ``"spawn"`` starts a fresh
    interpreter per worker (it re-imports NumPy and ``coursepkg``: a second or more each on a
    busy machine); ``"fork"`` (the default on Linux, see :func:`default_start_method`) copies
    the running process in milliseconds.
    """
    check_positive(timeout, "run_workers", "timeout")
    ctx = mp.get_context(start_method or default_start_method())
    errors = ctx.SimpleQueue()
    procs = [ctx.Process(target=_guarded, args=(target, errors, rank, tuple(args)), daemon=True)
             for rank, args in enumerate(args_per_worker)]
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            p.start()
        pending = {p.sentinel: (rank, p) for rank, p in enumerate(procs)}
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"run_workers: {len(pending)} of {len(procs)} workers were still running after "
                    f"{timeout} s; they were terminated. Give more time (timeout=) or less work."
                )
            for sentinel in wait(list(pending), timeout=left):
                rank, p = pending.pop(sentinel)
                p.join()
                if p.exitcode != 0:
                    detail = "".join(tb for _, tb in _drain(errors)) or "(no traceback: killed?)"
                    raise RuntimeError(
                        f"run_workers: worker {rank} failed with exit code {p.exitcode}; the other "
                        f"workers were stopped. Its error:\n{detail}"
                    )
        return time.perf_counter() - start
    finally:
        _stop(procs)
        errors.close()


def _drain(q):
    """Drain a ``SimpleQueue`` without blocking."""
    while not q.empty():
        yield q.get()


# ------------------------------------------------------------------ the model and one SGD step
def softmax_sgd_step(W: np.ndarray, Xb: np.ndarray, yb: np.ndarray, lr: float) -> None:
    """One SGD step of softmax regression on the mini-batch ``(Xb, yb)``, in place on ``W``.

        z = x W + b,  a = softmax(z),  δ = (a − onehot(y)) / n,
        W ← W − η xᵀδ,  b ← b − η Σₙ δ

    Only the rows of ``W`` whose input is non-zero somewhere in the batch are written (the
    others have zero gradient): on sparse inputs the update is sparse, which is what lets
    Hogwild's lock-free workers rarely collide. Reading ``W`` and writing it back are separate
    operations, so a concurrent worker's update can be lost in between.
    """
    z = Xb @ W[:-1] + W[-1]
    z -= z.max(axis=1, keepdims=True)
    a = np.exp(z)
    a /= a.sum(axis=1, keepdims=True)
    a[np.arange(len(yb)), yb] -= 1.0
    a *= lr / len(yb)                      # η δ
    rows = np.flatnonzero(Xb.any(axis=0))
    W[rows] -= Xb[:, rows].T @ a
    W[-1] -= a.sum(axis=0)


def predict(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Class predictions ``argmax(xW + b)`` of a softmax-regression weight matrix."""
    return np.argmax(X @ W[:-1] + W[-1], axis=1)


def accuracy(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``X`` classified correctly by ``W``."""
    return float(np.mean(predict(W, X) == y))


def _epochs_of_batches(idx: np.ndarray, epochs: int, batch_size: int, rng):
    """Shuffled mini-batches of the example indices ``idx``, ``epochs`` times over."""
    for _ in range(epochs):
        order = rng.permutation(idx)
        for s in range(0, len(order), batch_size):
            yield order[s:s + batch_size]


# ------------------------------------------------------------------------------------ workers
def _hogwild_worker(rank, W_sh, X_sh, y_sh, shard, epochs, lr, batch_size, seed, times_sh):
    W, X, y, times = W_sh.array, X_sh.array, y_sh.array, times_sh.array
    idx = np.arange(*shard)
    rng = np.random.default_rng(seed)
    times[rank, 0] = time.perf_counter()
    for b in _epochs_of_batches(idx, epochs, batch_size, rng):
        softmax_sgd_step(W, X[b], y[b], lr)          # straight into shared memory, no lock
    times[rank, 1] = time.perf_counter()


def _easgd_worker(rank, C_sh, X_sh, y_sh, shard, epochs, lr, batch_size, seed, times_sh, alpha, tau):
    center, X, y, times = C_sh.array, X_sh.array, y_sh.array, times_sh.array
    idx = np.arange(*shard)
    rng = np.random.default_rng(seed)
    W = center.copy()                                # the worker's local variable Wᵢ
    times[rank, 0] = time.perf_counter()
    for step, b in enumerate(_epochs_of_batches(idx, epochs, batch_size, rng)):
        if step % tau == 0:                          # elastic exchange with the center
            d = alpha * (W - center)
            W -= d
            center += d
        softmax_sgd_step(W, X[b], y[b], lr)
    d = alpha * (W - center)                         # a last pull at the end
    center += d
    times[rank, 1] = time.perf_counter()


# ------------------------------------------------------------------------------------ drivers
@dataclass
class SGDRun:
    """The result of a (parallel) SGD run.

    ``W``: the learned weights ``(n_in + 1, k)`` (bias in the last row; the center for EASGD);
    ``wall_time``: seconds from starting the workers to the last one finishing (process
    start-up included); ``compute_time``: seconds from the first worker beginning its loop to
    the last one ending it (start-up excluded); ``updates``: mini-batch steps in total.
    """

    method: str
    workers: int
    W: np.ndarray
    wall_time: float
    compute_time: float
    updates: int

    def accuracy(self, X, y) -> float:
        return accuracy(self.W, X, y)


def _validate(X, y, n_classes, workers, epochs, lr, batch_size, who):
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"{who}: X must be (n, n_in) and y (n,), received {X.shape} and {y.shape}.")
    if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= n_classes)):
        raise ValueError(f"{who}: y must hold integer labels in [0, {n_classes - 1}].")
    for name, v in (("workers", workers), ("epochs", epochs), ("batch_size", batch_size)):
        if int(v) != v or v < 1:
            raise ValueError(f"{who}: {name} must be a positive integer, received {v!r}.")
    if workers > len(X):
        raise ValueError(f"{who}: {workers} workers need at least as many examples, received {len(X)}.")
    check_positive(lr, who, "lr")
    return X, y.astype(np.int64)


def _shards(n: int, workers: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of ``workers`` near-equal contiguous shards of ``n`` examples."""
    bounds = [n * i // workers for i in range(workers + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def serial_sgd(X, y, n_classes: int = 10, epochs: int = 1, lr: float = 0.1, batch_size: int = 1,
               rng=None) -> SGDRun:
    """The baseline: the same SGD loop as the workers run, in this process, over all of ``X``."""
    X, y = _validate(X, y, n_classes, 1, epochs, lr, batch_size, "serial_sgd")
    rng = make_rng(rng)
    W = np.zeros((X.shape[1] + 1, n_classes), dtype=np.float32)
    start = time.perf_counter()
    steps = 0
    for b in _epochs_of_batches(np.arange(len(X)), epochs, batch_size, rng):
        softmax_sgd_step(W, X[b], y[b], lr)
        steps += 1
    t = time.perf_counter() - start
    return SGDRun("serial", 1, W, t, t, steps)


def _parallel(method, worker, extra, X, y, n_classes, workers, epochs, lr, batch_size, rng,
              timeout, start_method) -> SGDRun:
    X, y = _validate(X, y, n_classes, workers, epochs, lr, batch_size, method)
    rng = make_rng(rng)
    W_sh = SharedArray(np.zeros((X.shape[1] + 1, n_classes), dtype=np.float32))
    order = rng.permutation(len(X))                  # shuffle once, then hand out contiguous shards
    X_sh, y_sh = SharedArray(X[order]), SharedArray(y[order])
    times = SharedArray(np.zeros((workers, 2)))
    shards = _shards(len(X), workers)
    seeds = rng.integers(0, 2**63, size=workers)
    args = [(W_sh, X_sh, y_sh, shard, epochs, lr, batch_size, int(seed), times, *extra)
            for shard, seed in zip(shards, seeds)]
    wall = run_workers(worker, args, timeout=timeout, start_method=start_method)
    t = times.array
    updates = sum(epochs * -(-(stop - start) // batch_size) for start, stop in shards)
    return SGDRun(method, workers, W_sh.array.copy(), wall, float(t[:, 1].max() - t[:, 0].min()), updates)


def hogwild(X, y, n_classes: int = 10, workers: int = 2, epochs: int = 1, lr: float = 0.1,
            batch_size: int = 1, rng=None, timeout: float = 120.0, start_method: str | None = None) -> SGDRun:
    """Hogwild: ``workers`` processes run SGD on disjoint shards of ``(X, y)`` and write into one
    shared ``W`` without locks. The total number of updates equals ``serial_sgd``'s with the
    same ``epochs`` and ``batch_size``, so the speed-up is ``serial.wall_time / run.wall_time``.
    """
    return _parallel("hogwild", _hogwild_worker, (), X, y, n_classes, workers, epochs, lr,
                     batch_size, rng, timeout, start_method)


def easgd(X, y, n_classes: int = 10, workers: int = 2, epochs: int = 1, lr: float = 0.1,
          batch_size: int = 1, alpha: float | None = None, tau: int = 10, rng=None,
          timeout: float = 120.0, start_method: str | None = None) -> SGDRun:
    """Asynchronous elastic averaging SGD: each worker trains a local copy on its shard and every
    ``tau`` steps exchanges ``d = α (Wᵢ − W̃)`` with the shared center ``W̃`` (``Wᵢ −= d``,
    ``W̃ += d``). ``alpha`` defaults to ``0.9 / workers``. Returns the center.
    """
    alpha = 0.9 / workers if alpha is None else alpha
    if not 0 < alpha < 1:
        raise ValueError(f"easgd: alpha must lie in (0, 1), received {alpha!r}.")
    if int(tau) != tau or tau < 1:
        raise ValueError(f"easgd: tau must be a positive integer, received {tau!r}.")
    return _parallel("easgd", _easgd_worker, (float(alpha), int(tau)), X, y, n_classes, workers,
                     epochs, lr, batch_size, rng, timeout, start_method)
