"""Time one training epoch of MNIST-shaped MLPs: coursepkg vs PyTorch CPU vs per-example backprop.

Run: ``python bench/bench_mlp.py [--examples N] [--rounds R] [--repeats S]``. Prints, for the
784-30-10 and 784-256-256-10 nets (ReLU, softmax cross-entropy, SGD) at mini-batch 128 and 10,
the median and the range over ``--repeats`` sweeps (the machine's speed drifts between sweeps) of

* seconds per epoch of 50,000 examples (timed on ``--examples`` and scaled),
* the ratio PyTorch / coursepkg (> 1 means coursepkg is faster) when torch is installed,
* the achieved GFLOP/s against a large float32 GEMM (2048³) that takes turns with the libraries
  in the same timing rounds,
* the speed-up of batched backprop over a loop over the examples of each mini-batch,
* the time of the matrix products alone of one training step (forward, ∂C/∂W, ∂C/∂x) in
  NumPy's BLAS and in PyTorch's: the floor under each library's step, which shows how much of
  the gap is the BLAS (OpenBLAS in NumPy's wheels, MKL in PyTorch's) rather than the rest.

Targets (float32, 2 cores): ratio ≥ 1 at batch 128 and ≥ 1.4 at batch 10; ≥ 45% of the GEMM
figure for 784-256-256-10 at batch 128; ≥ 10x over per-example backprop at batch 128.
Each library is timed in blocks of at least 0.15 s with a pause between libraries, because
alternating single calls makes the NumPy and PyTorch thread pools fight on 2 cores.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import MIN_BLOCK, compare, describe_blas, import_torch

from coursepkg.nn import CrossEntropyLoss, Dense, ReLU, Sequential
from coursepkg.nn.module import first_layer
from coursepkg.optim import SGD
from coursepkg.timing import best_time
from coursepkg.train import Trainer

EPOCH = 50_000
GEMM_N = 2048
NETS = ((784, 30, 10), (784, 256, 256, 10))
BATCHES = (128, 10)


def gemm_product(n: int = GEMM_N):
    """A function computing one float32 ``n × n`` matrix product (``2 n³`` FLOP)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return lambda: a @ b


def useful_flops(sizes, n: int) -> float:
    """Forward 2·Σ n_in·n_out, backward 4·Σ (dW and dX) minus dX of the first layer, per example."""
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return n * (6 * macs - 2 * sizes[0] * sizes[1])


def step_gemms(sizes, batch, torch=None):
    """One function running the matrix products of a training step: per layer ``x W``,
    ``xᵀ δ`` and (above the first layer) ``δ Wᵀ``; in PyTorch when ``torch`` is given."""
    rng = np.random.default_rng(0)
    work = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        x, W, d = (rng.random(s, dtype=np.float32) for s in ((batch, a), (a, b), (batch, b)))
        if torch is not None:
            x, W, d = (torch.from_numpy(v) for v in (x, W, d))
        work.append((x, W, d, i > 0))

    def run():
        for x, W, d, input_grad in work:
            x @ W
            x.T @ d
            if input_grad:
                d @ W.T

    return run


def coursepkg_model(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(a, b, init="he", rng=i))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def coursepkg_epoch(sizes, X, y, batch):
    model = coursepkg_model(sizes)
    first_layer(model).needs_input_grad = False  # as fit does: the data needs no gradient
    trainer = Trainer(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.01), progress=False)

    def run():
        for i in range(0, len(X), batch):
            trainer.train_batch(X[i:i + batch], y[i:i + batch])

    return run


def per_example_epoch(sizes, X, y, batch):
    """The same SGD step, but backprop one example at a time and sum the gradients."""
    model = coursepkg_model(sizes)
    first_layer(model).needs_input_grad = False
    loss = CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=0.01)

    def run():
        for i in range(0, len(X), batch):
            model.zero_grad()
            for j in range(i, min(i + batch, len(X))):
                loss.forward(model.forward(X[j:j + 1]), y[j:j + 1])
                model.backward(loss.backward() / batch)
            opt.step()

    return best_time(run, repeats=1, min_block=MIN_BLOCK)


def torch_epoch(sizes, X, y, batch):
    import torch

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        for i in range(0, len(Xt), batch):
            opt.zero_grad()
            loss_fn(model(Xt[i:i + batch]), yt[i:i + batch]).backward()
            opt.step()

    return run


def time_nets(X, y, rounds: int, have_torch: bool) -> dict:
    """``{(sizes, batch): (coursepkg s, torch s, GEMM GFLOP/s)}`` per epoch of each net and batch.

    The GEMM takes turns with the two libraries in each net's rounds, and that net's % GEMM is
    against the best GEMM of the same rounds: on a shared machine whose speed drifts from one
    minute to the next, a GEMM timed once at the start would compare different machines.
    """
    scale, gemm, times = EPOCH / len(X), gemm_product(), {}
    for sizes in NETS:
        for batch in BATCHES:
            steps = {"coursepkg": coursepkg_epoch(sizes, X, y, batch), "gemm": gemm}
            if have_torch:
                steps["torch"] = torch_epoch(sizes, X, y, batch)
            best = compare(steps, rounds=rounds)
            times[sizes, batch] = (best["coursepkg"] * scale, best.get("torch", float("nan")) * scale,
                                   2 * GEMM_N**3 / best["gemm"] / 1e9)
    return times


def spread(values, fmt: str = "{:.2f}") -> str:
    """``median (low–high)`` of a few measurements, or the one value, each written with ``fmt``."""
    values = sorted(values)
    middle = fmt.format(np.median(values))
    return middle if len(values) == 1 else f"{middle} ({fmt.format(values[0])}–{fmt.format(values[-1])})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="examples timed per epoch (scaled to 50k)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds in which the libraries take turns")
    parser.add_argument("--repeats", type=int, default=3,
                        help="times the whole sweep is repeated; the table gives the median and the range")
    args = parser.parse_args(argv)
    have_torch = import_torch() is not None
    print(describe_blas())

    rng = np.random.default_rng(0)
    n = args.examples
    X = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    sweeps = [time_nets(X, y, args.rounds, have_torch) for _ in range(args.repeats)]
    print(f"% GEMM: against a float32 {GEMM_N}³ matrix product timed in the same rounds; "
          f"median (low–high) of {args.repeats} sweeps\n")
    header = f"{'net':<16} {'batch':>5} {'coursepkg s/epoch':>18} {'torch s/epoch':>14} " \
             f"{'torch/ours':>22} {'GFLOP/s':>8} {'% GEMM':>22} {'vs per-example':>15}"
    print(header)
    print("-" * len(header))
    floors = []
    for sizes in NETS:
        for batch in BATCHES:
            ours, theirs, gemm_rate = np.array([sweep[sizes, batch] for sweep in sweeps]).T
            flops = useful_flops(sizes, EPOCH) / 1e9
            speedup = ""
            if batch == 128:
                m = max(n // 10, 1280)
                loop = per_example_epoch(sizes, X[:m], y[:m], batch) * EPOCH / m
                speedup = f"{loop / np.median(ours):.1f}x"
            name = "-".join(map(str, sizes))
            print(f"{name:<16} {batch:>5} {np.median(ours):>18.3f} {np.median(theirs):>14.3f} "
                  f"{spread(theirs / ours) if have_torch else '-':>22} {flops / np.median(ours):>8.1f} "
                  f"{spread(100 * flops / ours / gemm_rate, '{:.1f}%'):>22} {speedup:>15}")
            floors.append((sizes, batch, np.median(ours), np.median(theirs)))
    if have_torch:
        import torch

        print("\nmatrix products alone, per epoch (the BLAS floor under each library's step):")
        print(f"{'net':<16} {'batch':>5} {'NumPy BLAS s':>13} {'torch BLAS s':>13} {'ratio':>6} "
              f"{'coursepkg: BLAS share':>22} {'torch: BLAS share':>18}")
        for sizes, batch, ours, theirs in floors:
            best = compare({"numpy": step_gemms(sizes, batch), "torch": step_gemms(sizes, batch, torch)})
            steps = EPOCH / batch
            np_s, t_s = best["numpy"] * steps, best["torch"] * steps
            print(f"{'-'.join(map(str, sizes)):<16} {batch:>5} {np_s:>13.3f} {t_s:>13.3f} {np_s / t_s:>6.2f} "
                  f"{100 * np_s / ours:>21.0f}% {100 * t_s / theirs:>17.0f}%")


if __name__ == "__main__":
    main()
