"""The speed-ups of a training step give the same numbers as the plain formulas.

* ``optim.blas``: fused ``axpy``/``axpby`` through NumPy's own OpenBLAS, and its NumPy fallback;
* ``Parameter``: the lazy ``zero_grad`` and the gradients written straight from a GEMM;
* ``ElementwiseOptimizer``: the cached plan of kernel calls, rebuilt when arrays change.
"""

import numpy as np
import pytest

from coursepkg.nn import Conv2D, Dense, Parameter
from coursepkg.optim import SGD, Adam, blas
from coursepkg.optim.elementwise import num_threads, set_num_threads

N = 2 * blas.MIN_SIZE + 123  # long enough for the BLAS path, even every other element


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    return {dt: (rng.standard_normal(N).astype(dt), rng.standard_normal(N).astype(dt))
            for dt in (np.float32, np.float64)}


def test_numpy_wheels_blas_is_found_on_linux():
    import sys

    if sys.platform.startswith("linux"):
        assert blas.available(), "NumPy's bundled OpenBLAS was not found: SGD falls back to two passes"


@pytest.mark.parametrize("use", [True, False])
def test_axpy_and_axpby_follow_their_equations(vectors, use):
    before = blas.available()
    blas.use_blas(use)
    try:
        for dt, (x, y0) in vectors.items():
            rtol = 1e-6 if dt == np.float32 else 1e-14
            y = y0.copy()
            blas.axpy(-0.25, x, y)
            np.testing.assert_allclose(y, y0 - 0.25 * x, rtol=rtol, atol=rtol)
            y = y0.copy()
            blas.axpby(0.5, x, 0.9, y, scratch=np.empty_like(y))
            np.testing.assert_allclose(y, 0.5 * x + 0.9 * y0, rtol=rtol, atol=rtol)
            assert y.dtype == dt
    finally:
        blas.use_blas(before)


def test_strided_mixed_and_short_vectors_take_the_numpy_path(vectors):
    x, y0 = vectors[np.float32]
    y = y0.copy()
    blas.axpy(2.0, x[::2], y[::2])  # strided views: no BLAS call with a wrong stride
    np.testing.assert_allclose(y[::2], y0[::2] + 2 * x[::2], rtol=1e-6)
    np.testing.assert_array_equal(y[1::2], y0[1::2])
    y = y0.copy()
    blas.axpy(2.0, x.astype(np.float64), y)  # mixed dtypes
    np.testing.assert_allclose(y, y0 + 2 * x, rtol=1e-6)
    short = np.ones(5, np.float32)
    blas.axpy(1.0, short, short)
    np.testing.assert_array_equal(short, 2)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}])
def test_sgd_steps_agree_with_and_without_blas(kwargs):
    rng = np.random.default_rng(1)
    start = rng.standard_normal((N // 100 + 1, 100))
    grads = [rng.standard_normal(start.shape) for _ in range(4)]
    results, before = [], blas.available()
    try:
        for use in (True, False):
            blas.use_blas(use)
            p = Parameter(start)  # float64
            opt = SGD([p], lr=0.1, **kwargs)
            for g in grads:
                p.grad[...] = g
                opt.step()
            results.append(p.data.copy())
    finally:
        blas.use_blas(before)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)
    if not kwargs:  # plain SGD: θ₄ = θ₀ − η Σ gₜ
        np.testing.assert_allclose(results[0], start - 0.1 * sum(grads), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ lazy zero_grad
def test_zero_grad_is_lazy_but_reads_as_zeros():
    p = Parameter(np.ones((3, 2)))
    p.grad[...] = 5.0
    p.zero_grad()
    assert p._grad_is_zero
    np.testing.assert_array_equal(p.grad, 0)  # reading fills it
    assert not p._grad_is_zero


def test_first_gradient_is_written_then_accumulated():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    p = Parameter(np.zeros((4, 5)))
    p.grad[...] = 7.0  # stale values that zero_grad must hide
    p.zero_grad()
    p.add_grad_matmul(a, b)
    np.testing.assert_allclose(p.grad, a @ b)
    p.add_grad_matmul(a, b)
    np.testing.assert_allclose(p.grad, 2 * a @ b)
    q = Parameter(np.zeros(5))
    q.zero_grad()
    q.add_grad_sum(b, axis=0)
    q.add_grad_sum(b, axis=0)
    np.testing.assert_allclose(q.grad, 2 * b.sum(axis=0))


def test_a_non_contiguous_gradient_is_still_accumulated_correctly():
    p = Parameter(np.zeros((5, 4)))
    p.grad = np.zeros((4, 5)).T  # an F-ordered array someone assigned
    p.zero_grad()
    a, b = np.ones((5, 2)), np.ones((2, 4))
    p.add_grad_matmul(a, b)
    np.testing.assert_array_equal(p.grad, 2.0)


@pytest.mark.parametrize("make,x_shape", [
    (lambda: Dense(6, 4, rng=0), (3, 6)),
    (lambda: Conv2D(2, 3, 3, rng=0), (2, 2, 5, 5)),
])
def test_backward_after_zero_grad_equals_fresh_layer(make, x_shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    fresh, used = make(), make()
    g = rng.standard_normal(fresh(x).shape).astype(np.float32)
    used(x)
    used.backward(g * 3)  # leaves gradients behind
    used.zero_grad()
    for layer in (fresh, used):
        layer(x)
        layer.backward(g)
    for p, q in zip(fresh.parameters(), used.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


# ------------------------------------------------------------------ cached plans
def test_plan_follows_replaced_arrays_and_thread_count():
    p = Parameter(np.zeros(4))
    opt = SGD([p], lr=1.0)
    p.grad[...] = 1.0
    opt.step()
    np.testing.assert_array_equal(p.data, -1.0)
    p.data = np.full(4, 10.0)  # a new array (e.g. loaded weights) must be the one updated
    p.grad = np.full(4, 2.0)
    opt.step()
    np.testing.assert_array_equal(p.data, 8.0)
    before = num_threads()
    try:
        big = Parameter(np.zeros(1 << 20, np.float32))
        adam = Adam([big], lr=0.1)
        big.grad[...] = 1.0
        adam.step()
        set_num_threads(1 if before > 1 else 2)
        adam.step()
        np.testing.assert_allclose(big.data, -0.2, rtol=1e-5)
    finally:
        set_num_threads(before)


def test_parameters_and_optimizer_state_start_on_a_cache_line():
    from coursepkg.nn.module import aligned_empty

    for shape, dtype in (((3, 5), np.float32), ((7,), np.float64), ((), np.float32), ((0, 4), np.float32)):
        a = aligned_empty(shape, dtype)
        assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
        assert a.size == 0 or a.ctypes.data % 64 == 0  # an empty array has no first byte
    p = Parameter(np.arange(6).reshape(2, 3))  # integers become float32, values kept
    assert p.data.dtype == np.float32 and p.data.ctypes.data % 64 == 0 and p.grad.ctypes.data % 64 == 0
    np.testing.assert_array_equal(p.data, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(p.grad, 0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad[...] = 1.0
    opt.step()
    assert opt.state[0]["velocity"].ctypes.data % 64 == 0
