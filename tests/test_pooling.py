"""Pooling layers and Flatten: values against naive loops, gradients, ties, k-max order, errors."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.gradcheck import check_module
from coursepkg.nn import AvgPool2D, Flatten, KMaxPool, L2Pool2D, MaxPool2D
from coursepkg.nn.conv_reference import k_max_pool_naive, max_pool2d_backward_naive, pool2d_naive

POOLS = [(MaxPool2D, "max"), (AvgPool2D, "avg"), (L2Pool2D, "l2")]
WINDOWS = [(2, None), (3, None), (2, 1), (3, 2)]  # (kernel_size, stride): disjoint and overlapping


def distinct_values(shape, seed=0):
    """Random inputs without ties (and without zeros), so every gradient is well defined."""
    rng = np.random.default_rng(seed)
    values = rng.permutation(np.prod(shape)).reshape(shape) + 1.0
    return values * rng.choice([-1, 1], size=shape) / np.prod(shape)


@pytest.mark.parametrize("cls, kind", POOLS)
@pytest.mark.parametrize("k, stride", WINDOWS)
@pytest.mark.parametrize("size", [(6, 6), (7, 5)])
def test_values_equal_naive_reference(cls, kind, k, stride, size):
    x = distinct_values((2, 3, *size))
    np.testing.assert_allclose(cls(k, stride)(x), pool2d_naive(x, k, stride, kind), atol=1e-14)


@pytest.mark.parametrize("cls, kind", POOLS)
@pytest.mark.parametrize("k, stride", WINDOWS)
@pytest.mark.parametrize("size", [(6, 6), (7, 5)])
def test_gradient_check(cls, kind, k, stride, size):
    report = check_module(cls(k, stride), distinct_values((2, 2, *size), seed=1), rng=0)
    assert report.max_error < 1e-6, report


def test_stride_defaults_to_kernel_and_incomplete_windows_are_dropped():
    pool = MaxPool2D(2)
    assert pool.stride == (2, 2) and repr(pool) == "MaxPool2D(kernel_size=2)"
    x = distinct_values((1, 1, 5, 5))
    assert pool(x).shape == (1, 1, 2, 2)
    grad = pool.backward(np.ones((1, 1, 2, 2)))
    assert not grad[0, 0, 4].any() and not grad[0, 0, :, 4].any()  # last row/column: no window
    assert repr(AvgPool2D(3, 1)) == "AvgPool2D(kernel_size=3, stride=1)"


@pytest.mark.parametrize("k, stride", [(2, None), (3, 1)])
def test_max_pool_ties_send_the_gradient_to_one_element(k, stride):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(2, 2, 6, 6)).astype(float)  # many equal values, as after a ReLU
    pool = MaxPool2D(k, stride)
    delta = rng.standard_normal(pool(x).shape)
    grad = pool.backward(delta)
    np.testing.assert_allclose(grad, max_pool2d_backward_naive(x, delta, k, stride), atol=1e-14)
    np.testing.assert_allclose(grad.sum(), delta.sum())  # nothing duplicated, nothing lost
    if stride is None:  # disjoint windows: exactly one pixel per window receives δ
        assert np.count_nonzero(grad) == delta.size


def test_max_pool_backward_equals_naive_reference_with_overlap():
    x = distinct_values((2, 2, 7, 7))
    pool = MaxPool2D(3, 2)
    delta = np.random.default_rng(1).standard_normal(pool(x).shape)
    np.testing.assert_allclose(pool.backward(delta), max_pool2d_backward_naive(x, delta, 3, 2))


def test_average_and_l2_pool_special_cases():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(AvgPool2D(2)(x)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    window = np.array([[3.0, 4.0], [0.0, 0.0]])[None, None]
    assert L2Pool2D(2)(window)[0, 0, 0, 0] == 5.0  # √(3² + 4²)
    zeros = L2Pool2D(2)
    zeros(np.zeros((1, 1, 2, 2)))
    assert not np.isnan(zeros.backward(np.ones((1, 1, 1, 1)))).any()  # 0 at a window of zeros


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D, L2Pool2D])
def test_dtype_is_preserved(cls):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    pool = cls(2)
    y = pool(x)
    assert y.dtype == np.float32 and pool.backward(np.ones_like(y)).dtype == np.float32
    assert cls(2)(x.astype(np.float64)).dtype == np.float64


def test_pool_errors():
    with pytest.raises(ShapeError, match=r"MaxPool2D\(kernel_size=2\).*reshape\(-1, 1, 28, 28\)"):
        MaxPool2D(2)(np.zeros((4, 784)))
    with pytest.raises(ShapeError, match="does not fit"):
        AvgPool2D(3)(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="kernel_size"):
        MaxPool2D(0)
    pool = MaxPool2D(2)
    with pytest.raises(RuntimeError, match="before forward"):
        pool.backward(np.zeros((1, 1, 1, 1)))
    pool(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ShapeError, match="output's shape"):
        pool.backward(np.zeros((1, 1, 4, 4)))


# ------------------------------------------------------------------------- k-max pooling
def test_k_max_pooling_keeps_the_original_order():
    x = np.array([[3.0, 1.0, 5.0, 2.0, 4.0], [0.5, 0.9, 0.1, 0.8, 0.7]])
    np.testing.assert_array_equal(KMaxPool(3)(x), [[3.0, 5.0, 4.0], [0.9, 0.8, 0.7]])
    np.testing.assert_array_equal(KMaxPool(1)(x)[:, 0], x.max(axis=1))  # k = 1: max pooling
    rows = distinct_values((6, 9))
    np.testing.assert_array_equal(KMaxPool(4)(rows), k_max_pool_naive(rows, 4))


@pytest.mark.parametrize("shape, axis", [((3, 7), -1), ((2, 3, 6, 5), 2), ((2, 6, 4), 1)])
def test_k_max_pooling_gradient(shape, axis):
    pool = KMaxPool(3, axis=axis)
    x = distinct_values(shape, seed=2)
    out_shape = list(shape)
    out_shape[axis] = 3
    assert pool(x).shape == tuple(out_shape)
    assert check_module(pool, x, rng=0).max_error < 1e-6


def test_k_max_pooling_errors():
    with pytest.raises(ShapeError, match="fewer than k"):
        KMaxPool(4)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="batch axis"):
        KMaxPool(2, axis=0)
    with pytest.raises(ValueError, match="positive int"):
        KMaxPool(0)


# ------------------------------------------------------------------------- Flatten
def test_flatten():
    x = distinct_values((2, 3, 4, 5))
    flat = Flatten()
    np.testing.assert_array_equal(flat(x), x.reshape(2, 60))
    assert flat.backward(np.ones((2, 60))).shape == x.shape
    assert check_module(flat, x).max_error < 1e-6
    with pytest.raises(ShapeError, match="batch axis"):
        flat(np.zeros(5))


# ------------------------------------------------------------------------- PyTorch agreement
def test_pools_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = distinct_values((2, 3, 7, 6))
    for pool, reference in [
        (MaxPool2D(2), lambda t: F.max_pool2d(t, 2)),
        (MaxPool2D(3, 2), lambda t: F.max_pool2d(t, 3, 2)),
        (AvgPool2D(2, 1), lambda t: F.avg_pool2d(t, 2, 1)),
        (L2Pool2D(2), lambda t: F.lp_pool2d(t, 2, 2)),
    ]:
        y = pool(x)
        delta = np.random.default_rng(0).standard_normal(y.shape)
        t = torch.tensor(x, requires_grad=True)
        out = reference(t)
        out.backward(torch.tensor(delta))
        np.testing.assert_allclose(y, out.detach().numpy(), rtol=1e-10, err_msg=repr(pool))
        np.testing.assert_allclose(pool.backward(delta), t.grad.numpy(), rtol=1e-8, atol=1e-12,
                                   err_msg=repr(pool))
