"""Sequence data for recurrent networks: truncated-BPTT batches of a long text and synthetic
tasks that need a long memory (the adding problem, copying and reversing).

All arrays are batch first, ``(batch, time)`` for token ids and ``(batch, time, features)`` for
real-valued inputs, as the recurrent layers of :mod:`coursepkg.nn` expect.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, check_positive_int
from ..init import make_rng


def bptt_batches(ids, batch_size: int, seq_len: int):
    """Yield ``(X, Y)`` chunks of an encoded text for truncated backpropagation through time.

    The text ``ids`` (1-D integer array, e.g. ``vocab.encode(text)``) is cut into ``batch_size``
    contiguous streams of ``L = (len(ids) − 1) // batch_size`` tokens; row ``b`` of every chunk
    comes from stream ``b``, and consecutive chunks continue each stream where the previous one
    stopped. So the state a stateful RNN reaches at the end of chunk ``k`` is exactly the state
    the next characters of row ``b`` need in chunk ``k + 1``: carry it, cut the gradient.

    ``X`` is ``(batch_size, seq_len)`` ids and ``Y`` the next character of each position
    (``Y[b, t] = X[b, t + 1]`` inside a chunk; the last one is the first of the next chunk). The
    last chunk is shorter when ``seq_len`` does not divide ``L``; the final
    ``len(ids) − 1 − batch_size·L`` tokens are dropped. Chunks are views: no copy.

    >>> X, Y = next(bptt_batches(np.arange(13), batch_size=3, seq_len=2))
    >>> X.tolist(), Y.tolist()
    ([[0, 1], [4, 5], [8, 9]], [[1, 2], [5, 6], [9, 10]])
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ShapeError(f"bptt_batches: expected a 1-D array of integer token ids, received shape "
                         f"{ids.shape}, {ids.dtype}. Encode the text first, e.g. vocab.encode(text).")
    batch_size = check_positive_int(batch_size, "bptt_batches", "batch_size")
    seq_len = check_positive_int(seq_len, "bptt_batches", "seq_len")
    L = (len(ids) - 1) // batch_size
    if L < 1:
        raise ValueError(f"bptt_batches: a text of {len(ids)} tokens is too short for {batch_size} streams; "
                         "use a smaller batch_size or a longer text.")
    X = ids[:batch_size * L].reshape(batch_size, L)
    Y = ids[1:batch_size * L + 1].reshape(batch_size, L)
    for start in range(0, L, seq_len):
        yield X[:, start:start + seq_len], Y[:, start:start + seq_len]


def num_bptt_batches(n_tokens: int, batch_size: int, seq_len: int) -> int:
    """How many chunks :func:`bptt_batches` yields for a text of ``n_tokens`` ids."""
    return -(-((n_tokens - 1) // batch_size) // seq_len)


def adding_problem(n: int, length: int, rng=None, dtype=np.float32):
    """The adding problem (Hochreiter & Schmidhuber): remember two numbers seen far apart.

    Each of the ``n`` inputs is a sequence of ``length`` steps with two features: a random value
    ``u_t ~ U(0, 1)`` and a marker ``m_t ∈ {0, 1}`` that is 1 at exactly two steps, one in each
    half of the sequence. The target is the sum of the two marked values, ``y = Σ_t m_t u_t``.
    Returns ``X`` ``(n, length, 2)`` and ``y`` ``(n, 1)``.

    Always predicting ``y = 1`` gives a mean squared error of ``Var(y) = 1/6`` (``MSELoss``,
    which halves the square, reports ``1/12``); beating it needs a memory of ``≈ length/2`` steps.
    """
    n = check_positive_int(n, "adding_problem", "n")
    length = check_positive_int(length, "adding_problem", "length")
    if length < 2:
        raise ValueError(f"adding_problem: length must be at least 2, received {length}.")
    rng = make_rng(rng)
    half = length // 2
    X = np.zeros((n, length, 2), dtype=dtype)
    X[:, :, 0] = rng.random((n, length))
    rows = np.arange(n)
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    X[rows, first, 1] = 1
    X[rows, second, 1] = 1
    y = (X[rows, first, 0] + X[rows, second, 0])[:, None]
    return X, y.astype(dtype)


def copy_task(n: int, length: int, n_symbols: int = 8, delay: int = 10, reverse: bool = False, rng=None):
    """Copy (or reverse) a sequence of symbols after a delay: a test of long memory for one RNN.

    Token ids: ``0`` blank, ``1`` the "go" marker, ``2 … n_symbols+1`` the symbols, so the
    vocabulary has ``n_symbols + 2`` tokens. The input shows ``length`` random symbols, then
    ``delay`` blanks, then "go" and blanks; the target is blank until "go" and then the symbols
    (in reverse order with ``reverse=True``), one per step:

        X:  s_1 … s_L  0 … 0  1   0 … 0          (length L + delay + 1 + (L − 1) = 2L + delay)
        Y:  0 … 0      0 … 0  s_1 … s_L

    Returns integer arrays ``X`` and ``Y`` of shape ``(n, 2·length + delay)``. A model that only
    outputs blanks after "go" guesses with accuracy ``1/n_symbols`` on the last ``length`` steps.
    """
    n = check_positive_int(n, "copy_task", "n")
    length = check_positive_int(length, "copy_task", "length")
    n_symbols = check_positive_int(n_symbols, "copy_task", "n_symbols")
    if int(delay) != delay or delay < 0:
        raise ValueError(f"copy_task: delay must be a non-negative integer, received {delay!r}.")
    rng = make_rng(rng)
    symbols = rng.integers(2, n_symbols + 2, (n, length))
    T = 2 * length + int(delay)
    X = np.zeros((n, T), dtype=np.int64)
    Y = np.zeros((n, T), dtype=np.int64)
    X[:, :length] = symbols
    X[:, length + delay] = 1
    Y[:, length + delay:] = symbols[:, ::-1] if reverse else symbols
    return X, Y


def sequence_pairs(n: int, length: int, n_symbols: int = 8, task: str = "reverse", rng=None):
    """Source/target pairs for an encoder-decoder (:class:`coursepkg.models.Seq2Seq`).

    The source is ``length`` random symbols ``1 … n_symbols``; the target is the same sequence
    (``task="copy"``), reversed (``"reverse"``) or sorted (``"sort"``). Token ``0`` is the start
    token, so both vocabularies have ``n_symbols + 1`` tokens. Returns ``(src, tgt_in, tgt_out)``,
    each ``(n, length)`` ids: ``tgt_out`` is the target, ``tgt_in`` the decoder's input, the target
    shifted right by one behind the start token (teacher forcing).
    """
    n = check_positive_int(n, "sequence_pairs", "n")
    length = check_positive_int(length, "sequence_pairs", "length")
    n_symbols = check_positive_int(n_symbols, "sequence_pairs", "n_symbols")
    tasks = {"copy": lambda s: s, "reverse": lambda s: s[:, ::-1], "sort": lambda s: np.sort(s, axis=1)}
    if task not in tasks:
        raise ValueError(f"sequence_pairs: task must be one of {sorted(tasks)}, received {task!r}.")
    src = make_rng(rng).integers(1, n_symbols + 1, (n, length))
    tgt_out = np.ascontiguousarray(tasks[task](src))
    tgt_in = np.zeros_like(tgt_out)
    tgt_in[:, 1:] = tgt_out[:, :-1]
    return src, tgt_in, tgt_out
