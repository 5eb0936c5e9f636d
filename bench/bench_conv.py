"""Time forward + backward of convolution and max pooling: coursepkg vs PyTorch CPU.

Run: ``python bench/bench_conv.py [--rounds R]``. Float32, batch 64, the layers of the classic
MNIST network of chapter 11:

* L1: ``Conv2D(1, 20, 5)`` on ``(64, 1, 28, 28)`` (valid) → ``(64, 20, 24, 24)``
* L2: ``Conv2D(20, 50, 5)`` on ``(64, 20, 12, 12)`` (valid) → ``(64, 50, 8, 8)``
* P:  ``MaxPool2D(2)`` on ``(64, 20, 24, 24)`` → ``(64, 20, 12, 12)``

Both libraries compute the same gradients (input, weights, bias). Prints milliseconds per
forward + backward and the ratio coursepkg / PyTorch (< 1 means coursepkg is faster) when torch
is installed. Targets on 2 cores: L1 ≤ 1.3, L2 ≤ 2, max pooling ≤ 1.5.

Each library is timed in blocks of at least 0.15 s with a pause between libraries, because
alternating single calls makes the NumPy and PyTorch thread pools fight on 2 cores. The
libraries take turns for ``--rounds`` rounds and the best block of each counts (other processes
on a shared machine only ever slow a block down).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from coursepkg.nn import Conv2D, MaxPool2D

PAUSE = 0.25
CASES = {  # name: (input shape, layer arguments or None for max pooling)
    "L1 conv 1->20 5x5": ((64, 1, 28, 28), (1, 20, 5)),
    "L2 conv 20->50 5x5": ((64, 20, 12, 12), (20, 50, 5)),
    "max pool 2x2": ((64, 20, 24, 24), None),
}
TARGETS = {"L1 conv 1->20 5x5": 1.3, "L2 conv 20->50 5x5": 2.0, "max pool 2x2": 1.5}


def block_time(fn, min_block: float = 0.15) -> float:
    """Mean time per call of ``fn`` over one block of calls lasting at least ``min_block`` s."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_block:
            return elapsed / calls


def compare(steps: dict, rounds: int) -> dict:
    """Best block time of each step over ``rounds`` rounds that take turns between the libraries.

    Taking turns (one block each, with a pause in between) spreads both libraries' blocks over
    the same stretch of time, so a busy spell of other processes on a shared machine does not
    favour one of them; the best block is the one least disturbed.
    """
    for fn in steps.values():
        fn()  # warm-up: allocations, thread pools, library dispatch
    best = dict.fromkeys(steps, np.inf)
    for _ in range(rounds):
        for name, fn in steps.items():
            best[name] = min(best[name], block_time(fn))
            time.sleep(PAUSE)
    return best


def coursepkg_step(shape, conv_args, rng):
    x = rng.standard_normal(shape, dtype=np.float32)
    layer = MaxPool2D(2) if conv_args is None else Conv2D(*conv_args, rng=rng)
    delta = rng.standard_normal(layer.forward(x).shape, dtype=np.float32)

    def step():
        layer.zero_grad()
        layer.forward(x)
        layer.backward(delta)

    return step


def torch_step(torch, shape, conv_args, rng):
    x = torch.from_numpy(rng.standard_normal(shape, dtype=np.float32)).requires_grad_()
    if conv_args is None:
        layer = torch.nn.MaxPool2d(2)
    else:
        layer = torch.nn.Conv2d(*conv_args)
    delta = torch.from_numpy(rng.standard_normal(tuple(layer(x).shape), dtype=np.float32))

    def step():
        layer.zero_grad()
        x.grad = None
        layer(x).backward(delta)

    return step


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed blocks per library and case")
    args = parser.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
        print("PyTorch not installed: timing coursepkg only.")
    rng = np.random.default_rng(0)
    ratios = {}
    print(f"{'case':<22}{'coursepkg ms':>14}{'torch ms':>10}{'ratio':>8}{'target':>8}")
    for name, (shape, conv_args) in CASES.items():
        steps = {"coursepkg": coursepkg_step(shape, conv_args, rng)}
        if torch is not None:
            steps["torch"] = torch_step(torch, shape, conv_args, rng)
        best = compare(steps, args.rounds)
        line = f"{name:<22}{best['coursepkg'] * 1e3:>14.3f}"
        if torch is not None:
            ratios[name] = best["coursepkg"] / best["torch"]
            line += f"{best['torch'] * 1e3:>10.3f}{ratios[name]:>8.2f}{TARGETS[name]:>8.1f}"
        print(line, flush=True)
    return ratios


if __name__ == "__main__":
    main()
