"""Dropout and batch normalization: gradient checks, modes, running statistics."""

import numpy as np
import pytest

from coursepkg.errors import ShapeError
from coursepkg.gradcheck import check_module
from coursepkg.nn import BatchNorm1d, BatchNorm2d, Dense, Dropout, ReLU, Sequential, recompute_batchnorm_statistics

rng0 = np.random.default_rng(0)


# ----------------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("mode", ["inverted", "scale_at_test"])
def test_dropout_gradcheck_with_fixed_mask(mode):
    layer = Dropout(p=0.4, mode=mode, rng=1)
    x = rng0.standard_normal((6, 5))
    layer.forward(x)
    layer.resample = False
    report = check_module(layer, x, rng=2)
    assert report.max_error < 1e-6, report
    # the fixed mask really drops something, so the check is not trivially the identity
    assert 0 < layer.mask.sum() < layer.mask.size


def test_dropout_gradcheck_fails_when_mask_is_resampled():
    layer = Dropout(p=0.5, rng=1)
    report = check_module(layer, rng0.standard_normal((6, 5)), rng=2)
    assert report.max_error > 1e-3


def test_dropout_training_values_inverted_and_scale_at_test():
    x = np.ones((2000, 50), dtype=np.float32)
    inv = Dropout(p=0.3, rng=0)
    y = inv(x)
    assert y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs(np.mean(y == 0) - 0.3) < 0.01  # p is the DROP probability
    assert abs(y.mean() - 1.0) < 0.01  # inverted dropout keeps the expectation
    orig = Dropout(p=0.3, mode="scale_at_test", rng=0)
    y2 = orig(x)
    assert set(np.unique(y2)) <= {0.0, 1.0}
    assert np.array_equal(y2 != 0, y != 0)  # same rng -> same mask


def test_dropout_eval_mode():
    x = rng0.standard_normal((4, 3))
    inv = Dropout(p=0.25).eval()
    np.testing.assert_array_equal(inv(x), x)
    np.testing.assert_array_equal(inv.backward(np.ones_like(x)), np.ones_like(x))
    orig = Dropout(p=0.25, mode="scale_at_test").eval()
    np.testing.assert_allclose(orig(x), 0.75 * x)
    np.testing.assert_allclose(orig.backward(np.ones_like(x)), 0.75 * np.ones_like(x))


def test_dropout_rejects_bad_arguments():
    with pytest.raises(ValueError, match="DROPPING"):
        Dropout(p=1.0)
    with pytest.raises(ValueError, match="mode"):
        Dropout(mode="keep")


# ----------------------------------------------------------------------------------- batch norm
def _bn_with_random_affine(bn):
    bn.gamma.data[...] = rng0.uniform(0.5, 2.0, bn.gamma.shape)
    bn.beta.data[...] = rng0.standard_normal(bn.beta.shape)
    return bn


def test_batchnorm1d_gradcheck_training_mode():
    bn = _bn_with_random_affine(BatchNorm1d(4))
    x = 3.0 + 2.0 * rng0.standard_normal((7, 4))
    report = check_module(bn, x, rng=3)
    assert report.max_error < 1e-6, report


def test_batchnorm2d_gradcheck_training_mode():
    bn = _bn_with_random_affine(BatchNorm2d(3))
    x = rng0.standard_normal((2, 3, 3, 4)) + np.arange(3)[None, :, None, None]
    report = check_module(bn, x, rng=4)
    assert report.max_error < 1e-6, report


def test_batchnorm_gradient_includes_the_paths_through_batch_statistics():
    """Treating μ_B and σ²_B as constants (the eval-mode backward) must fail the check."""
    bn = _bn_with_random_affine(BatchNorm1d(3)).double()
    x = rng0.standard_normal((5, 3))
    bn.forward(x)
    g = rng0.standard_normal((5, 3))
    full = bn.backward(g)
    centred, inv_std, *_ = bn._cache
    naive = g * bn.gamma.data * inv_std
    assert np.abs(full - naive).max() > 1e-2
    np.testing.assert_allclose(full.sum(axis=0), 0, atol=1e-10)  # shifting a whole column changes nothing


def test_batchnorm_training_output_is_normalized():
    bn = BatchNorm1d(5)
    x = 10 + 3 * rng0.standard_normal((64, 5)).astype(np.float32)
    y = bn(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-3)


@pytest.mark.parametrize("cls, shape", [(BatchNorm1d, (6, 4)), (BatchNorm2d, (3, 4, 2, 5))])
def test_batchnorm_eval_is_affine_map_with_stored_statistics(cls, shape):
    bn = _bn_with_random_affine(cls(4))
    for _ in range(3):
        bn(rng0.standard_normal(shape))
    bn.eval()
    x = rng0.standard_normal(shape).astype(np.float32)
    view = (1, 4) if len(shape) == 2 else (1, 4, 1, 1)
    mu, var = bn.running_mean.reshape(view), bn.running_var.reshape(view)
    gamma, beta = bn.gamma.data.reshape(view), bn.beta.data.reshape(view)
    expected = gamma * (x - mu) / np.sqrt(var + bn.eps) + beta
    np.testing.assert_allclose(bn(x), expected, rtol=1e-5, atol=1e-5)
    # eval mode on one example works and does not depend on the rest of the batch
    np.testing.assert_allclose(bn(x[:1]), bn(x)[:1], rtol=1e-6)
    assert check_module(bn, x, rng=5).max_error < 1e-6


def test_batchnorm_running_statistics_ema_and_average():
    batches = [rng0.normal(loc=i, scale=1 + i, size=(8, 3)) for i in range(4)]
    ema, avg = BatchNorm1d(3, momentum=0.2), BatchNorm1d(3, stats="average")
    for xb in batches:
        ema(xb)
        avg(xb)
    rm, rv = np.zeros(3), np.ones(3)
    for xb in batches:
        rm = 0.8 * rm + 0.2 * xb.mean(axis=0)
        rv = 0.8 * rv + 0.2 * xb.var(axis=0, ddof=1)
    np.testing.assert_allclose(ema.running_mean, rm)
    np.testing.assert_allclose(ema.running_var, rv)
    B = 8
    np.testing.assert_allclose(avg.running_mean, np.mean([xb.mean(0) for xb in batches], axis=0))
    np.testing.assert_allclose(avg.running_var, B / (B - 1) * np.mean([xb.var(0) for xb in batches], axis=0))
    assert avg.num_batches_tracked == 4


def test_batchnorm2d_matches_batchnorm1d_on_rearranged_channels():
    x = rng0.standard_normal((3, 2, 4, 5))
    bn2, bn1 = BatchNorm2d(2), BatchNorm1d(2)
    y2 = bn2(x)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 2)
    np.testing.assert_allclose(y2.transpose(0, 2, 3, 1).reshape(-1, 2), bn1(rows), atol=1e-6)
    np.testing.assert_allclose(bn2.running_var, bn1.running_var)


def test_recompute_batchnorm_statistics_uses_average_in_eval_dropout():
    model = Sequential(Dense(4, 6, rng=0), BatchNorm1d(6, stats="ema"), ReLU(), Dropout(0.5, rng=0),
                       Dense(6, 3, rng=1), BatchNorm1d(3))
    X = rng0.standard_normal((40, 4)).astype(np.float32)
    model.eval()
    assert recompute_batchnorm_statistics(model, X, batch_size=10) == 4
    assert not model.training and model[1].stats == "ema"
    z = X @ model[0].W.data + model[0].b.data
    expected = np.mean([z[i:i + 10].var(0, ddof=1) for i in range(0, 40, 10)], axis=0)
    np.testing.assert_allclose(model[1].running_var, expected, rtol=1e-5)
    np.testing.assert_allclose(model[1].running_mean, z.mean(0), rtol=1e-5, atol=1e-6)


def test_batchnorm_errors():
    with pytest.raises(ShapeError, match="BatchNorm1d"):
        BatchNorm1d(3)(np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="at least 2"):
        BatchNorm1d(3)(np.zeros((1, 3)))
    with pytest.raises(ShapeError, match="BatchNorm2d"):
        BatchNorm2d(3)(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="stats"):
        BatchNorm1d(3, stats="mean")
