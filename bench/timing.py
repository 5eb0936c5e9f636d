"""Shared timing helpers of the benchmarks in ``bench/``.

Each library is timed in *blocks* of calls lasting at least 0.15 s, with a short pause between
libraries: alternating single calls of NumPy and PyTorch makes their thread pools fight over
the 2 cores. Libraries take turns for a few rounds and each keeps its best block, because other
processes on a shared machine only ever slow a block down.
"""

from __future__ import annotations

import time

from coursepkg.timing import block_time

PAUSE = 0.25  # seconds between blocks of different libraries
MIN_BLOCK = 0.15  # seconds: the shortest block of calls of one library


def compare(steps: dict, rounds: int = 3, min_block: float = MIN_BLOCK) -> dict:
    """Best block time of each ``{name: fn}`` over ``rounds`` rounds in which the libraries take
    turns (one block each, a pause in between); every ``fn`` is called once first to warm up."""
    for fn in steps.values():
        fn()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, fn in steps.items():
            best[name] = min(best[name], block_time(fn, min_block))
            time.sleep(PAUSE)
    return best


def training_step(module, x, grad_out):
    """A function running one forward and backward pass of ``module`` (gradients cleared first)."""

    def step():
        module.zero_grad()
        module.forward(x)
        module.backward(grad_out)

    return step


def import_torch(threads: int = 2):
    """PyTorch limited to ``threads`` threads, or ``None`` (with a note) when it is not installed."""
    try:
        import torch
    except ImportError:
        print("PyTorch not installed: timing coursepkg only (pip install torch to compare)")
        return None
    torch.set_num_threads(threads)
    return torch


def describe_blas() -> str:
    """Which BLAS NumPy uses, its kernel and thread count (``threadpoolctl`` when installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (pip install threadpoolctl to see it)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return "; ".join(f"BLAS: {p['internal_api']} {p.get('version', '')} kernel {p.get('architecture', '?')}, "
                     f"{p['num_threads']} threads" for p in pools) or "BLAS: none found"
