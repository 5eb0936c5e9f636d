"""MNIST and Fashion-MNIST: 70,000 grey-scale 28×28 images in 10 classes each.

The files are in LeCun's IDX format (gzip-compressed), fetched with :func:`.download.fetch`.
Both loaders return the course's reference split: training images 0–49,999 for training,
50,000–59,999 for validation, and the 10,000 test images for testing.
"""

from __future__ import annotations

import gzip
from collections import namedtuple
from pathlib import Path

import numpy as np

from ..errors import CourseError
from .download import fetch_many

#: The ten Fashion-MNIST classes, indexed by label.
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: ``(train, val, test)``, each an ``(X, y)`` pair; unpacks like a plain tuple.
Splits = namedtuple("Splits", ["train", "val", "test"])

N_TRAIN = 50_000  # training images 0..49,999 train, 50,000..59,999 validate

# IDX type byte -> big-endian NumPy dtype
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# dataset folder -> read-only uint8 arrays (train images, train labels, test images, test labels)
_parsed: dict[str, tuple[np.ndarray, ...]] = {}


class IDXFormatError(CourseError, ValueError):
    """A file is not a valid IDX file, or not the one expected (wrong dimensions)."""


def parse_idx(raw: bytes, who: str = "parse_idx") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a read-only array.

    Layout: a magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
    sizes, then the values in C order (type ``0x08`` = unsigned byte for MNIST).
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise IDXFormatError(
            f"{who}: not an IDX file (magic number {raw[:4].hex()}, expected 0000<type><ndim> "
            f"with type in {[hex(t) for t in _IDX_DTYPES]}). Delete the file and load it again."
        )
    ndim = raw[3]
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4)) if ndim else ()
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise IDXFormatError(
            f"{who}: the header announces shape {shape} ({expected:,} bytes in all) but the file "
            f"has {len(raw):,} bytes: it is truncated or corrupt. Delete it and load it again."
        )
    arr = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return arr if dtype.byteorder in "|=" else arr.astype(dtype.newbyteorder("="))


def read_idx(path, expected_shape: tuple | None = None) -> np.ndarray:
    """Read a gzip-compressed IDX file; check its shape against ``expected_shape`` (None = any)."""
    path = Path(path)
    arr = parse_idx(gzip.decompress(path.read_bytes()), who=f"read_idx({path.name})")
    if expected_shape is not None and (
        len(arr.shape) != len(expected_shape)
        or any(e is not None and e != s for e, s in zip(expected_shape, arr.shape))
    ):
        raise IDXFormatError(
            f"read_idx({path}): expected an array of shape {expected_shape} (None = any), "
            f"received shape {arr.shape}. Is this the right file?"
        )
    arr.flags.writeable = False
    return arr


def _raw(folder: str, progress: bool) -> tuple[np.ndarray, ...]:
    """The four uint8 arrays of an MNIST-like data set, parsed once per process (read-only)."""
    if folder not in _parsed:
        names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
        paths = fetch_many([f"{folder}/{n}" for n in names], progress=progress)
        tr_x = read_idx(paths[0], (60_000, 28, 28))
        tr_y = read_idx(paths[1], (60_000,))
        te_x = read_idx(paths[2], (10_000, 28, 28))
        te_y = read_idx(paths[3], (10_000,))
        if tr_x.dtype != np.uint8 or tr_y.max() > 9 or te_y.max() > 9:
            raise IDXFormatError(f"{folder}: expected uint8 images and labels 0-9.")
        _parsed[folder] = (tr_x, tr_y, te_x, te_y)
    return _parsed[folder]


def _load(folder: str, flatten: bool, dtype, progress: bool) -> Splits:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"load_{folder.replace('-', '_')}: dtype must be a float type such as "
                        f"np.float32, received {dtype}.")
    tr_x, tr_y, te_x, te_y = _raw(folder, progress)
    shape = (-1, 784) if flatten else (-1, 1, 28, 28)

    def images(u8):  # a fresh float array in [0, 1]: editing it cannot touch the cache
        x = u8.reshape(shape).astype(dtype)
        x /= 255
        return x

    def labels(u8):
        return u8.astype(np.int64)

    X, y = images(tr_x), labels(tr_y)
    return Splits((X[:N_TRAIN], y[:N_TRAIN]), (X[N_TRAIN:], y[N_TRAIN:]), (images(te_x), labels(te_y)))


def load_mnist(flatten: bool = True, dtype=np.float32, progress: bool = True) -> Splits:
    """MNIST handwritten digits with the course's reference split.

    Returns ``((X_train, y_train), (X_val, y_val), (X_test, y_test))`` (a :data:`Splits`
    namedtuple, also usable as ``data.train``), with 50,000 / 10,000 / 10,000 examples.
    ``X`` holds pixel intensities ``x = pixel / 255`` in [0, 1] of shape ``(n, 784)``, or
    ``(n, 1, 28, 28)`` (batch, channels, height, width) with ``flatten=False``; ``y`` holds
    integer labels 0–9 (int64).

    The files are parsed once per process; every call returns *new* arrays, so changing them
    in place (e.g. ``X -= X.mean()``) never affects later calls. Train and validation arrays
    are non-overlapping views of one array. ``progress`` shows a bar while downloading.
    """
    return _load("mnist", flatten, dtype, progress)


def load_fashion_mnist(flatten: bool = True, dtype=np.float32, progress: bool = True) -> Splits:
    """Fashion-MNIST (Zalando's clothing images), a harder drop-in replacement for MNIST.

    Same shapes, split and guarantees as :func:`load_mnist`; label ``k`` names the class
    ``FASHION_MNIST_CLASSES[k]``.
    """
    return _load("fashion-mnist", flatten, dtype, progress)
