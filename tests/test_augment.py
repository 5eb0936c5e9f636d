"""Data augmentation: exact geometry on known cases, batch == per-image, shapes and labels kept."""

import numpy as np
import pytest
from scipy import ndimage

from coursepkg.augment import augment, elastic_displacements, expand_dataset, random_affine_matrices, transform_images
from coursepkg.errors import ShapeError

rng0 = np.random.default_rng(0)


def _rot(theta_deg):
    t = np.deg2rad(theta_deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def test_translation_moves_content_by_whole_pixels():
    X = rng0.random((3, 6, 7))
    out = transform_images(X, offsets=np.tile([1.0, 2.0], (3, 1)))
    np.testing.assert_allclose(out[:, 1:, 2:], X[:, :-1, :-2], atol=1e-12)
    assert np.all(out[:, 0, :] == 0) and np.all(out[:, :, :2] == 0)


def test_rotation_by_90_degrees_is_rot90():
    X = rng0.random((2, 8, 8))
    out = transform_images(X, matrices=np.stack([_rot(90), _rot(-90)]))
    np.testing.assert_allclose(out[0], np.rot90(X[0], 1), atol=1e-10)
    np.testing.assert_allclose(out[1], np.rot90(X[1], -1), atol=1e-10)


@pytest.mark.parametrize("order", [1, 3])
def test_batched_transform_equals_one_image_at_a_time(order):
    n = 4
    X = rng0.random((n, 10, 9))
    M = random_affine_matrices(n, rotation=20, skew=0.2, scale=0.1, rng=1)
    t = rng0.uniform(-2, 2, (n, 2))
    out = transform_images(X, M, t, order=order)
    centre = np.array([4.5, 4.0])
    for k in range(n):
        Minv = np.linalg.inv(M[k])
        ref = ndimage.affine_transform(X[k], Minv, offset=centre - Minv @ (centre + t[k]), order=order,
                                       mode="constant", cval=0.0)
        np.testing.assert_allclose(out[k], ref, atol=1e-8)


def test_channels_share_their_image_transform_and_flat_layout_works():
    X = rng0.random((3, 2, 5, 5)).astype(np.float32)
    X[:, 1] = X[:, 0]
    out = augment(X, rng=0, rotation=30, translation=1)
    assert out.shape == X.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    flat = X[:, 0].reshape(3, 25)
    out_flat = augment(flat, rng=0, rotation=30, translation=1, image_shape=(5, 5))
    assert out_flat.shape == (3, 25)
    np.testing.assert_allclose(out_flat.reshape(3, 5, 5), out[:, 0], atol=1e-6)


def test_elastic_displacements_are_smooth_and_scaled():
    d = elastic_displacements(5, (28, 28), alpha=34, sigma=4, rng=0)
    assert d.shape == (5, 2, 28, 28)
    # smoothing: neighbouring pixels move almost together, and fields differ between images
    step = np.abs(np.diff(d, axis=-1)).mean()
    assert step < 0.2 * np.abs(d).mean()
    assert np.abs(d[0] - d[1]).mean() > 0.1
    assert np.all(elastic_displacements(2, (8, 8), alpha=0, rng=0) == 0)


def test_augment_preserves_shape_dtype_labels_and_mass_roughly():
    X = np.zeros((20, 1, 28, 28), dtype=np.float32)
    X[:, :, 8:20, 12:16] = 1.0  # a bar in the middle: small distortions keep it inside
    y = np.arange(20) % 10
    Xb, yb = expand_dataset(X, y, copies=2, rng=0, rotation=10, translation=2, skew=0.1, elastic_alpha=34)
    assert Xb.shape == (60, 1, 28, 28) and Xb.dtype == np.float32
    np.testing.assert_array_equal(yb, np.tile(y, 3))
    np.testing.assert_array_equal(Xb[:20], X)
    assert not np.allclose(Xb[20:40], X)  # something changed
    assert not np.allclose(Xb[20:40], Xb[40:])  # the copies differ
    # elastic distortions stretch and squeeze locally, but preserve the ink on average
    mass = Xb[20:].sum(axis=(1, 2, 3)) / X[0].sum()
    assert 0.8 < mass.mean() < 1.2
    # rotations and skews have det M = 1: the ink is preserved image by image
    rigid = augment(X, rng=1, rotation=10, translation=2, skew=0.1).sum(axis=(1, 2, 3)) / X[0].sum()
    np.testing.assert_allclose(rigid, 1.0, atol=0.01)
    assert Xb.min() >= -1e-6 and Xb.max() <= 1 + 1e-6  # bilinear interpolation stays in range


def test_augment_is_reproducible_and_errors():
    X = rng0.random((4, 6, 6))
    np.testing.assert_array_equal(augment(X, rng=3), augment(X, rng=3))
    with pytest.raises(ShapeError, match="image_shape"):
        augment(rng0.random((4, 36)))
    with pytest.raises(ShapeError, match="matrices"):
        transform_images(X, matrices=np.eye(2)[None])
    with pytest.raises(ShapeError, match="y has"):
        expand_dataset(X, np.zeros(3))
