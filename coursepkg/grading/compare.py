"""Comparison helpers for exercise checkers: compare a learner's answer with the reference.

A checker calls these on *fresh random inputs* and lets the ``CheckFailed`` they raise carry a
specific hint to the learner. The hints describe *what* is wrong -- the shape, the axis, a
constant factor (``2×`` or ``½×``: a missing or extra factor in a derivative), a flipped sign,
a transposed matrix, a shift by one, NaNs, which entries are wrong -- and where (the input
value at the first wrong entry), without printing the expected values themselves.

    expect_close(sigmoid_prime(z), reference(z), what="sigmoid_prime(z)", inputs={"z": z})
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from ..gradcheck import numerical_gradient, relative_error

#: Default tolerances: loose enough for float32 answers, tight enough to catch real mistakes.
RTOL = 1e-4
ATOL = 1e-6


class CheckFailed(AssertionError):
    """A learner's answer is wrong; ``str(error)`` is the hint shown to the learner.

    ``partial`` (0 to 1) is the fraction of the exercise's points the grader still awards,
    for checkers that give partial credit (e.g. right forward pass, wrong backward pass).
    """

    def __init__(self, hint: str, partial: float = 0.0):
        if not 0.0 <= partial <= 1.0:
            raise ValueError(f"CheckFailed: partial must be between 0 and 1, received {partial}.")
        super().__init__(hint)
        self.hint = hint
        self.partial = float(partial)


def rng_for(learner_id, exercise_id: str, salt: str | None = None) -> np.random.Generator:
    """A ``numpy.random.Generator`` seeded from (salt, learner id, exercise id).

    The same learner always gets the same inputs for an exercise (reproducible grades), two
    learners get different ones, and without the instructor's secret ``salt`` (argument or
    ``$COURSEPKG_GRADER_SALT``) nobody can predict them. ``learner_id=None`` gives fresh
    entropy on every call (self-paced checks).
    """
    if learner_id is None:
        return np.random.default_rng()
    if salt is None:
        salt = os.environ.get("COURSEPKG_GRADER_SALT", "")
    digest = hashlib.sha256(f"{salt}\0{learner_id}\0{exercise_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def fail(hint: str, partial: float = 0.0):
    """Raise ``CheckFailed(hint)``."""
    raise CheckFailed(hint, partial)


def expect_true(condition, hint: str, partial: float = 0.0) -> None:
    """Raise ``CheckFailed(hint)`` unless ``condition`` is true."""
    if not condition:
        fail(hint, partial)


def matches(got, want, rtol: float = 1e-4, atol: float = 1e-7) -> bool:
    """Whether ``got`` has ``want``'s shape and values (within ``rtol``/``atol``)."""
    return np.shape(got) == np.shape(want) and bool(np.allclose(got, want, rtol=rtol, atol=atol))


def expect_no_known_mistake(got, want, mistakes, partial: float = 0.0, rtol: float = 1e-4,
                            atol: float = 1e-7) -> None:
    """Fail with the hint of the first known wrong answer that ``got`` equals (and ``want`` does not).

    ``mistakes`` holds ``(wrong_value, hint)`` pairs, or ``(wrong_value, hint, partial_credit)``
    triples that override ``partial``.
    """
    for value, hint, *credit in mistakes:
        if matches(got, value, rtol, atol) and not matches(want, value, rtol, atol):
            fail(hint, credit[0] if credit else partial)


def expect_parts(result, names: tuple, what: str = "your function"):
    """``result`` unpacked into ``len(names)`` values, failing with a hint unless it is a tuple or
    list of that length (``names`` are what the learner should return, e.g. ``("cost", "grad")``)."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        received = type(result).__name__ + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        fail(f"{what} should return {len(names)} values, e.g. `return {', '.join(names)}`; received {received}.")
    return result


def expect_scalar(value, what: str = "your result", hint: str = "") -> float:
    """``value`` as a float, failing with a hint (plus ``hint``) unless it is one number (a size-1
    array is accepted)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub" or arr.size != 1:
        fail(f"{what} should be a single number, received {type(value).__name__} of shape {arr.shape}."
             + (f" {hint}" if hint else ""))
    return float(arr.reshape(()))


def call_learner(fn, *args, fix: str = "", **kwargs):
    """The learner's ``fn(*args, **kwargs)``, with NumPy's warnings silenced (a result is judged by its
    values, overflow included), failing if ``fn`` changed one of its array arguments in place.

    ``fix`` is an example for the hint, e.g. ``"`h = h - g` makes a new array, `h -= g` does not"``.
    """
    arrays = [(f"argument {i + 1}", a) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    arrays += [(f"argument {k}", a) for k, a in kwargs.items() if isinstance(a, np.ndarray)]
    copies = [a.copy() for _, a in arrays]
    with np.errstate(all="ignore"):
        result = fn(*args, **kwargs)
    for (name, after), before in zip(arrays, copies):
        if not np.array_equal(before, after, equal_nan=True):
            fail(f"Your function changed its {name} in place; compute new arrays instead"
                 + (f" ({fix})." if fix else "."))
    return result


def _as_numeric(got, what: str) -> np.ndarray:
    if got is None:
        fail(f"{what} returned None: did you forget the `return` statement?")
    try:
        arr = np.asarray(got)
    except Exception:  # noqa: BLE001 - anything array-like that numpy cannot read is wrong
        fail(f"{what} should be a NumPy array of numbers; received a {type(got).__name__}.")
    if arr.dtype.kind not in "fiub":
        fail(f"{what} should be an array of numbers; received a {type(got).__name__} "
             f"with dtype {arr.dtype}.")
    return arr


def _shape_text(shape) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


AXIS_HINT = " Check the axis of any sum/mean/max (axis=0 runs over the batch, axis=1 over features)."


def _shape_hint(got_shape: tuple, want_shape: tuple, inputs: dict | None = None) -> str:
    """Why two shapes differ, in words (empty when there is nothing specific to say)."""
    if len(got_shape) == len(want_shape) >= 2 and tuple(got_shape) == tuple(want_shape)[::-1]:
        return (" It looks transposed: check the order of a matrix product (x @ W, not W @ x)"
                " or a missing/extra .T.")
    if len(got_shape) == len(want_shape) - 1:
        return " It is missing an axis: keep it with keepdims=True or x[:, None]."
    if len(got_shape) == len(want_shape) + 1:
        return " It has an extra axis: did you forget to sum or to squeeze one?"
    if int(np.prod(got_shape)) == int(np.prod(want_shape)):
        return " It has the right number of values arranged differently: check reshape/transpose."
    if len(got_shape) == len(want_shape):
        diff = [i for i, (g, w) in enumerate(zip(got_shape, want_shape)) if g != w]
        input_shapes = [np.shape(v) for v in (inputs or {}).values()]
        if any(got_shape[i] in s and want_shape[i] in s for i in diff for s in input_shapes):
            return AXIS_HINT
        if len(diff) == 1 and abs(got_shape[diff[0]] - want_shape[diff[0]]) == 1:
            return f" Axis {diff[0]} is off by one: check a range or a slice.{AXIS_HINT}"
        return AXIS_HINT
    return ""


def expect_shape(got, shape, what: str = "your result") -> np.ndarray:
    """Check ``np.shape(got)`` against ``shape`` (``None`` matches any size); return the array."""
    arr = _as_numeric(got, what)
    shape = tuple(shape)
    if arr.ndim != len(shape) or any(s is not None and s != g for s, g in zip(shape, arr.shape)):
        fail(f"{what} has shape {arr.shape}; expected shape {_shape_text(shape)}."
             + _shape_hint(arr.shape, tuple(g if s is None else s for s, g in zip(shape, arr.shape))
                           if arr.ndim == len(shape) else shape))
    return arr


def _index_text(index: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _where(index: tuple, shape: tuple, inputs: dict | None) -> str:
    """``at index [2, 1] (z[2, 1] = 0.37)``: the location and the matching input values."""
    if not index:
        return ""
    parts = []
    for name, value in (inputs or {}).items():
        arr = np.asarray(value)
        if arr.shape == shape and arr.dtype.kind in "fiub":
            parts.append(f"{name}{_index_text(index)} = {arr[index]:.4g}")
    return f" at index {_index_text(index)}" + (f" ({', '.join(parts)})" if parts else "")


_NICE_FACTORS = (2.0, 0.5, 3.0, 1 / 3, 4.0, 0.25, 10.0, 0.1)


def _factor_text(c: float, sizes: set) -> str:
    if np.isclose(c, -1.0, rtol=1e-3):
        return "Your values have the wrong sign (off by a factor of −1)."
    for size in sorted(sizes):
        if size > 4 and (np.isclose(c, size, rtol=1e-3) or np.isclose(c, 1 / size, rtol=1e-3)):
            return (f"Your values are {c:.4g} times the expected ones: off by a factor of {size}, "
                    "an array size -- a sum instead of a mean over the batch (or the reverse)?")
    for f in _NICE_FACTORS:
        if np.isclose(abs(c), f, rtol=1e-3):
            sign = " and have the wrong sign" if c < 0 else ""
            return (f"Your values are {abs(c):.3g} times the expected ones{sign} "
                    "(off by a constant factor: check the constants in your formula).")
    return f"Your values are all {c:.3g} times the expected ones (off by a constant factor)."


def diagnose(got: np.ndarray, want: np.ndarray, rtol: float = RTOL, atol: float = ATOL,
             inputs: dict | None = None) -> str:
    """A sentence describing how ``got`` differs from ``want`` (same shapes), or ``""``."""
    def close(a, b):
        return np.allclose(a, b, rtol=rtol, atol=atol)

    w_norm = float(np.vdot(want, want))
    if w_norm > 0:
        c = float(np.vdot(got, want)) / w_norm
        if not np.isclose(c, 1.0, rtol=1e-3) and abs(c) > 1e-9 and close(got, c * want):
            sizes = set(want.shape)
            for value in (inputs or {}).values():
                sizes.update(np.shape(value))
            return _factor_text(c, sizes)
    diff = got - want
    if diff.size > 1 and close(diff, diff.flat[0]) and abs(diff.flat[0]) > atol:
        return f"Your values are all off by the same constant ({diff.flat[0]:+.3g})."
    if got.ndim == 2 and got.shape[0] == got.shape[1] > 1 and close(got.T, want):
        return "Your result looks transposed: check the order of a matrix product or a .T."
    for axis, n in enumerate(got.shape):
        if n >= 3:
            head, tail = np.take(got, range(n - 1), axis), np.take(got, range(1, n), axis)
            if close(head, np.take(want, range(1, n), axis)) or close(tail, np.take(want, range(n - 1), axis)):
                return f"Your values are shifted by one position along axis {axis}: an off-by-one index?"
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    for name, value in (inputs or {}).items():
        arr = np.asarray(value)
        if arr.shape == got.shape and arr.dtype.kind in "fiu" and bad.any():
            for cond, mask in (("< 0", arr < 0), ("> 0", arr > 0), ("= 0", arr == 0)):
                if mask.any() and np.array_equal(mask, bad):
                    return f"Your values are wrong exactly where {name} {cond}."
    return ""


def expect_close(got, want, what: str = "your result", inputs: dict | None = None,
                 rtol: float = RTOL, atol: float = ATOL) -> None:
    """Check that ``got`` equals ``want`` within tolerance; fail with a specific hint otherwise.

    ``inputs`` (name → array) are shown at the first wrong entry when they have the same
    shape as the result, so the learner can reproduce the case. Expected values are never
    printed: the hint says how the answer is wrong, not what it should be.
    """
    g = _as_numeric(got, what)
    w = np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        given = ", ".join(f"{k} of shape {np.shape(v)}" for k, v in (inputs or {}).items() if np.ndim(v))
        fail(f"{what} has shape {g.shape}{' for ' + given if given else ''}; expected shape {w.shape}."
             + _shape_hint(g.shape, w.shape, inputs))
    g = g.astype(np.float64)
    nonfinite = ~np.isfinite(g) & np.isfinite(w)
    if nonfinite.any():
        index = tuple(np.argwhere(nonfinite)[0]) if g.ndim else ()
        kind = "NaN" if np.isnan(g[index]) else "an infinity"
        fail(f"{what} contains {kind}{_where(index, g.shape, inputs)}. Large or small inputs can "
             "overflow (e.g. np.exp(1000) = inf): use a numerically stable formula.")
    bad = ~(np.isclose(g, w, rtol=rtol, atol=atol) | (np.isnan(g) & np.isnan(w)))
    if not bad.any():
        return
    index = tuple(np.argwhere(bad)[0]) if g.ndim else ()
    side = "too large" if g[index] > w[index] else "too small"
    count = f"{int(bad.sum())} of {bad.size} values are wrong. " if g.ndim else ""
    hint = diagnose(g, w, rtol, atol, inputs)
    fail(f"{what}: {count}{hint + ' ' if hint else ''}"
         f"First wrong value{_where(index, g.shape, inputs)}: yours is {g[index]:.4g}, which is {side}.")


def expect_gradient(got_grad, f, x, what: str = "your gradient", inputs: dict | None = None,
                    tol: float = 1e-5) -> None:
    """Compare a learner's gradient ``∂f/∂x`` with centred finite differences of ``f`` at ``x``.

    ``f(x) -> float`` is a scalar function (the reference cost, or the learner's own forward
    pass); ``got_grad`` the learner's analytic gradient. Passes when the relative error
    ‖g − ĝ‖ / (‖g‖ + ‖ĝ‖) is below ``tol``; otherwise the hint says e.g. "2 times".
    """
    x64 = np.array(x, dtype=np.float64)
    numeric = numerical_gradient(lambda: float(f(x64)), x64)
    g = _as_numeric(got_grad, what)
    if g.shape != numeric.shape:
        fail(f"{what} has shape {g.shape}; a gradient has the shape of its variable, {numeric.shape}."
             + _shape_hint(g.shape, numeric.shape))
    g = g.astype(np.float64)
    if not np.all(np.isfinite(g)):
        fail(f"{what} contains NaN or infinite values.")
    err = relative_error(g, numeric)
    if err < tol:
        return
    scale = float(np.max(np.abs(numeric))) if numeric.size else 1.0
    hint = diagnose(g, numeric, rtol=1e-3, atol=1e-4 * max(scale, 1e-12), inputs=inputs)
    fail(f"{what} does not match a numerical gradient (relative error {err:.1e}). {hint}".rstrip())


def expect_raises(exception, fn, *args, what: str = "your function", **kwargs) -> None:
    """Check that ``fn(*args, **kwargs)`` raises ``exception`` (e.g. on invalid input)."""
    try:
        fn(*args, **kwargs)
    except exception:
        return
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - the wrong exception type is itself the hint
        fail(f"{what} raised {type(err).__name__}; expected {exception.__name__}.")
    fail(f"{what} should raise {exception.__name__} for this input, but returned normally.")
