"""Parallel SGD: the SGD step, Hogwild and EASGD learn, and workers never outlive a call."""

import multiprocessing as mp
import time

import numpy as np
import pytest

from coursepkg.parallel import SharedArray, easgd, hogwild, run_workers, serial_sgd, softmax_sgd_step


def _sparse_problem(n=1200, d=60, k=3, seed=0):
    """Sparse non-negative features (about 15% non-zero), labels from a random linear model."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < 0.15) * rng.random((n, d))
    y = np.argmax(X @ rng.normal(size=(d, k)), axis=1)
    return X.astype(np.float32), y


def test_sgd_step_matches_dense_gradient_and_is_sparse():
    rng = np.random.default_rng(1)
    X, y = _sparse_problem(n=8, d=12)
    X[:, 3] = 0  # an input that is zero in the whole batch: its row must not be written
    W = rng.normal(size=(13, 3)).astype(np.float32)
    W0 = W.astype(np.float64)
    z = X @ W0[:-1] + W0[-1]
    a = np.exp(z - z.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    a[np.arange(8), y] -= 1
    want = W0 - 0.5 * np.vstack([X.T @ a, a.sum(0)]) / 8
    before = W[3].copy()
    softmax_sgd_step(W, X, y, 0.5)
    np.testing.assert_allclose(W, want, rtol=1e-5, atol=1e-6)
    assert np.array_equal(W[3], before)


def test_shared_array_is_shared_with_workers():
    arr = SharedArray(np.zeros((2, 3), dtype=np.float32))
    run_workers(_fill, [(arr,), (arr,)], timeout=30)
    assert np.array_equal(arr.array, [[1, 1, 1], [2, 2, 2]])


@pytest.mark.parametrize("method", [hogwild, easgd])
def test_parallel_sgd_learns_like_serial(method):
    X, y = _sparse_problem()
    serial = serial_sgd(X, y, n_classes=3, epochs=3, lr=0.5, batch_size=4, rng=0)
    run = method(X, y, n_classes=3, workers=2, epochs=3, lr=0.5, batch_size=4, rng=0, timeout=30)
    assert run.workers == 2 and run.updates == serial.updates == 3 * 300
    assert serial.accuracy(X, y) > 0.85
    assert run.accuracy(X, y) > 0.85  # chance is 1/3; EASGD's center trails the workers a little
    assert 0 < run.compute_time <= run.wall_time
    assert not mp.active_children()


def test_bad_arguments_are_refused():
    X, y = _sparse_problem(n=20)
    with pytest.raises(ValueError, match="labels"):
        hogwild(X, y + 5, n_classes=3)
    with pytest.raises(ValueError, match="alpha"):
        easgd(X, y, n_classes=3, alpha=1.5)
    with pytest.raises(ValueError, match="workers"):
        hogwild(X, y, n_classes=3, workers=0)


def test_a_failing_worker_stops_the_others():
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run_workers(_crash_or_sleep, [(True,), (False,)], timeout=30)
    assert time.perf_counter() - start < 10  # did not wait for the sleeper
    assert not mp.active_children()


def test_timeout_terminates_every_worker():
    with pytest.raises(TimeoutError, match="terminated"):
        run_workers(_crash_or_sleep, [(False,), (False,)], timeout=0.5)
    assert not mp.active_children()


# Worker targets must be module-level functions.
def _fill(rank, arr):
    arr.array[rank] = rank + 1


def _crash_or_sleep(rank, crash):
    if crash:
        time.sleep(0.2)
        1 / 0
    time.sleep(60)
