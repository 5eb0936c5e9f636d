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

import numpy as np
from timing import compare, describe_blas, import_torch, training_step

from coursepkg.nn import Conv2D, MaxPool2D

CASES = {  # name: (input shape, layer arguments or None for max pooling)
    "L1 conv 1->20 5x5": ((64, 1, 28, 28), (1, 20, 5)),
    "L2 conv 20->50 5x5": ((64, 20, 12, 12), (20, 50, 5)),
    "max pool 2x2": ((64, 20, 24, 24), None),
}
TARGETS = {"L1 conv 1->20 5x5": 1.3, "L2 conv 20->50 5x5": 2.0, "max pool 2x2": 1.5}


def coursepkg_step(shape, conv_args, rng):
    x = rng.standard_normal(shape, dtype=np.float32)
    layer = MaxPool2D(2) if conv_args is None else Conv2D(*conv_args, rng=rng)
    return training_step(layer, x, rng.standard_normal(layer.forward(x).shape, dtype=np.float32))


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
    torch = import_torch()
    print(describe_blas())
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
