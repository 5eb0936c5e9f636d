"""Data augmentation for images: expand the training set with label-preserving distortions.

A slightly rotated, shifted or skewed "7" is still a "7", and so is one written with a shakier
hand. Training on such variants teaches the network those invariances (Simard, Steinkraus &
Platt, 2003: on MNIST, affine distortions and then *elastic* distortions each cut the test
error of the same network further).

Every transformation here is a map from each output pixel position ``p = (row, col)`` to the
position ``s(p)`` in the input image that it copies, interpolated between pixels:

    affine:   the content is transformed by  p ↦ M (p − c) + c + t   (c = image centre),
              so the output samples the input at  s(p) = M⁻¹ (p − c − t) + c
    elastic:  s(p) = p + α · (G_σ * U)(p),   U a field of random displacements ~ U(−1, 1)
              smoothed by a Gaussian G_σ: nearby pixels move together, like a trembling pen

The whole batch is done in one call of ``scipy.ndimage.map_coordinates`` on the stack of images,
with one coordinate triple ``(image index, row, column)`` per output pixel: no Python loop over
images. Images may be ``(n, h, w)``, ``(n, c, h, w)`` (every channel gets its image's
transformation) or flat rows ``(n, h·w)`` with ``image_shape=(h, w)``; the output has the input's
shape and floating dtype. Pixels sampled from outside the image get ``cval`` (0 = background).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .errors import ShapeError, as_float_array, check_positive
from .init import make_rng


def _as_stack(X, image_shape, who):
    """Return ``(stack (m, h, w), channels, original shape, dtype)`` for the accepted layouts."""
    X = as_float_array(X, who)
    shape = X.shape
    if X.ndim == 2:
        if image_shape is None or int(np.prod(image_shape)) != shape[1]:
            raise ShapeError(f"{who}: flat images of shape {shape} need image_shape=(h, w) with h·w = {shape[1]}, "
                             f"received image_shape={image_shape}. For MNIST pass image_shape=(28, 28).")
        return X.reshape(shape[0], *image_shape), 1, shape
    if X.ndim == 3:
        return X, 1, shape
    if X.ndim == 4:
        return X.reshape(-1, shape[2], shape[3]), shape[1], shape
    raise ShapeError(f"{who}: expected images (n, h, w), (n, c, h, w) or flat (n, h·w) with image_shape, "
                     f"received shape {shape}.")


def transform_images(X, matrices=None, offsets=None, displacements=None, image_shape=None, order: int = 1,
                     cval: float = 0.0) -> np.ndarray:
    """Apply one affine map (and optionally a displacement field) per image, for a whole batch.

    Parameters
    ----------
    X : images (see the module docstring for the layouts).
    matrices : ``(n, 2, 2)`` matrices ``M`` acting on ``(row, col)`` vectors about the image centre
        (identity if None). Rotating the content counter-clockwise (as ``imshow`` displays it) by
        θ is ``M = [[cos θ, −sin θ], [sin θ, cos θ]]``.
    offsets : ``(n, 2)`` translations ``t = (down, right)`` in pixels of the content (0 if None).
    displacements : ``(n, 2, h, w)`` extra offsets added to the sampling positions (elastic fields).
    order : spline order of the interpolation (1 = bilinear, the default; 0 = nearest pixel).
    cval : value of pixels sampled from outside the image.

    The output pixel ``p`` is the input interpolated at ``s(p) = M⁻¹(p − c − t) + c + d(p)``.
    """
    who = "transform_images"
    stack, channels, shape = _as_stack(X, image_shape, who)
    n = shape[0]
    h, w = stack.shape[1:]
    centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
    M = np.broadcast_to(np.eye(2), (n, 2, 2)) if matrices is None else np.asarray(matrices, dtype=np.float64)
    t = np.zeros((n, 2)) if offsets is None else np.asarray(offsets, dtype=np.float64)
    if M.shape != (n, 2, 2) or t.shape != (n, 2):
        raise ShapeError(f"{who}: expected matrices of shape ({n}, 2, 2) and offsets ({n}, 2) for {n} images, "
                         f"received {M.shape} and {t.shape}.")
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    grid = np.stack([rows, cols]) - centre[:, None, None]  # (2, h, w), relative to the centre
    Minv = np.linalg.inv(M)
    # s = M⁻¹ (p − c − t) + c for every image at once: (n, 2, h, w)
    src = np.einsum("nij,njhw->nihw", Minv, grid[None] - t[:, :, None, None]) + centre[None, :, None, None]
    if displacements is not None:
        d = np.asarray(displacements, dtype=np.float64)
        if d.shape != (n, 2, h, w):
            raise ShapeError(f"{who}: expected displacements of shape ({n}, 2, {h}, {w}), received {d.shape}.")
        src = src + d
    if channels > 1:  # the same map for every channel of an image
        src = np.repeat(src, channels, axis=0)
    m = len(stack)
    index = np.broadcast_to(np.arange(m, dtype=np.float64)[:, None, None], (m, h, w))
    coords = np.stack([index, src[:, 0], src[:, 1]])  # (3, m, h, w)
    out = ndimage.map_coordinates(stack, coords, order=order, mode="constant", cval=cval,
                                  output=stack.dtype)
    return out.reshape(shape)


def random_affine_matrices(n: int, rotation: float = 0.0, skew: float = 0.0, scale: float = 0.0,
                           rng=None) -> np.ndarray:
    """``n`` random matrices ``M = R(θ) · K(s) · S(z)``: rotation, skew (shear) and zoom.

    θ ~ U(−rotation, rotation) in degrees; the horizontal skew ``col ← col + s·row`` has
    s ~ U(−skew, skew); the zoom ``z ~ U(1 − scale, 1 + scale)`` scales both axes.
    """
    rng = make_rng(rng)
    theta = np.deg2rad(rng.uniform(-rotation, rotation, n))
    s = rng.uniform(-skew, skew, n)
    z = rng.uniform(1 - scale, 1 + scale, n)
    cos, sin = np.cos(theta), np.sin(theta)
    R = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
    K = np.zeros((n, 2, 2))
    K[:, 0, 0] = K[:, 1, 1] = 1.0
    K[:, 1, 0] = s
    return R @ K * z[:, None, None]


def elastic_displacements(n: int, shape, alpha: float = 34.0, sigma: float = 4.0, rng=None) -> np.ndarray:
    """Random smooth displacement fields ``α · (G_σ * U)``, ``U ~ U(−1, 1)``, of shape ``(n, 2, h, w)``.

    Simard et al.'s elastic distortion: with small σ the field is nearly random (the image looks
    noisy), with large σ it is nearly a translation; σ ≈ 4 px with α ≈ 34 suits 28×28 digits.
    The smoothing runs over the whole batch at once (no smoothing across images or components).
    """
    check_positive(sigma, "elastic_displacements", "sigma")
    rng = make_rng(rng)
    U = rng.uniform(-1.0, 1.0, size=(n, 2, *shape))
    return alpha * ndimage.gaussian_filter(U, sigma=(0, 0, sigma, sigma), mode="constant", cval=0.0)


def augment(X, rng=None, rotation: float = 10.0, translation: float = 2.0, skew: float = 0.1,
            scale: float = 0.0, elastic_alpha: float = 0.0, elastic_sigma: float = 4.0, image_shape=None,
            order: int = 1, cval: float = 0.0) -> np.ndarray:
    """Randomly distort every image of a batch (one random transformation per image).

    rotation : maximum angle in degrees (θ ~ U(−rotation, rotation)).
    translation : maximum shift in pixels along each axis.
    skew : maximum shear factor; scale : maximum relative zoom (0 = none).
    elastic_alpha, elastic_sigma : strength α and smoothness σ of the elastic distortion
        (α = 0 turns it off; Simard et al. used α = 34, σ = 4 on MNIST).

    Returns images of the same shape and dtype; labels are unchanged, so pair the result with
    the original ``y`` (or use :func:`expand_dataset`).
    """
    rng = make_rng(rng)
    stack, _, shape = _as_stack(X, image_shape, "augment")
    n = shape[0]
    M = random_affine_matrices(n, rotation, skew, scale, rng)
    t = rng.uniform(-translation, translation, size=(n, 2))
    d = elastic_displacements(n, stack.shape[1:], elastic_alpha, elastic_sigma, rng) if elastic_alpha else None
    return transform_images(X, M, t, d, image_shape=image_shape, order=order, cval=cval)


def expand_dataset(X, y, copies: int = 1, rng=None, **augment_kwargs):
    """The training set plus ``copies`` augmented versions of it: ``(n·(1 + copies)`` examples).

    Returns ``(X_big, y_big)`` with the originals first, then each augmented copy in the same
    order; the labels are repeated unchanged. ``augment_kwargs`` go to :func:`augment`.
    """
    if len(X) != len(y):
        raise ShapeError(f"expand_dataset: X has {len(X)} examples but y has {len(y)}.")
    if int(copies) != copies or copies < 0:
        raise ValueError(f"expand_dataset: copies must be a non-negative integer, received {copies!r}.")
    rng = make_rng(rng)
    Xs = [np.asarray(X)] + [augment(X, rng=rng, **augment_kwargs) for _ in range(int(copies))]
    X_big = np.concatenate([x.astype(Xs[-1].dtype, copy=False) for x in Xs])
    return X_big, np.concatenate([np.asarray(y)] * (int(copies) + 1))
