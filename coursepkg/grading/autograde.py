"""The offline autograder: ``python -m coursepkg.grade NOTEBOOK_OR_FOLDER ... [--csv F] [--json F]``.

For each submitted notebook (never modified; the grader works on copies in temporary folders):

1. find its solution notebook in ``solutions/`` (same file name, else the ``coursepkg.source``
   metadata the generator wrote, else the ``NN_`` prefix) -- points and hidden tests come from
   the grader's side (registry + solution notebook), never from the submission;
2. execute it in a fresh Jupyter kernel (nbclient) with a per-cell and a per-notebook time
   limit, errors allowed and stdin disabled, and report the cells that raised or timed out;
3. in a separate process (``_worker.py``), rebuild the learner's definitions from the course's
   setup cells and the learner's solution cells, then run each exercise's checker (on inputs
   seeded from the learner id) and hidden tests with a per-exercise time limit. A process that
   hangs past its limit is killed and restarted for the remaining exercises, so one hanging or
   crashing exercise costs only its own points.

The grader is not a security sandbox: learner code runs with your permissions. Grade
untrusted submissions inside a container or a throw-away account.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import registry
from .checker import ERROR, NOT_ATTEMPTED, TIMEOUT
from .generate import REPO_ROOT, default_dir, write_atomic
from .notebook import SETUP, SOLUTION, classify, learner_solutions, source_of, stub_solution

KERNEL_NAME = "coursepkg-grader"
GRACE_S = 3.0  # how long past its own alarm a worker may overrun before it is killed


@dataclass
class Limits:
    cell: float = 60.0
    notebook: float = 600.0
    exercise: float = 60.0


@dataclass
class ExerciseResult:
    id: str
    title: str
    points: float
    max_points: float
    status: str
    message: str = ""


@dataclass
class Report:
    """The grade of one submitted notebook."""

    notebook: str
    learner: str
    solution: str = ""
    exercises: list = field(default_factory=list)
    notebook_errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_points for e in self.exercises)

    def to_dict(self) -> dict:
        return {**asdict(self), "score": self.score, "max_score": self.max_score}


# ---------------------------------------------------------------- running the notebook itself

def kernel_env() -> dict:
    """The environment of the learner's code: the repository importable, no grader secrets."""
    env = {k: v for k, v in os.environ.items() if k != "COURSEPKG_GRADER_SALT"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return env


async def _execute(nb, workdir: str, limits: Limits) -> list[str]:
    """Run ``nb`` (in place) in a fresh kernel of this very Python; return its cell problems."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    problems = []
    with tempfile.TemporaryDirectory(prefix="coursepkg-kernel-") as kernels:
        spec_dir = Path(kernels) / KERNEL_NAME
        spec_dir.mkdir()
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "coursepkg grader", "language": "python"}))
        km = AsyncKernelManager(kernel_name=KERNEL_NAME,
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
        client = NotebookClient(nb, km=km, timeout=limits.cell, allow_errors=True,
                                interrupt_on_timeout=True, shutdown_kernel="immediate",
                                resources={"metadata": {"path": workdir}})
        start = time.monotonic()
        async with client.async_setup_kernel(env=kernel_env(), cleanup_kc=True,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                remaining = limits.notebook - (time.monotonic() - start)
                if remaining <= 0:
                    problems.append(f"the notebook ran out of time ({limits.notebook:g} s) "
                                    f"before cell {index + 1}")
                    break
                client.timeout = max(1, int(min(limits.cell, remaining)))
                began = time.monotonic()
                try:
                    await client.async_execute_cell(cell, index)
                except DeadKernelError:
                    problems.append(f"cell {index + 1}: the kernel died (out of memory? os._exit?)")
                    break
                if time.monotonic() - began >= client.timeout:
                    problems.append(f"cell {index + 1}: timed out after {client.timeout} s")
                    continue
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        problems.append(f"cell {index + 1}: {output.get('ename')}: "
                                        f"{str(output.get('evalue', ''))[:300]}")
    return problems


def execute_notebook(nb, limits: Limits) -> list[str]:
    """Execute a copy of ``nb`` in a temporary folder; the learner's cell errors, in words."""
    with tempfile.TemporaryDirectory(prefix="coursepkg-run-") as workdir:
        try:
            return asyncio.run(_execute(nb, workdir, limits))
        except Exception as err:  # noqa: BLE001 - a broken notebook must not stop the grader
            return [f"the notebook could not be executed: {type(err).__name__}: {err}"]


# ---------------------------------------------------------------- the check process

def _read_journal(path: Path, nonce: str, pos: int):
    events = []
    with open(path, encoding="utf-8", errors="replace") as f:
        f.seek(pos)
        while True:
            line = f.readline()
            if not line.endswith("\n"):
                break
            pos = f.tell()
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and event.get("nonce") == nonce:
                events.append(event)
    return events, pos


def run_checks(job: dict, limits: Limits, solution_cells: dict) -> tuple[dict, list, list]:
    """Run the worker until every exercise has a result; ``(results, cell_problems, warnings)``."""
    results, problems, warnings, skip = {}, [], [], set()
    deadline = time.monotonic() + limits.notebook + limits.exercise * len(job["exercises"]) + 30
    with tempfile.TemporaryDirectory(prefix="coursepkg-check-") as workdir:
        for attempt in range(len(job["cells"]) + len(job["exercises"]) + 1):
            todo = [e for e in job["exercises"] if e["id"] not in results]
            if not todo:
                break
            nonce = secrets.token_hex(16)
            journal = Path(workdir) / f"journal-{attempt}.jsonl"
            journal.touch()
            payload = {**job, "exercises": todo, "skip": sorted(skip), "nonce": nonce,
                       "journal": str(journal), "cell_timeout": limits.cell,
                       "exercise_timeout": limits.exercise}
            stderr = open(Path(workdir) / f"stderr-{attempt}.txt", "w+")  # noqa: SIM115
            proc = subprocess.Popen([sys.executable, "-m", "coursepkg.grading._worker"], cwd=workdir,
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
                                    env=kernel_env(), text=True)
            proc.stdin.write(json.dumps(payload))
            proc.stdin.close()
            current, started, pos, done, killed = None, time.monotonic(), 0, False, ""
            limit = limits.exercise
            while True:
                exited = proc.poll() is not None
                events, pos = _read_journal(journal, nonce, pos)
                for ev in events:
                    kind = ev["event"]
                    if kind in ("cell_start", "ex_start"):
                        current, started = (kind, ev.get("index", ev.get("id"))), time.monotonic()
                    elif kind == "cell_end":
                        current = None
                    elif kind == "ready":
                        current = None
                        if ev["tampered"]:
                            warnings.append("the notebook modified the grader or numpy ("
                                            + ", ".join(ev["tampered"][:5]) + "); this was undone")
                    elif kind == "ex_end":
                        current = None
                        results[ev["id"]] = ev
                    elif kind == "done":
                        done = True
                if exited or done:
                    break
                limit = limits.cell if current and current[0] == "cell_start" else limits.exercise
                if current and time.monotonic() - started > limit + GRACE_S:
                    killed = "timeout"
                elif time.monotonic() > deadline:
                    killed = "deadline"
                if killed:
                    proc.kill()
                    proc.wait()
                    break
                time.sleep(0.05)
            proc.wait()
            stderr.seek(0)
            err_tail = stderr.read()[-500:].strip()
            stderr.close()
            if done:
                break
            why = (f"did not stop within its time limit ({limit:g} s), even when interrupted" if killed == "timeout"
                   else f"crashed the check process (exit code {proc.returncode})")
            if killed == "deadline":
                for e in todo:
                    results.setdefault(e["id"], {"status": TIMEOUT, "credit": 0.0,
                                                 "message": "the grader ran out of time for this notebook."})
            elif current and current[0] == "cell_start":
                skip.add(current[1])
                problems.append(f"{solution_cells.get(current[1], 'a setup cell')} {why}")
            elif current and current[0] == "ex_start":
                results[current[1]] = {"status": TIMEOUT if killed else ERROR, "credit": 0.0,
                                       "message": f"your code {why}."}
            else:
                for e in todo:
                    results.setdefault(e["id"], {"status": ERROR, "credit": 0.0,
                                                 "message": f"the grader failed: {err_tail or why}"})
    return results, problems, warnings


# ---------------------------------------------------------------- grading one notebook

def find_solution(path: Path, nb, solutions_dir: Path) -> Path:
    """The solution notebook a submission answers (see the module docstring)."""
    candidates = sorted(solutions_dir.glob("*.ipynb"))
    by_name = {p.name: p for p in candidates}
    if path.name in by_name:
        return by_name[path.name]
    source = Path(str((nb.metadata.get("coursepkg") or {}).get("source", ""))).name if nb else ""
    if source in by_name:
        return by_name[source]
    inside = [p for p in candidates if p.stem in path.stem]
    if len(inside) == 1:
        return inside[0]
    prefix = path.name.split("_")[0]
    same_number = [p for p in candidates if prefix.isdigit() and p.name.split("_")[0] == prefix]
    if len(same_number) == 1:
        return same_number[0]
    raise LookupError(f"cannot tell which notebook of {solutions_dir} {path.name} answers: "
                      "keep the exercise notebook's file name (e.g. 02_sigmoid.ipynb)")


def build_job(solution_path: Path, submission, learner: str, salt: str, extra_checks) -> tuple:
    """The worker's job: the course's setup cells, the learner's solution cells, the exercises."""
    solution = nbformat.read(solution_path, as_version=4)
    roles, specs = classify(solution, where=str(solution_path))
    mine = learner_solutions(submission, specs) if submission is not None else {}
    cells, labels, seen = [], {}, {}
    for index, (cell, role) in enumerate(zip(solution.cells, roles)):
        if role.kind == SETUP and cell.cell_type == "code":
            cells.append({"index": index, "source": source_of(cell), "label": f"<setup cell {index + 1}>"})
        elif role.kind == SOLUTION:
            spec = specs[role.exercise]
            seen[spec.id] = k = seen.get(spec.id, 0) + 1
            src = mine.get((spec.id, k), stub_solution(source_of(cell), spec.id, spec.title))
            label = f"<your solution cell for exercise {spec.id}>"
            labels[index] = f"your solution cell for exercise {spec.id}"
            cells.append({"index": index, "source": src, "label": label})
    exercises = [{"id": s.id, "title": s.title, "args": s.args, "kwargs": s.kwargs, "hidden": s.hidden,
                  "solution_cells": s.solution_cells} for s in specs.values()]
    job = {"cells": cells, "exercises": exercises, "learner": learner, "salt": salt,
           "extra_checks": list(extra_checks)}
    return job, labels, specs


def grade_notebook(path: Path, learner: str, *, solutions_dir: Path, limits: Limits,
                   salt: str = "", extra_checks=(), solution: Path | None = None) -> Report:
    """Grade one submitted notebook (read only, never written)."""
    report = Report(notebook=str(path), learner=learner)
    try:
        submission = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - an unreadable submission scores 0, with the reason
        submission = None
        report.notebook_errors.append(f"the notebook could not be read: {type(err).__name__}: {err}")
    try:
        solution = solution or find_solution(path, submission, solutions_dir)
        job, labels, specs = build_job(solution, submission, learner, salt, extra_checks)
    except (LookupError, ValueError, OSError) as err:
        report.warnings.append(f"not graded: {err}")
        return report
    report.solution = solution.name
    if submission is not None:
        report.notebook_errors += execute_notebook(submission, limits)
    results, problems, warnings = run_checks(job, limits, labels)
    report.notebook_errors += [f"grader: {p}" for p in problems]
    report.warnings += warnings
    for spec in specs.values():
        try:
            max_points = registry.get(spec.id).points
        except KeyError:
            max_points = 0
        res = results.get(spec.id, {"status": ERROR, "credit": 0.0, "message": "no result"})
        if submission is None:
            res = {"status": NOT_ATTEMPTED, "credit": 0.0, "message": "the notebook could not be read."}
        earned = round(max_points * float(res.get("credit", 0.0)), 4)
        report.exercises.append(ExerciseResult(spec.id, spec.title, earned, max_points,
                                               res["status"], res.get("message", "")))
    return report


# ---------------------------------------------------------------- reports and the CLI

def find_submissions(paths) -> list[tuple[Path, str]]:
    """``(notebook, learner id)`` for every notebook named or found (recursively) in a folder.

    The learner id of ``FOLDER/alice/02_x.ipynb`` is ``alice``; of ``FOLDER/02_x-alice.ipynb``
    (or a notebook given by name) its file stem.
    """
    found = []
    for arg in paths:
        arg = Path(arg)
        if arg.is_dir():
            for nb in sorted(arg.rglob("*.ipynb")):
                rel = nb.relative_to(arg)
                if ".ipynb_checkpoints" in rel.parts:
                    continue
                found.append((nb, rel.parts[0] if len(rel.parts) > 1 else nb.stem))
        else:
            found.append((arg, arg.stem))
    return found


def format_report(report: Report) -> str:
    lines = [f"{report.notebook}  (learner {report.learner}): {report.score:g}/{report.max_score:g} points"]
    if report.exercises:
        lines.append(f"  {'exercise':<9} {'points':>7}  {'status':<14} message")
    for e in report.exercises:
        lines.append(f"  {e.id:<9} {f'{e.points:g}/{e.max_points:g}':>7}  {e.status:<14} {e.message}")
    lines += [f"  notebook: {p}" for p in report.notebook_errors]
    lines += [f"  warning: {w}" for w in report.warnings]
    return "\n".join(lines)


def _exercise_key(eid: str):
    chapter, _, number = eid.partition(".")
    return (int(chapter), number.zfill(4))


def csv_text(reports) -> str:
    ids = sorted({e.id for r in reports for e in r.exercises}, key=_exercise_key)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["learner", "notebook", "solution", "score", "max_score"] + [f"ex{i}" for i in ids])
    for r in reports:
        pts = {e.id: f"{e.points:g}" for e in r.exercises}
        writer.writerow([r.learner, r.notebook, r.solution, f"{r.score:g}", f"{r.max_score:g}"]
                        + [pts.get(i, "") for i in ids])
    return buf.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursepkg.grade",
        description="Grade exercise notebooks: run each in a fresh kernel, then check every "
                    "exercise against the grader's checkers and hidden tests.")
    parser.add_argument("paths", nargs="+", metavar="NOTEBOOK_OR_FOLDER")
    parser.add_argument("--csv", type=Path, help="write one row per notebook (points per exercise)")
    parser.add_argument("--json", type=Path, help="write every result and message as JSON")
    parser.add_argument("--solutions", type=Path, default=default_dir("solutions"),
                        help="the solution notebooks (hidden tests); default: solutions/")
    parser.add_argument("--solution", type=Path, help="grade every notebook against this solution notebook")
    parser.add_argument("--checks", action="append", default=[], metavar="FILE_OR_MODULE",
                        help="extra (e.g. private) checker module(s) to register (repeatable)")
    parser.add_argument("--learner", help="learner id of a single notebook (seeds its random inputs)")
    parser.add_argument("--salt", default=os.environ.get("COURSEPKG_GRADER_SALT", ""),
                        help="secret mixed into the per-learner seeds (default $COURSEPKG_GRADER_SALT)")
    parser.add_argument("--timeout-cell", type=float, default=Limits.cell, help="seconds per cell (60)")
    parser.add_argument("--timeout-notebook", type=float, default=Limits.notebook,
                        help="seconds per notebook run (600)")
    parser.add_argument("--timeout-exercise", type=float, default=Limits.exercise,
                        help="seconds per exercise check (60)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="notebooks graded in parallel")
    parser.add_argument("-q", "--quiet", action="store_true", help="no table on the terminal")
    args = parser.parse_args(argv)

    for spec in args.checks:
        registry.load_extra(spec)
    extra = [str(Path(s).resolve()) if Path(s).exists() else s for s in args.checks]
    submissions = find_submissions(args.paths)
    if not submissions:
        parser.error("no notebooks found")
    if args.learner and len(submissions) == 1:
        submissions = [(submissions[0][0], args.learner)]
    limits = Limits(args.timeout_cell, args.timeout_notebook, args.timeout_exercise)

    def grade(item):
        path, learner = item
        return grade_notebook(path, learner, solutions_dir=args.solutions, limits=limits, salt=args.salt,
                              extra_checks=extra, solution=args.solution)

    reports = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for report in pool.map(grade, submissions):
            reports.append(report)
            if not args.quiet:
                print(format_report(report), flush=True)
    if len(reports) > 1 and not args.quiet:
        total = sum(r.score for r in reports)
        print(f"{len(reports)} notebooks graded; mean score "
              f"{total / len(reports):.4g}/{max(r.max_score for r in reports):g}")
    if args.csv:
        write_atomic(args.csv, csv_text(reports))
    if args.json:
        write_atomic(args.json, json.dumps([r.to_dict() for r in reports], indent=1, ensure_ascii=False) + "\n")
    return 1 if any(not r.solution for r in reports) else 0
