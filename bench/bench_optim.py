"""Time one optimizer step over a 1M-parameter model: coursepkg vs PyTorch CPU (foreach).

Run: ``python bench/bench_optim.py``. The model is the parameter list of a 784-1024-192-10 MLP
(weights and biases, 1,002,570 float32 numbers in 6 arrays) with fixed random gradients. For
each optimizer it prints milliseconds per ``step()`` for coursepkg and for ``torch.optim`` with
``foreach=True`` (skipped when torch is not installed), and the ratio coursepkg/torch.

Target: ratio ≤ 1.5 (coursepkg within 1.5x of PyTorch's foreach implementation). Each library
is timed in blocks of at least 0.15 s with a pause between libraries (see ``bench_mlp.py``).
``AdaptiveGains`` has no PyTorch counterpart and is timed alone.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from timing import MIN_BLOCK, PAUSE, describe_blas, import_torch

from coursepkg.nn import Parameter
from coursepkg.optim import SGD, Adadelta, Adagrad, Adam, AdaptiveGains, RMSprop, Rprop
from coursepkg.optim.elementwise import num_threads, set_num_threads
from coursepkg.timing import best_time

SHAPES = [(784, 1024), (1024,), (1024, 192), (192,), (192, 10), (10,)]

# name: (coursepkg factory, torch factory or None); the same hyper-parameters on both sides
OPTIMIZERS = {
    "SGD": (lambda p: SGD(p, lr=0.01), lambda t, p: t.optim.SGD(p, lr=0.01, foreach=True)),
    "SGD momentum": (lambda p: SGD(p, lr=0.01, momentum=0.9),
                     lambda t, p: t.optim.SGD(p, lr=0.01, momentum=0.9, foreach=True)),
    "SGD Nesterov": (lambda p: SGD(p, lr=0.01, momentum=0.9, nesterov=True),
                     lambda t, p: t.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True, foreach=True)),
    "Adagrad": (lambda p: Adagrad(p, lr=0.01), lambda t, p: t.optim.Adagrad(p, lr=0.01, foreach=True)),
    "Adadelta": (lambda p: Adadelta(p, gamma=0.9), lambda t, p: t.optim.Adadelta(p, rho=0.9, foreach=True)),
    "RMSprop": (lambda p: RMSprop(p, lr=0.001, gamma=0.9),
                lambda t, p: t.optim.RMSprop(p, lr=0.001, alpha=0.9, foreach=True)),
    "RMSprop momentum": (lambda p: RMSprop(p, lr=0.001, gamma=0.9, momentum=0.9),
                         lambda t, p: t.optim.RMSprop(p, lr=0.001, alpha=0.9, momentum=0.9, foreach=True)),
    "Adam": (lambda p: Adam(p, lr=0.001), lambda t, p: t.optim.Adam(p, lr=0.001, foreach=True)),
    "Rprop": (lambda p: Rprop(p, lr=0.01), lambda t, p: t.optim.Rprop(p, lr=0.01, foreach=True)),
    "AdaptiveGains": (lambda p: AdaptiveGains(p, lr=0.01), None),
}


def arrays(seed: int = 0):
    """Fixed float32 weights and gradients; small values so no run overflows or goes denormal."""
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(s, dtype=np.float32) * 0.1 for s in SHAPES]
    grads = [rng.standard_normal(s, dtype=np.float32) * 0.01 for s in SHAPES]
    return data, grads


def time_coursepkg(make, repeats: int) -> float:
    data, grads = arrays()
    params = [Parameter(d) for d in data]
    for p, g in zip(params, grads):
        p.grad[...] = g
    return best_time(make(params).step, repeats, MIN_BLOCK)


def time_torch(torch, make, repeats: int) -> float:
    data, grads = arrays()
    params = [torch.nn.Parameter(torch.from_numpy(d)) for d in data]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g)
    opt = make(torch, params)
    with torch.no_grad():
        return best_time(opt.step, repeats, MIN_BLOCK)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="names of optimizers to time (default: all)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for coursepkg's large updates (default: its own choice)")
    parser.add_argument("--torch-threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks per library; the best counts")
    args = parser.parse_args(argv)
    if args.threads is not None:
        set_num_threads(args.threads)
    torch = import_torch(args.torch_threads)
    print(describe_blas())
    n = sum(int(np.prod(s)) for s in SHAPES)
    print(f"one step over {n:,} float32 parameters in {len(SHAPES)} arrays; coursepkg {num_threads()} threads"
          + (f"; torch {torch.__version__}, {torch.get_num_threads()} threads" if torch else ""))
    header = f"{'optimizer':<18} {'coursepkg ms':>12} {'torch ms':>9} {'ratio':>6}  target ≤ 1.5"
    print(header)
    print("-" * len(header))
    for name, (ours_make, torch_make) in OPTIMIZERS.items():
        if args.only and name not in args.only:
            continue
        ours = time_coursepkg(ours_make, args.repeats) * 1e3
        time.sleep(PAUSE)
        theirs, ratio, verdict = float("nan"), float("nan"), ""
        if torch is not None and torch_make is not None:
            theirs = time_torch(torch, torch_make, args.repeats) * 1e3
            time.sleep(PAUSE)
            ratio = ours / theirs
            verdict = "ok" if ratio <= 1.5 else "SLOW"
        print(f"{name:<18} {ours:>12.3f} {theirs:>9.3f} {ratio:>6.2f}  {verdict}")


if __name__ == "__main__":
    main()
