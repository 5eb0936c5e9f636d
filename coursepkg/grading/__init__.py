"""Graded exercises: learner checks, the solutions → exercises generator and the autograder.

- ``check("2.1", sigmoid_prime)``: "check my answer" in an exercise notebook (``checker.py``).
- ``@exercise("2.1", points=2, title=...)``: register a checker (``registry.py``); checkers live
  in ``checks/chNN.py`` and use the helpers of ``compare.py`` (``expect_close`` & co).
- ``python -m coursepkg.grading.generate``: ``solutions/`` → ``exercises/`` (``generate.py``).
- ``python -m coursepkg.grade SUBMISSIONS``: the offline autograder (``autograde.py``).

See ``docs/exercises.md``.
"""

from .checker import CheckResult, check, verdict
from .compare import CheckFailed, expect_close, expect_gradient, expect_raises, expect_shape, expect_true, rng_for
from .registry import exercise

__all__ = ["check", "verdict", "CheckResult", "CheckFailed", "exercise", "expect_close", "expect_gradient",
           "expect_raises", "expect_shape", "expect_true", "rng_for"]
