"""Error types and input validation shared by every part of ``coursepkg``.

Every check raises an error that says *who* complained (the layer or function), *what* was
expected, *what* was received, and *what to do* about it -- the three things a learner needs
to fix a mistake without reading the package's source.

``who`` may be a string or the complaining object itself (a layer): it is only formatted, with
``str()``, when an error is raised, so layers pass ``self`` and pay nothing on the hot path.
"""

from __future__ import annotations

import numpy as np


class CourseError(Exception):
    """Base class of the errors ``coursepkg`` raises on purpose."""


class ShapeError(CourseError, ValueError):
    """An array has the wrong number of dimensions or the wrong size along one of them."""


class DTypeError(CourseError, TypeError):
    """An array has a dtype the operation cannot use (e.g. strings, objects, complex)."""


class NonFiniteError(CourseError, FloatingPointError):
    """A value that must be finite is NaN or infinite."""


def describe(x) -> str:
    """A short description of an array for error messages: ``shape (64, 784), float32``."""
    x = np.asarray(x)
    return f"shape {x.shape}, {x.dtype}"


def as_float_array(x, who: object, dtype=None) -> np.ndarray:
    """Return ``x`` as a floating-point array (of ``dtype`` when given), or raise ``DTypeError``.

    Integers and booleans are converted; strings, objects and complex numbers are refused.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise DTypeError(
            f"{who}: expected a real-valued numeric array, received {describe(arr)}. "
            "Convert your data with np.asarray(x, dtype=np.float32)."
        )
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if arr.dtype.kind != "f":
        return arr.astype(np.float32)
    return arr


def check_shape(x: np.ndarray, who: object, expected: tuple, what: str = "input") -> None:
    """Check ``x.shape`` against ``expected``, where ``None`` entries match any size.

    ``expected`` is e.g. ``(None, 784)`` for a batch of 784-dimensional rows.
    """
    shape = np.shape(x)
    if len(shape) != len(expected) or any(
        e is not None and e != s for e, s in zip(expected, shape)
    ):
        want = "(" + ", ".join("batch" if i == 0 and e is None else ("any" if e is None else str(e))
                               for i, e in enumerate(expected)) + ")"
        if len(expected) == 1:
            want = want[:-1] + ",)"
        hint = ""
        if len(shape) == len(expected) - 1 and len(expected) == 2:
            hint = " A single example needs a batch axis: use x[None, :] or x.reshape(1, -1)."
        elif len(shape) == len(expected) + 2 and len(expected) == 2:
            hint = " Images must be flattened for a dense layer: use x.reshape(len(x), -1)."
        raise ShapeError(
            f"{who}: expected {what} of shape {want}, received shape {tuple(shape)}.{hint}"
        )


def check_finite(x, who: object, what: str = "input") -> None:
    """Raise ``NonFiniteError`` when ``x`` holds a NaN or an infinity."""
    if not np.isfinite(x).all():
        n_bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise NonFiniteError(
            f"{who}: {what} contains {n_bad} NaN/inf value(s). This usually means training "
            "diverged: lower the learning rate, check the data for NaNs, or clip gradients."
        )


def check_unit_interval(x: np.ndarray, who: object, what: str, hint: str = "") -> None:
    """Raise ``ValueError`` unless every value of ``x`` lies in [0, 1] (probabilities, pixel intensities)."""
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{who}: {what} must lie in [0, 1], received values in [{x.min():.4g}, {x.max():.4g}]."
                         + (f" {hint}" if hint else ""))


def check_positive_int(value, who: object, name: str) -> int:
    """``value`` as an ``int``, or ``ValueError`` unless it is a positive whole number (a count, a size)."""
    if int(value) != value or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, received {value!r}.")
    return int(value)


def check_positive(value, who: object, name: str, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless the hyper-parameter ``value`` is positive (or zero if allowed)."""
    ok = value >= 0 if allow_zero else value > 0
    if not ok or not np.isfinite(value):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{who}: {name} must be a {bound} number, received {value!r}.")


def check_probability(value, who: object, name: str) -> None:
    """Raise ``ValueError`` unless ``0 <= value < 1``."""
    if not (0.0 <= value < 1.0):
        raise ValueError(f"{who}: {name} must lie in [0, 1), received {value!r}.")
