"""``check(id, *fns)``: the "check my answer" call of the exercise notebooks, and the shared
logic that runs a checker and turns its outcome into a status and a hint.

Statuses: ``passed``, ``failed`` (wrong answer, with a hint), ``error`` (the learner's code
raised), ``not attempted`` (the stub's ``NotImplementedError``), ``timeout`` (grader only).
"""

from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import registry
from .compare import CheckFailed, rng_for

PASSED, FAILED, ERROR, TIMEOUT, NOT_ATTEMPTED = "passed", "failed", "error", "timeout", "not attempted"

NOT_ATTEMPTED_HINT = ("not attempted yet: replace the `raise NotImplementedError(...)` line in "
                      "your solution cell with your code, run that cell, then this one.")

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_LIBRARY_DIRS = tuple({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


@dataclass
class Outcome:
    """What running one checker gave: a status, a hint and the fraction of points earned."""

    status: str
    message: str = ""
    credit: float = 0.0


def _learner_frame(tb, exclude=()) -> str:
    """``(in f, line 3: return s * (1 - s))`` for the innermost frame of the learner's code.

    Frames of the package, of installed libraries and of the files in ``exclude`` (the
    checker's) are skipped: a hint must not quote the reference implementation.
    """
    found = ""
    while tb is not None:
        code = tb.tb_frame.f_code
        path = str(Path(code.co_filename).resolve()) if not code.co_filename.startswith("<") else ""
        if not (path.startswith(_PACKAGE_DIR) or path.startswith(_LIBRARY_DIRS) or path in exclude):
            line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
            found = f" (in {code.co_name}, line {tb.tb_lineno}" + (f": {line}" if line else "") + ")"
        tb = tb.tb_next
    return found


def describe_exception(err: BaseException, exclude=()) -> str:
    """``ValueError: bad shape (in f, line 3: ...)``: an exception in the learner's terms."""
    text = str(err).strip()
    return f"{type(err).__name__}{': ' + text if text else ''}{_learner_frame(err.__traceback__, exclude)}"


def run_checker(entry: registry.Exercise, args=(), kwargs=None, rng=None) -> Outcome:
    """Run ``entry.checker(*args, rng, **kwargs)`` and classify what happened."""
    try:
        entry.checker(*args, rng if rng is not None else rng_for(None, entry.id), **(kwargs or {}))
    except NotImplementedError:
        return Outcome(NOT_ATTEMPTED, NOT_ATTEMPTED_HINT)
    except CheckFailed as err:
        return Outcome(FAILED, err.hint, err.partial)
    except AssertionError as err:
        return Outcome(FAILED, str(err) or "a check failed.")
    except Exception as err:  # noqa: BLE001 - the learner's exception is the feedback
        code = getattr(entry.checker, "__code__", None)
        exclude = {str(Path(code.co_filename).resolve())} if code else set()
        return Outcome(ERROR, "your code raised " + describe_exception(err, exclude))
    return Outcome(PASSED, "", 1.0)


def strict_checks() -> bool:
    """``$COURSEPKG_STRICT_CHECKS`` is set (the test-suite runs ``solutions/`` this way)."""
    return os.environ.get("COURSEPKG_STRICT_CHECKS", "").lower() not in ("", "0", "false", "no")


@dataclass
class CheckResult:
    """The result of ``check``: truthy when the exercise passed."""

    exercise: str
    title: str
    status: str
    message: str = ""

    def __bool__(self) -> bool:
        return self.status == PASSED

    @property
    def passed(self) -> bool:
        return bool(self)

    def summary(self) -> str:
        head = f"Exercise {self.exercise}" + (f" ({self.title})" if self.title else "")
        if self.status == PASSED:
            return f"{head}: passed ✓"
        if self.status == NOT_ATTEMPTED:
            return f"{head}: {self.message}"
        return f"{head}: not yet ✗ {self.message}"

    def __str__(self) -> str:
        return self.summary()

    def _ipython_display_(self) -> None:
        # check() already printed the line: as the last value of that same cell, stay silent.
        if getattr(self, "_printed_at", None) != _execution_count():
            print(self.summary())


def _execution_count():
    """IPython's current execution count (``None`` outside IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None) if shell is not None else None


def check(exercise_id: str, *fns, rng=None, strict: bool | None = None, **named_fns) -> CheckResult:
    """Check your answer to exercise ``exercise_id``: ``check("2.1", sigmoid_prime)``.

    Runs the exercise's checker on fresh random inputs, prints ``passed ✓`` or a hint, and
    returns a ``CheckResult`` (truthy when passed). It never raises, unless the environment
    variable ``COURSEPKG_STRICT_CHECKS=1`` is set (used to test the reference solutions);
    ``strict=False``/``True`` overrides that variable for one call.
    """
    exercise_id = str(exercise_id)
    try:
        entry = registry.get(exercise_id)
    except KeyError as err:
        result = CheckResult(exercise_id, "", ERROR, err.args[0])
    else:
        if rng is None:
            rng = rng_for(os.environ.get("COURSEPKG_LEARNER_ID"), exercise_id)
        outcome = run_checker(entry, fns, named_fns, rng)
        result = CheckResult(exercise_id, entry.title, outcome.status, outcome.message)
    print(result.summary())
    result._printed_at = _execution_count()
    if (strict_checks() if strict is None else strict) and not result:
        raise CheckFailed(result.summary())
    return result


def verdict(exercise_id: str, *fns, seed: int = 0) -> str:
    """The checker's verdict on ``fns`` with inputs from ``seed``: ``""`` when it passes, else the
    hint a learner would see. For testing checkers: a right answer must give ``""``, each typical
    mistake its own hint."""
    try:
        registry.get(exercise_id).checker(*fns, np.random.default_rng(seed))
    except CheckFailed as err:
        return str(err)
    return ""
