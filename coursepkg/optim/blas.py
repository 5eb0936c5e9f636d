"""Fused vector updates through the BLAS that NumPy already links: ``axpy`` and ``axpby``.

The plain SGD step ``θ ← θ − η g`` written in NumPy takes two passes over memory: one to
compute the temporary ``−η g``, one to add it to ``θ``. BLAS level 1 has the fused operation
(one pass, multi-threaded, the same thread pool NumPy's matrix products use):

    axpy:   y ← α x + y
    axpby:  y ← α x + β y        (an OpenBLAS extension)

NumPy's wheels ship OpenBLAS with 64-bit integer symbols (``scipy_cblas_saxpy64_`` in NumPy
2, ``cblas_saxpy64_`` in NumPy 1.x). We look for that library where the wheel puts it and call
it with ``ctypes`` (which releases the interpreter lock during the call). Every function also
works without it: where no such library is found (e.g. macOS's Accelerate build, or conda's
NumPy linked to a system BLAS), where the library fails a self-test when it is loaded, or after
``use_blas(False)``, the same update runs as NumPy expressions. The two
paths agree to rounding (the BLAS may fuse the multiply and the add).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

_I64 = ctypes.c_int64
_PTR = ctypes.c_void_p
_SUFFIXES = ("scipy_cblas_{}64_", "cblas_{}64_")  # 64-bit integer interfaces only


class _Kernels:
    """``axpy``/``axpby`` of one library for float32 (``s``) and float64 (``d``)."""

    def __init__(self, lib: ctypes.CDLL, pattern: str):
        self.axpy, self.axpby = {}, {}
        for dtype, prefix, c in ((np.dtype(np.float32), "s", ctypes.c_float),
                                 (np.dtype(np.float64), "d", ctypes.c_double)):
            fn = getattr(lib, pattern.format(prefix + "axpy"))
            fn.argtypes, fn.restype = [_I64, c, _PTR, _I64, _PTR, _I64], None
            self.axpy[dtype] = fn
            fn = getattr(lib, pattern.format(prefix + "axpby"), None)
            if fn is not None:
                fn.argtypes, fn.restype = [_I64, c, _PTR, _I64, c, _PTR, _I64], None
                self.axpby[dtype] = fn


def _library_paths():
    """Where NumPy's wheels keep their OpenBLAS (Linux and Windows: ``numpy.libs``; macOS:
    ``numpy/.dylibs``)."""
    root = Path(np.__file__).resolve().parent
    for folder in (root.parent / "numpy.libs", root / ".dylibs", root / ".libs"):
        if folder.is_dir():
            yield from sorted(p for p in folder.iterdir() if "openblas" in p.name.lower())


def _load() -> _Kernels | None:
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for pattern in _SUFFIXES:
            if hasattr(lib, pattern.format("saxpy")):
                kernels = _Kernels(lib, pattern)
                if _self_test(kernels):
                    return kernels
    return None


def _self_test(kernels: _Kernels) -> bool:
    """A wrong integer width or a broken library shows up as a wrong answer on small arrays."""
    x = np.arange(1, 6, dtype=np.float64)
    for dtype, fn in kernels.axpy.items():
        xs, y = x.astype(dtype), np.ones(5, dtype)
        fn(5, 2.0, xs.ctypes.data, 1, y.ctypes.data, 1)
        if not np.array_equal(y, 2 * xs + 1):
            return False
    for dtype, fn in kernels.axpby.items():
        xs, y = x.astype(dtype), np.ones(5, dtype)
        fn(5, 2.0, xs.ctypes.data, 1, 3.0, y.ctypes.data, 1)
        if not np.array_equal(y, 2 * xs + 3):
            kernels.axpby.clear()
            break
    return True


#: vectors shorter than this take the NumPy path: OpenBLAS hands them to its threads too, and
#: waking a sleeping thread costs more than a second pass over a vector that fits in cache
MIN_SIZE = 1 << 16

_kernels = _load()
_enabled = _kernels is not None


def available() -> bool:
    """Whether the fused BLAS updates are in use (False: the NumPy fallback runs)."""
    return _enabled


def use_blas(flag: bool) -> None:
    """Turn the BLAS path on (where a library was found) or off (NumPy fallback), e.g. to compare them."""
    global _enabled
    _enabled = bool(flag) and _kernels is not None


def _fused(name: str, y: np.ndarray, x: np.ndarray):
    """The BLAS function ``name`` for ``y``'s dtype, or ``None`` where the NumPy path must run:
    BLAS off or missing, a short vector, or arrays that are not contiguous vectors of one dtype."""
    if not _enabled or y.size < MIN_SIZE:
        return None
    fn = getattr(_kernels, name).get(y.dtype)
    if (fn is None or x.dtype != y.dtype or x.shape != y.shape or not y.flags.writeable
            or not (x.flags.c_contiguous and y.flags.c_contiguous)):
        return None
    return fn


def axpy(alpha: float, x: np.ndarray, y: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """``y ← α x + y`` in place (one pass over memory with the BLAS).

    ``scratch``, an array like ``y``, spares the NumPy fallback an allocation.
    """
    fn = _fused("axpy", y, x)
    if fn is not None:
        fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
        return
    y += np.multiply(x, alpha, out=scratch) if scratch is not None else x * y.dtype.type(alpha)


def axpby(alpha: float, x: np.ndarray, beta: float, y: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """``y ← α x + β y`` in place (one pass over memory with OpenBLAS, two or three without)."""
    fn = _fused("axpby", y, x)
    if fn is not None:
        fn(y.size, alpha, x.ctypes.data, 1, beta, y.ctypes.data, 1)
        return
    y *= beta
    axpy(alpha, x, y, scratch)
