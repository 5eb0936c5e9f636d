"""Reading exercise notebooks: which cell is an exercise's task, solution, check or hidden test.

A solution notebook (``solutions/NN_slug.ipynb``) is marked up the nbgrader way:

- a markdown heading ``## Exercise N.k: Title`` starts exercise ``N.k``;
- a code cell with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` is its solution cell;
- a code cell calling ``check("N.k", ...)`` is its visible check cell;
- a code cell starting with ``### BEGIN HIDDEN TESTS`` (ending with ``### END HIDDEN TESTS``)
  holds hidden tests: removed from the exercise notebook, run by the grader;
- every other code cell is a setup cell (imports, data, demos).

Generated notebooks carry nbgrader's cell metadata (schema 3) with ``grade_id``s derived from
the exercise ids, which is also how the grader finds a learner's solution cells.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HEADING = re.compile(r"^ {0,3}#{1,6}\s*Exercise\s+(\d+\.\d+[a-z]?)\b\s*[:.\-–—]?\s*(.*?)\s*#*\s*$",
                     re.MULTILINE)
SETUP, SOLUTION, CHECK, HIDDEN, TEXT = "setup", "solution", "check", "hidden", "text"


class NotebookFormatError(ValueError):
    """A solution notebook does not follow the authoring contract (docs/exercises.md)."""


@dataclass
class CheckCall:
    """A ``check("N.k", expr, ..., name=expr)`` call, with its arguments as source text."""

    exercise: str
    args: list
    kwargs: dict


@dataclass
class ExerciseSpec:
    """Everything the notebook says about one exercise (points come from the registry)."""

    id: str
    title: str = ""
    heading_cell: int | None = None
    solution_cells: list = field(default_factory=list)
    check_cells: list = field(default_factory=list)
    hidden: list = field(default_factory=list)
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)


@dataclass
class CellRole:
    kind: str
    exercise: str | None = None


def source_of(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def grade_id(exercise_id: str, part: str, k: int = 1) -> str:
    """nbgrader ``grade_id`` (also used as cell id): ``ex2_1-solution``, ``ex2_1-solution-2``."""
    return f"ex{exercise_id.replace('.', '_')}-{part}" + (f"-{k}" if k > 1 else "")


def nbgrader_metadata(gid: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    """Cell metadata in nbgrader's schema (version 3)."""
    meta = {"grade": grade, "grade_id": gid, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def python_source(src: str) -> str:
    """``src`` with IPython magics turned into plain Python calls (when it has any)."""
    if re.search(r"^\s*[%!]", src, re.MULTILINE):
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(src)
    return src


def check_calls(src: str) -> list[CheckCall]:
    """Every ``check("N.k", ...)`` / ``grading.check("N.k", ...)`` call in a code cell."""
    if "check" not in src:
        return []
    try:
        code = python_source(src)
        tree = ast.parse(code)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        first = node.args[0]
        if name == "check" and isinstance(first, ast.Constant) and isinstance(first.value, str):
            calls.append(CheckCall(
                first.value,
                [ast.get_source_segment(code, a) for a in node.args[1:]],
                {k.arg: ast.get_source_segment(code, k.value) for k in node.keywords if k.arg}))
    return calls


def _marker_lines(src: str) -> list[str]:
    return [line.strip() for line in src.splitlines()]


def is_hidden(src: str) -> bool:
    return src.strip().startswith(BEGIN_HIDDEN)


def has_solution(src: str) -> bool:
    return BEGIN_SOLUTION in _marker_lines(src)


def heading_of(src: str):
    match = HEADING.search(src)
    return (match.group(1), match.group(2)) if match else None


def classify(nb, *, strict: bool = True, where: str = "notebook"):
    """Roles of ``nb``'s cells and the exercises it contains: ``(roles, {id: ExerciseSpec})``.

    With ``strict`` (solution notebooks) contract violations raise ``NotebookFormatError``.
    """
    roles: list[CellRole] = []
    specs: dict[str, ExerciseSpec] = {}
    current = None

    def problem(i, text):
        if strict:
            raise NotebookFormatError(f"{where}, cell {i + 1}: {text} (see docs/exercises.md).")

    for i, cell in enumerate(nb.cells):
        src = source_of(cell)
        if cell.cell_type != "code":
            found = heading_of(src) if cell.cell_type == "markdown" else None
            if found:
                if found[0] in specs:
                    problem(i, f"a second heading for exercise {found[0]}")
                current = found[0]
                specs[current] = ExerciseSpec(current, found[1], heading_cell=i)
            roles.append(CellRole(TEXT, current if found else None))
            continue
        calls = check_calls(src)
        if is_hidden(src):
            if not src.strip().endswith(END_HIDDEN):
                problem(i, f"a hidden-test cell must end with '{END_HIDDEN}'")
            if current is None:
                problem(i, "hidden tests before any '## Exercise N.k: Title' heading")
            else:
                specs[current].hidden.append(src)
            roles.append(CellRole(HIDDEN, current))
        elif has_solution(src):
            markers = [m for m in _marker_lines(src) if m in (BEGIN_SOLUTION, END_SOLUTION)]
            if markers != [BEGIN_SOLUTION, END_SOLUTION] * (len(markers) // 2) or len(markers) % 2:
                problem(i, f"unbalanced '{BEGIN_SOLUTION}' / '{END_SOLUTION}' markers")
            if calls:
                problem(i, "a solution cell must not call check(); put the check in the next cell")
            if current is None:
                problem(i, "a solution region before any '## Exercise N.k: Title' heading")
                roles.append(CellRole(SETUP))
            else:
                specs[current].solution_cells.append(i)
                roles.append(CellRole(SOLUTION, current))
        elif calls:
            for call in calls:
                spec = specs.get(call.exercise)
                if spec is None:
                    problem(i, f"check({call.exercise!r}, ...) has no "
                               f"'## Exercise {call.exercise}: Title' heading above it")
                    continue
                if not spec.check_cells or spec.check_cells[-1] != i:
                    spec.check_cells.append(i)
                if not spec.args and not spec.kwargs:
                    spec.args, spec.kwargs = call.args, call.kwargs
            roles.append(CellRole(CHECK, calls[0].exercise))
        else:
            roles.append(CellRole(SETUP, current))
    if strict:
        for spec in specs.values():
            if not spec.solution_cells:
                problem(spec.heading_cell, f"exercise {spec.id} has no solution cell ({BEGIN_SOLUTION})")
            if not spec.check_cells:
                problem(spec.heading_cell, f'exercise {spec.id} has no check cell (check("{spec.id}", ...))')
    return roles, specs


def stub_solution(src: str, exercise_id: str, title: str) -> str:
    """``src`` with each solution region replaced by ``raise NotImplementedError("Exercise …")``."""
    message = json.dumps(f"Exercise {exercise_id}: {title}" if title else f"Exercise {exercise_id}",
                         ensure_ascii=False)
    out, inside = [], False
    for line in src.split("\n"):
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({message})"]
            inside = True
        elif marker == END_SOLUTION:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def learner_solutions(submission, specs: dict) -> dict:
    """``{(exercise_id, k): source}``: the learner's solution cells in a submitted notebook.

    Found by nbgrader ``grade_id`` (or cell id) as written by the generator. For an exercise
    none of whose cells is found that way (cells re-created by hand, or a solution notebook),
    the code cells under its ``Exercise N.k`` heading, minus check and hidden-test cells; when
    the cells found still hold the untouched stub, the learner's own new cells under the
    heading are appended (an answer written in a new cell below the stub counts).
    """
    by_id = {}
    for cell in submission.cells:
        if cell.cell_type != "code":
            continue
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for key in (gid, cell.get("id")):
            if isinstance(key, str):
                by_id.setdefault(key, source_of(cell))
    found = {}
    for spec in specs.values():
        for k, _ in enumerate(spec.solution_cells, start=1):
            gid = grade_id(spec.id, "solution", k)
            if gid in by_id:
                found[(spec.id, k)] = by_id[gid]
    sections: dict[str, list[str]] = {}
    current = None
    for cell in submission.cells:
        src = source_of(cell)
        if cell.cell_type == "markdown":
            heading = heading_of(src)
            current = heading[0] if heading else current
        elif cell.cell_type == "code" and current is not None and not is_hidden(src) and not check_calls(src):
            generated = "nbgrader" in cell.get("metadata", {}) or re.fullmatch(r"cell-\d{3}", cell.get("id") or "")
            sections.setdefault(current, []).append((src, bool(generated)))
    for spec in specs.values():
        mine = [key for key in found if key[0] == spec.id]
        stub = re.compile(rf'^(\s*)raise NotImplementedError\("Exercise {re.escape(spec.id)}[:"].*$', re.MULTILINE)
        extra = [src for src, generated in sections.get(spec.id, []) if not generated]
        if not mine and spec.id in sections:
            found[(spec.id, 1)] = "\n\n".join(src for src, _ in sections[spec.id])
            for k in range(2, len(spec.solution_cells) + 1):
                found[(spec.id, k)] = ""
        elif mine and extra and all(stub.search(found[key]) for key in mine):
            for key in mine:
                found[key] = stub.sub(r"\1pass", found[key])
            found[max(mine)] = "\n\n".join([found[max(mine)], *extra])
    return found
