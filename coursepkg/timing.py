"""Timing a piece of code: the best of a few runs.

Other programs on the machine can only ever *slow a run down*, so the fastest of a few runs is
the best estimate of the code's own time:

    t = min_r  T_r / c_r

where run ``r`` makes ``c_r`` calls in ``T_r`` seconds. A fast function is called repeatedly
until a run lasts at least ``min_block`` seconds, so that the clock's resolution and the cost
of one call to the clock do not matter. Notebooks use :func:`best_time` to back a claim such as
"im2col is 100 times faster than the loops"; the scripts in ``bench/`` use it too.
"""

from __future__ import annotations

import time

from .errors import check_positive, check_positive_int


def block_time(fn, min_block: float = 0.0) -> float:
    """Mean seconds per call of ``fn()`` over one run of calls lasting at least ``min_block`` s
    (at least one call)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_block:
            return elapsed / calls


def best_time(fn, repeats: int = 3, min_block: float = 0.0) -> float:
    """Seconds per call of ``fn()``: the smallest mean over ``repeats`` runs of :func:`block_time`.

    ``min_block = 0`` times single calls (right for anything slower than a millisecond);
    ``min_block = 0.1`` averages a fast function over as many calls as fit in 0.1 s.
    """
    repeats = check_positive_int(repeats, "best_time", "repeats")
    check_positive(min_block, "best_time", "min_block", allow_zero=True)
    return min(block_time(fn, min_block) for _ in range(repeats))
