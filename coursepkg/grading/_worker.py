"""The autograder's check process (``python -m coursepkg.grading._worker``); not for learners.

It reads a job (JSON) from stdin, then:

1. rebuilds the learner's definitions by running the course's setup cells and the learner's
   solution cells (never the learner's check cells or extra cells) with a per-cell time limit;
2. undoes anything that code changed in ``numpy``, ``coursepkg`` or ``builtins`` and imports
   ``coursepkg.grading`` afresh, so a notebook that monkey-patches ``check``, the registry or a
   comparison helper changes nothing;
3. runs each exercise's registered checker and hidden tests with a per-exercise time limit,
   giving no credit to an exercise during whose check the grader's modules were modified.

Progress and results go, one JSON line per event, to a journal file opened before any learner
code runs; every line carries the job's nonce. The parent process watches the journal and
kills this process if a limit is overrun despite the alarm (see ``autograde.py``).
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import json
import linecache
import os
import signal
import sys

from coursepkg.grading.notebook import python_source

WATCHED = ("numpy", "coursepkg", "builtins", "math")
NOT_ATTEMPTED = "the solution cell still raises NotImplementedError (the exercise's stub)."
_MISSING = object()


class GraderTimeout(BaseException):
    """Raised by the alarm; a ``BaseException`` so that ``except Exception`` cannot swallow it."""


def _on_alarm(signum, frame):
    raise GraderTimeout


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise ``GraderTimeout`` after ``seconds``, and every 0.5 s after that until the block ends."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01), 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def snapshot() -> dict:
    """Shallow copies of the watched modules' namespaces and of the import machinery."""
    mods = {name: (mod, dict(vars(mod))) for name, mod in list(sys.modules.items())
            if mod is not None and name.split(".")[0] in WATCHED}
    return {"modules": mods, "meta_path": list(sys.meta_path), "path_hooks": list(sys.path_hooks),
            "path": list(sys.path)}


def changes(snap: dict) -> list[str]:
    """Names rebound since ``snap``: any in ``coursepkg.grading``, public ones elsewhere.

    (Private module globals of numpy or coursepkg may be caches that change legitimately;
    ``restore`` puts them back all the same.)
    """
    found = []
    for name, (mod, saved) in snap["modules"].items():
        current = vars(mod)
        strict = name.startswith("coursepkg.grading")
        found += [f"{name}.{k}" for k, v in saved.items()
                  if current.get(k, _MISSING) is not v and (strict or not k.startswith("_"))]
    return found


def restore(snap: dict) -> None:
    for mod, saved in snap["modules"].values():
        current = vars(mod)
        for k, v in saved.items():
            if current.get(k, _MISSING) is not v:
                current[k] = v
    sys.meta_path[:] = snap["meta_path"]
    sys.path_hooks[:] = snap["path_hooks"]
    sys.path[:] = snap["path"]
    sys.path_importer_cache.clear()


def fresh_grading(extra_checks):
    """Import ``coursepkg.grading`` again from disk: the learner's code never touched these."""
    for name in [n for n in sys.modules if n == "coursepkg.grading" or n.startswith("coursepkg.grading.")
                 or n.startswith("coursepkg_extra_checks_")]:
        del sys.modules[name]
    registry = importlib.import_module("coursepkg.grading.registry")
    registry.load_checks()
    for spec in extra_checks:
        registry.load_extra(spec)
    return registry, importlib.import_module("coursepkg.grading.checker"), \
        importlib.import_module("coursepkg.grading.compare")


class _NoIPython:
    """``get_ipython()`` for cells run outside IPython: magics and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def run_cell(source: str, label: str, ns: dict, seconds: float | None = None):
    """Execute one cell's source in ``ns`` (within ``seconds`` if given); return its exception."""
    try:
        code = python_source(source)
        linecache.cache[label] = (len(code), None, code.splitlines(True), label)
        compiled = compile(code, label, "exec")
        with time_limit(seconds) if seconds else contextlib.nullcontext():
            exec(compiled, ns)
    except BaseException as err:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        return err
    return None


def main() -> None:
    job = json.loads(sys.stdin.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() now fails at once instead of waiting
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    journal = open(job["journal"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    def emit(**event):
        journal.write(json.dumps({"nonce": job["nonce"], **event}) + "\n")
        journal.flush()

    import numpy  # noqa: F401 - imported before learner code so that it is snapshotted

    import coursepkg  # noqa: F401
    import coursepkg.gradcheck  # noqa: F401
    import coursepkg.grading.checker  # noqa: F401

    original = snapshot()
    ns = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _NoIPython,
          "display": lambda *args, **kwargs: None}
    cell_errors = {}
    captured = open(os.devnull, "w")  # noqa: SIM115 - the learner's prints go nowhere
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        for cell in job["cells"]:
            if cell["index"] in job["skip"]:
                continue
            emit(event="cell_start", index=cell["index"])
            err = run_cell(cell["source"], cell["label"], ns, job["cell_timeout"])
            error = None
            if err is not None:
                error = {"type": type(err).__name__, "text": str(err)[:500],
                         "timeout": isinstance(err, GraderTimeout)}
                cell_errors[cell["index"]] = error
            emit(event="cell_end", index=cell["index"], error=error)

    tampered = changes(original)
    restore(original)
    registry, checker, compare = fresh_grading(job["extra_checks"])
    emit(event="ready", tampered=tampered[:20])
    clean = snapshot()
    for ex in job["exercises"]:
        emit(event="ex_start", id=ex["id"])
        result = grade_exercise(ex, ns, job, cell_errors, registry, checker, compare, captured)
        modified = changes(clean)
        if modified:
            restore(clean)
            result = {"status": checker.ERROR, "credit": 0.0,
                      "message": f"your code modified the grader ({', '.join(modified[:3])}) "
                                 "while being checked: no credit for this exercise."}
        emit(event="ex_end", id=ex["id"], **result)
    emit(event="done")


def grade_exercise(ex, ns, job, cell_errors, registry, checker, compare, captured) -> dict:
    """Run one exercise's checker and hidden tests against the learner's namespace."""
    own = [cell_errors[i] for i in ex["solution_cells"] if i in cell_errors]
    if any(e["type"] == "NotImplementedError" for e in own):
        return {"status": checker.NOT_ATTEMPTED, "credit": 0.0, "message": NOT_ATTEMPTED}
    if any(e["timeout"] for e in own):
        return {"status": checker.TIMEOUT, "credit": 0.0,
                "message": f"your solution cell did not finish within {job['cell_timeout']:g} s."}
    note = f" (Your solution cell raised {own[0]['type']}: {own[0]['text']})" if own else ""
    try:
        entry = registry.get(ex["id"])
    except KeyError as err:
        return {"status": checker.ERROR, "credit": 0.0, "message": err.args[0]}
    rng = compare.rng_for(job["learner"], ex["id"], job["salt"])
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), \
                time_limit(job["exercise_timeout"]):
            try:
                args = [eval(a, ns) for a in ex["args"]]  # noqa: S307 - the grader's own check-cell text
                kwargs = {k: eval(v, ns) for k, v in ex["kwargs"].items()}  # noqa: S307
            except NameError as err:
                return {"status": checker.ERROR, "credit": 0.0,
                        "message": f"{err}. The grader runs the notebook's setup cells and your "
                                   "solution cells only: define (or import) it in your solution cell." + note}
            outcome = checker.run_checker(entry, args, kwargs, rng)
            if outcome.status == checker.PASSED:
                for k, hidden in enumerate(ex["hidden"], start=1):
                    label = f"<hidden tests {ex['id']}#{k}>"
                    err = run_cell(hidden, label, dict(ns))
                    if isinstance(err, GraderTimeout):
                        raise err
                    if err is not None:
                        outcome = _hidden_outcome(err, checker, compare)
                        break
    except GraderTimeout:
        return {"status": checker.TIMEOUT, "credit": 0.0,
                "message": f"your code did not finish within {job['exercise_timeout']:g} s "
                           "(an infinite loop? a call to input()?)."}
    if outcome.status == checker.NOT_ATTEMPTED:
        return {"status": outcome.status, "credit": 0.0, "message": NOT_ATTEMPTED}
    message = outcome.message + (note if outcome.status != checker.PASSED else "")
    return {"status": outcome.status, "credit": outcome.credit, "message": message}


def _hidden_outcome(err, checker, compare):
    if isinstance(err, compare.CheckFailed):
        return checker.Outcome(checker.FAILED, err.hint, err.partial)
    if isinstance(err, NotImplementedError):
        return checker.Outcome(checker.NOT_ATTEMPTED, checker.NOT_ATTEMPTED_HINT)
    if isinstance(err, AssertionError):
        return checker.Outcome(checker.FAILED, f"a hidden test failed: {err}" if str(err)
                               else "a hidden test failed.")
    return checker.Outcome(checker.ERROR, "a hidden test raised " + checker.describe_exception(err))


if __name__ == "__main__":
    main()
