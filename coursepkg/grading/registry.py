"""The registry of exercise checkers: exercise id → (points, title, checker).

Checkers live in ``coursepkg/grading/checks/chNN.py`` (found automatically) or, for an
instructor's private checks, in any Python file passed to the grader with ``--checks``:

    @exercise("2.1", points=2, title="Sigmoid derivative")
    def _check_sigmoid_prime(fn, rng):
        ...

Points are the grader's: they never come from a learner's notebook.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXERCISE_ID = re.compile(r"^\d+\.\d+[a-z]?$")


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: ``checker(*learner_objects, rng)`` raises ``CheckFailed`` if wrong."""

    id: str
    points: float
    title: str
    checker: Callable

    @property
    def origin(self) -> str:
        return f"{self.checker.__module__}.{self.checker.__qualname__}"


_REGISTRY: dict[str, Exercise] = {}


def exercise(id: str, points: float, title: str):  # noqa: A002 - the contract's name
    """Decorator registering ``checker`` as the check of exercise ``id`` worth ``points``."""
    if not isinstance(id, str) or not EXERCISE_ID.match(id):
        raise ValueError(f"exercise: the id must look like '2.1' (chapter.number), received {id!r}.")
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        raise ValueError(f"exercise {id}: points must be a positive number, received {points!r}.")

    def register(checker: Callable) -> Callable:
        entry = Exercise(id, points, str(title), checker)
        old = _REGISTRY.get(id)
        if old is not None and old.origin != entry.origin:
            raise ValueError(f"Exercise {id} is registered twice: by {old.origin} and by {entry.origin}.")
        _REGISTRY[id] = entry
        return checker

    return register


def load_checks() -> None:
    """Import ``coursepkg.grading.checks`` (which imports every ``checks/chNN.py``)."""
    importlib.import_module(__package__ + ".checks")


def load_extra(spec: str) -> None:
    """Import extra checkers: a path to a ``.py`` file or a dotted module name."""
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        path = path.resolve()
        name = "coursepkg_extra_checks_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
        if name in sys.modules:
            return
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or not path.is_file():
            raise FileNotFoundError(f"--checks: no Python file at {path}.")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
    else:
        importlib.import_module(spec)


def get(exercise_id: str) -> Exercise:
    """The registered exercise ``exercise_id``; ``KeyError`` with a hint if there is none."""
    load_checks()
    try:
        return _REGISTRY[exercise_id]
    except KeyError:
        chapter = exercise_id.split(".")[0]
        raise KeyError(
            f"No checker is registered for exercise {exercise_id!r}: add "
            f"@exercise({exercise_id!r}, points=..., title=...) in "
            f"coursepkg/grading/checks/ch{chapter.zfill(2) if chapter.isdigit() else chapter}.py."
        ) from None


def all_exercises() -> dict[str, Exercise]:
    """Every registered exercise, by id."""
    load_checks()
    return dict(_REGISTRY)
