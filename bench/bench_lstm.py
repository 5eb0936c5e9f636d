"""Time an LSTM forward pass + backpropagation through time: coursepkg vs PyTorch CPU ``nn.LSTM``.

Run: ``python bench/bench_lstm.py [--seq 50 --batch 32 --n-in 65 --hidden 128]``. For float32 and
float64 it prints the milliseconds per forward+backward of each library and the ratio
coursepkg / PyTorch (< 1 means coursepkg is faster), when torch is installed.

Both compute the same things: all hidden states from zero initial states, then, from a fixed
∂C/∂OUT for every step, the gradients of every weight and bias *and* of the input sequence.
Targets (2 cores): ratio ≤ 2 in float32 (PyTorch runs a fused oneDNN kernel there) and ≤ 1 in
float64 (PyTorch falls back to autograd over single steps).

Each library is timed in blocks of at least 0.15 s with a pause between libraries, because
alternating single calls makes the NumPy and PyTorch thread pools fight on 2 cores; the best of
several blocks, alternating between the libraries, is reported (on a shared machine the minimum
is the least noisy figure).
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import compare, describe_blas, import_torch, training_step

from coursepkg.nn import LSTM


def coursepkg_step(x, grad, hidden, dtype):
    return training_step(LSTM(x.shape[2], hidden, rng=0, dtype=dtype), x, grad)


def torch_step(x, grad, hidden, dtype):
    import torch

    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    lstm = torch.nn.LSTM(x.shape[2], hidden, batch_first=True).to(tdtype)
    xt = torch.from_numpy(x).requires_grad_(True)
    gt = torch.from_numpy(grad)

    def run():
        lstm.zero_grad()
        xt.grad = None
        out, _ = lstm(xt)
        out.backward(gt)

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--n-in", type=int, default=65)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks per library (best is kept)")
    args = parser.parse_args(argv)
    have_torch = import_torch() is not None
    print(describe_blas())

    rng = np.random.default_rng(0)
    print(f"LSTM forward + BPTT: sequence {args.seq}, batch {args.batch}, input {args.n_in}, "
          f"hidden {args.hidden}")
    header = f"{'dtype':<8} {'coursepkg ms':>13} {'torch ms':>10} {'ours/torch':>11} {'target':>7}"
    print(header)
    print("-" * len(header))
    for dtype, target in ((np.float32, 2.0), (np.float64, 1.0)):
        x = rng.standard_normal((args.batch, args.seq, args.n_in)).astype(dtype)
        grad = rng.standard_normal((args.batch, args.seq, args.hidden)).astype(dtype)
        steps = {"coursepkg": coursepkg_step(x, grad, args.hidden, dtype)}
        if have_torch:
            steps["torch"] = torch_step(x, grad, args.hidden, dtype)
        best = compare(steps, rounds=args.repeats)
        ours, theirs = best["coursepkg"], best.get("torch", float("nan"))
        ratio = ours / theirs
        verdict = "" if not have_torch else ("ok" if ratio <= target else "MISSED")
        print(f"{np.dtype(dtype).name:<8} {1e3 * ours:>13.2f} {1e3 * theirs:>10.2f} {ratio:>11.2f} "
              f"{'≤ ' + str(target):>7} {verdict}")


if __name__ == "__main__":
    main()
