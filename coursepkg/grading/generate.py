"""Generate ``exercises/`` from ``solutions/``: one source for every exercise notebook.

    python -m coursepkg.grading.generate            # write exercises/NN_slug.ipynb
    python -m coursepkg.grading.generate --check    # exit 1 if exercises/ is out of date
    python -m coursepkg.grading.generate --force    # also overwrite hand-edited exercises

Solution regions become ``raise NotImplementedError("Exercise N.k: Title")``, hidden-test cells
are removed, outputs are cleared, and cells get nbgrader metadata (schema 3) and deterministic
ids, so generating twice gives byte-identical files. Each generated notebook records a hash
of its cells; a notebook whose cells no longer match it was edited (by a learner working in
the repository) and is not overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat

from . import registry
from .notebook import CHECK, HIDDEN, SOLUTION, TEXT, classify, grade_id, nbgrader_metadata, source_of, stub_solution

REPO_ROOT = Path(__file__).resolve().parents[2]
KEPT_CELL_METADATA = ("tags",)


def default_dir(kind: str) -> Path:
    """``$COURSEPKG_SOLUTIONS`` / ``$COURSEPKG_EXERCISES``, else ``solutions/`` / ``exercises/``."""
    return Path(os.environ.get(f"COURSEPKG_{kind.upper()}", REPO_ROOT / kind))


def cells_hash(nb) -> str:
    """Hash of what a learner can change: the cells' types and sources."""
    content = json.dumps([[c.cell_type, source_of(c)] for c in nb.cells], ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()


def build_exercise_notebook(solution_path: Path):
    """The exercise notebook generated from ``solution_path`` (a ``NotebookNode``)."""
    solution = nbformat.read(solution_path, as_version=4)
    roles, specs = classify(solution, where=str(solution_path))
    points = {eid: registry.get(eid).points for eid in specs}
    nb = nbformat.v4.new_notebook()
    kernelspec = solution.metadata.get("kernelspec") or {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    seen: dict[str, int] = {}
    for i, (cell, role) in enumerate(zip(solution.cells, roles)):
        if role.kind == HIDDEN:
            continue
        src = source_of(cell)
        meta = {k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.get("metadata", {})}
        cell_id = f"cell-{i:03d}"
        if role.exercise is not None and role.kind in (SOLUTION, CHECK, TEXT):
            spec = specs[role.exercise]
            part = {SOLUTION: "solution", CHECK: "check", TEXT: "task"}[role.kind]
            key = (role.exercise, part)
            seen[key] = seen.get(key, 0) + 1
            cell_id = grade_id(role.exercise, part, seen[key])
            if role.kind == SOLUTION:
                src = stub_solution(src, spec.id, spec.title)
                meta["nbgrader"] = nbgrader_metadata(cell_id, solution=True)
            elif role.kind == CHECK:
                meta["nbgrader"] = nbgrader_metadata(
                    cell_id, grade=True, locked=True, points=points[role.exercise] if seen[key] == 1 else 0)
            else:
                meta["nbgrader"] = nbgrader_metadata(cell_id, locked=True)
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(src, metadata=meta)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(src, metadata=meta)
            if "attachments" in cell:
                new["attachments"] = cell["attachments"]
        else:
            new = nbformat.v4.new_raw_cell(src, metadata=meta)
        new["id"] = cell_id
        nb.cells.append(new)
    nb.metadata = {
        "kernelspec": kernelspec,
        "language_info": {"name": "python"},
        "coursepkg": {
            "source": f"solutions/{solution_path.name}",
            "exercises": [{"id": s.id, "title": s.title, "points": points[s.id]} for s in specs.values()],
            "generated_cells_sha256": cells_hash(nb),
        },
    }
    return nb


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def learner_edited(path: Path) -> bool:
    """True when ``path``'s cells differ from what the generator last wrote there."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook is not ours to overwrite
        return True
    stored = nb.metadata.get("coursepkg", {}).get("generated_cells_sha256")
    return stored != cells_hash(nb)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def generate(solutions_dir: Path, exercises_dir: Path, *, check: bool = False, force: bool = False,
             names=None, out=print) -> int:
    """Generate (or with ``check`` only compare) every exercise notebook; return an exit code."""
    solutions = sorted(Path(solutions_dir).glob("*.ipynb"))
    if names:
        solutions = [p for p in solutions if p.name in names or p.stem in names]
    problems = 0
    for path in solutions:
        target = Path(exercises_dir) / path.name
        try:
            text = render(build_exercise_notebook(path))
        except (ValueError, KeyError) as err:
            out(f"error    {path}: {err.args[0] if isinstance(err, KeyError) else err}")
            problems += 1
            continue
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old == text:
            out(f"ok       {target}")
        elif check:
            state = "missing" if old is None else "edited by hand" if learner_edited(target) else "out of date"
            out(f"{'stale':<8} {target} ({state}): run `python -m coursepkg.grading.generate`")
            problems += 1
        elif old is not None and learner_edited(target) and not force:
            out(f"kept     {target}: it was edited after generation, so it was not overwritten; "
                "save your work under another name, or pass --force to overwrite it")
            problems += 1
        else:
            write_atomic(target, text)
            out(f"{'created' if old is None else 'updated':<8} {target}")
    known = {p.name for p in sorted(Path(solutions_dir).glob("*.ipynb"))}
    for orphan in sorted(Path(exercises_dir).glob("*.ipynb")):
        if orphan.name not in known and not names and not learner_edited(orphan):
            out(f"orphan   {orphan}: its solution notebook is gone; delete it")
            if check:
                problems += 1
    if not solutions:
        out(f"no solution notebooks in {solutions_dir}")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursepkg.grading.generate",
                                     description="Generate exercises/ from solutions/.")
    parser.add_argument("names", nargs="*", help="only these notebooks (file names or stems)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is stale")
    parser.add_argument("--force", action="store_true", help="overwrite exercise notebooks edited by hand")
    parser.add_argument("--solutions", type=Path, default=default_dir("solutions"))
    parser.add_argument("--exercises", type=Path, default=default_dir("exercises"))
    parser.add_argument("--checks", action="append", default=[], metavar="FILE_OR_MODULE",
                        help="extra checker module(s) registering exercises (repeatable)")
    args = parser.parse_args(argv)
    for spec in args.checks:
        registry.load_extra(spec)
    return generate(args.solutions, args.exercises, check=args.check, force=args.force, names=args.names)


if __name__ == "__main__":
    sys.exit(main())
