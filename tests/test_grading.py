"""Tests of the exercise system: comparison hints, check(), the generator and the autograder CLI.

The autograder is tested end to end on a small demo chapter (exercises 90.1-90.4, checkers in
tests/fixtures/grading/checks_demo.py) with one CLI call over a folder of submissions made
here: the solution, the generated exercise notebook and deliberately wrong notebooks. A second
CLI call grades the real solutions/*.ipynb (full marks) and their generated exercises (0).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from coursepkg.grading import CheckFailed, check, expect_close, expect_gradient, registry, rng_for
from coursepkg.grading.generate import build_exercise_notebook, generate, render
from coursepkg.grading.notebook import NotebookFormatError, classify, grade_id

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "tests" / "fixtures" / "grading" / "checks_demo.py"
LIMITS = ["--timeout-cell", "6", "--timeout-exercise", "2", "--timeout-notebook", "60"]

registry.load_extra(str(CHECKS))


def fails(fn) -> str:
    with pytest.raises(CheckFailed) as info:
        fn()
    return str(info.value)


# ------------------------------------------------------------------ comparison hints

def test_expect_close_hints_name_the_mistake_without_the_answer():
    z = np.array([[0.5, -1.0, 2.0], [1.5, -0.3, 0.2]])
    want = np.tanh(z)
    expect_close(want.astype(np.float32), want, "f(z)")
    assert "2 times" in fails(lambda: expect_close(2 * want, want, "f(z)"))
    assert "wrong sign" in fails(lambda: expect_close(-want, want, "f(z)"))
    assert "transposed" in fails(lambda: expect_close(want.T, want, "f(z)"))
    assert "missing an axis" in fails(lambda: expect_close(want[:, 0], want[:, :1], "f(z)"))
    message = fails(lambda: expect_close(want.mean(axis=1), want.mean(axis=0), "f(z)", inputs={"z": z}))
    assert "Check the axis" in message and "off by one" not in message
    assert "off by one" in fails(lambda: expect_close(np.arange(4), np.arange(5), "f(n)"))
    assert "return" in fails(lambda: expect_close(None, want, "f(z)"))
    assert "same constant" in fails(lambda: expect_close(want + 1, want, "f(z)"))
    bad = want.copy()
    bad[z < 0] = 0
    assert "exactly where z < 0" in fails(lambda: expect_close(bad, want, "f(z)", inputs={"z": z}))
    message = fails(lambda: expect_close(np.where(z > 1, np.nan, want), want, "f(z)", inputs={"z": z}))
    assert "NaN" in message and "z[0, 2] = 2" in message
    wrong = want.copy()
    wrong[1, 1] = 0.123
    message = fails(lambda: expect_close(wrong, want, "f(z)", inputs={"z": z}))
    assert "1 of 6" in message and "[1, 1]" in message and "z[1, 1] = -0.3" in message
    assert f"{want[1, 1]:.3g}" not in message  # the expected value is never shown
    eye = np.eye(5)
    y = np.array([0, 1, 2, 3, 4, 2])
    assert "shifted by one" in fails(lambda: expect_close(eye[y - 1], eye[y], "one_hot"))


def test_expect_gradient_and_batch_size_factor():
    x = np.linspace(-2, 2, 6)
    expect_gradient(np.cos(x), lambda v: np.sum(np.sin(v)), x)
    assert "2 times" in fails(lambda: expect_gradient(2 * np.cos(x), lambda v: np.sum(np.sin(v)), x))
    X = np.ones((32, 2))
    assert "factor of 32" in fails(lambda: expect_close(X.sum(axis=0), X.mean(axis=0), "g", inputs={"X": X}))


def test_rng_for_is_per_learner_and_salted():
    def draw(*args):
        return rng_for(*args).normal(size=3)

    assert np.array_equal(draw("alice", "2.1", ""), draw("alice", "2.1", ""))
    assert not np.array_equal(draw("alice", "2.1", ""), draw("bob", "2.1", ""))
    assert not np.array_equal(draw("alice", "2.1", ""), draw("alice", "2.2", ""))
    assert not np.array_equal(draw("alice", "2.1", ""), draw("alice", "2.1", "secret"))
    assert not np.array_equal(draw(None, "2.1"), draw(None, "2.1"))


# ------------------------------------------------------------------ check() and the registry

def sigmoid_prime(z):
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


def test_check_reports_pass_hint_and_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("COURSEPKG_STRICT_CHECKS", raising=False)
    assert check("90.1", sigmoid_prime)
    assert "Exercise 90.1 (Sigmoid derivative): passed ✓" in capsys.readouterr().out
    result = check("90.1", lambda z: 2 * sigmoid_prime(z))
    assert not result and "2 times" in result.message and "not yet" in capsys.readouterr().out

    def stub(z):
        raise NotImplementedError("Exercise 90.1: Sigmoid derivative")

    result = check("90.1", stub)
    assert result.status == "not attempted" and "NotImplementedError" in capsys.readouterr().out
    result = check("90.1", lambda z: z.nosuch)
    assert result.status == "error" and "AttributeError" in result.message
    assert not check("99.9", sigmoid_prime) and "No checker" in capsys.readouterr().out
    monkeypatch.setenv("COURSEPKG_STRICT_CHECKS", "1")
    with pytest.raises(CheckFailed):
        check("90.1", stub)
    assert check("90.1", sigmoid_prime)


def test_registry_refuses_bad_and_duplicate_ids():
    with pytest.raises(ValueError, match="registered twice"):
        registry.exercise("90.1", points=1, title="again")(lambda fn, rng: None)
    with pytest.raises(ValueError, match="chapter.number"):
        registry.exercise("ex1", points=1, title="x")
    with pytest.raises(ValueError, match="positive"):
        registry.exercise("91.1", points=0, title="x")
    assert registry.get("90.3").points == 2


# ------------------------------------------------------------------ the demo chapter

SETUP = f"""import numpy as np
from coursepkg.grading import check
from coursepkg.grading.registry import load_extra
load_extra({str(CHECKS)!r})
rng = np.random.default_rng(0)"""

SOLUTIONS = {
    "90.1": ("Sigmoid derivative", "def sigmoid_prime(z):\n    \"\"\"σ'(z) = σ(z)(1 − σ(z)).\"\"\"\n"
             "    ### BEGIN SOLUTION\n    s = 1 / (1 + np.exp(-z))\n    return s * (1 - s)\n    ### END SOLUTION",
             "check(\"90.1\", sigmoid_prime)",
             "### BEGIN HIDDEN TESTS\nassert np.allclose(sigmoid_prime(np.zeros(7)), 0.25), "
             "\"sigmoid_prime(0) should be 1/4\"\n### END HIDDEN TESTS"),
    "90.2": ("Column means", "def column_means(X):\n    ### BEGIN SOLUTION\n    return X.mean(axis=0)\n"
             "    ### END SOLUTION", "check(\"90.2\", column_means)", None),
    "90.3": ("Dense layer forward pass", "def dense_forward(x, W, b):\n    ### BEGIN SOLUTION\n"
             "    return x @ W + b\n    ### END SOLUTION", "result = check(\"90.3\", dense_forward)",
             "### BEGIN HIDDEN TESTS\nfrom coursepkg.grading import CheckFailed\n"
             "out = dense_forward(np.ones((2, 3), np.float32), np.ones((3, 4), np.float32), np.zeros(4, np.float32))\n"
             "if out.dtype != np.float32:\n"
             "    raise CheckFailed(\"dense_forward should keep float32 in float32\", partial=0.5)\n"
             "### END HIDDEN TESTS"),
    "90.4": ("One-hot encoding", "def one_hot(y, k):\n    ### BEGIN SOLUTION\n    return np.eye(k)[y]\n"
             "    ### END SOLUTION", "check(\"90.4\", one_hot)", None),
}


def solution_notebook():
    cells = [nbformat.v4.new_markdown_cell("# Demo chapter\nExercises on small functions."),
             nbformat.v4.new_code_cell(SETUP)]
    for eid, (title, solution, check_src, hidden) in SOLUTIONS.items():
        cells += [nbformat.v4.new_markdown_cell(f"## Exercise {eid}: {title}\nWrite it."),
                  nbformat.v4.new_code_cell(solution), nbformat.v4.new_code_cell(check_src)]
        if hidden:
            cells.append(nbformat.v4.new_code_cell(hidden))
    cells.append(nbformat.v4.new_code_cell("demo = rng.normal(size=3)"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture()
def course(tmp_path):
    """A course folder with solutions/90_demo.ipynb; returns (solutions, exercises)."""
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(solution_notebook(), solutions / "90_demo.ipynb")
    return solutions, exercises


def run_generate(solutions, exercises, **kwargs):
    lines = []
    code = generate(solutions, exercises, out=lines.append, **kwargs)
    return code, "\n".join(lines)


def test_generated_exercise_notebook(course):
    solutions, exercises = course
    code, out = run_generate(solutions, exercises)
    assert code == 0 and "created" in out
    text = (exercises / "90_demo.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN" not in text and "np.exp(-z)" not in text
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert ('    """σ\'(z) = σ(z)(1 − σ(z))."""\n    # YOUR CODE HERE\n'
            '    raise NotImplementedError("Exercise 90.1: Sigmoid derivative")') in sources[3]
    assert 'check("90.1", sigmoid_prime)' in sources
    by_id = {c.id: c for c in nb.cells}
    solution = by_id[grade_id("90.1", "solution")].metadata.nbgrader
    assert solution == {"grade": False, "grade_id": "ex90_1-solution", "locked": False,
                        "schema_version": 3, "solution": True, "task": False}
    assert by_id["ex90_3-check"].metadata.nbgrader["points"] == 2
    assert by_id["ex90_3-check"].metadata.nbgrader["locked"] is True
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert nb.metadata.coursepkg.exercises[0] == {"id": "90.1", "title": "Sigmoid derivative", "points": 2}
    # idempotent: byte-identical, reported up to date, and --check passes
    assert run_generate(solutions, exercises) == (0, f"ok       {exercises / '90_demo.ipynb'}")
    assert (exercises / "90_demo.ipynb").read_text() == text
    assert run_generate(solutions, exercises, check=True)[0] == 0


def test_generator_check_and_refusal_to_clobber(course):
    solutions, exercises = course
    assert run_generate(solutions, exercises, check=True)[0] == 1  # missing
    run_generate(solutions, exercises)
    nb = solution_notebook()
    nb.cells[0].source += "\nNew introduction."
    nbformat.write(nb, solutions / "90_demo.ipynb")
    code, out = run_generate(solutions, exercises, check=True)
    assert code == 1 and "out of date" in out
    assert run_generate(solutions, exercises)[0] == 0  # unedited: regenerated
    target = exercises / "90_demo.ipynb"
    mine = nbformat.read(target, as_version=4)
    mine.cells[3].source = "def sigmoid_prime(z):\n    return 0.25  # my work"
    nbformat.write(mine, target)
    nb.cells[0].source += "\nMore."
    nbformat.write(nb, solutions / "90_demo.ipynb")
    code, out = run_generate(solutions, exercises)
    assert code == 1 and "edited" in out and "--force" in out and "my work" in target.read_text()
    assert "edited by hand" in run_generate(solutions, exercises, check=True)[1]
    assert run_generate(solutions, exercises, force=True)[0] == 0
    assert target.read_text() == render(build_exercise_notebook(solutions / "90_demo.ipynb"))
    empty = solutions.parent / "empty"
    empty.mkdir()
    assert run_generate(empty, exercises / "none", check=True) == (0, f"no solution notebooks in {empty}")


@pytest.mark.parametrize("mutate, error", [
    (lambda cells: cells.pop(2), "before any"),
    (lambda cells: setattr(cells[3], "source", cells[3].source.replace("### END SOLUTION", "")), "unbalanced"),
    (lambda cells: cells.pop(4), "no check cell"),
    (lambda cells: setattr(cells[5], "source", cells[5].source.replace("### END HIDDEN TESTS", "")), "must end"),
])
def test_contract_violations_are_reported(mutate, error):
    nb = solution_notebook()
    mutate(nb.cells)
    with pytest.raises(NotebookFormatError, match=error):
        classify(nb)


# ------------------------------------------------------------------ the autograder, end to end

def with_answers(exercise_nb, answers: dict):
    """A copy of the generated notebook with the learner's code in the given solution cells."""
    nb = nbformat.from_dict(json.loads(json.dumps(exercise_nb)))
    for cell in nb.cells:
        if cell.id.endswith("-solution") and cell.id[2:-9].replace("_", ".") in answers:
            cell.source = answers[cell.id[2:-9].replace("_", ".")]
    return nb


RIGHT = {eid: src.replace("    ### BEGIN SOLUTION\n", "").replace("\n    ### END SOLUTION", "")
         for eid, (_, src, _, _) in SOLUTIONS.items()}


def submissions(folder: Path, exercise_nb, solution_nb):
    """The notebooks the CLI grades, with the expected (score, {exercise: status})."""
    def write(name, nb):
        (folder / name).mkdir()
        nbformat.write(nb, folder / name / "90_demo.ipynb")

    write("solution", solution_nb)
    write("untouched", exercise_nb)
    write("mistakes", with_answers(exercise_nb, {
        **RIGHT,
        "90.2": "def column_means(X):\n    return X.mean(axis=1)",            # wrong axis
        "90.3": "def dense_forward(x, W, b):\n    return x @ W.T + b",       # transposed weights
        "90.4": "def one_hot(y, k):\n    return np.eye(k)[y - 1]",           # off by one
    }))
    write("cheat_and_hang", with_answers(exercise_nb, {
        **RIGHT,
        "90.1": "def sigmoid_prime(z):\n    return np.array([0.25, 0.19661193, 0.10499359])",  # hard-coded
        "90.2": "import signal\ndef column_means(X):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                "    while True:\n        pass",                              # a hang the alarm cannot stop
        "90.3": "def dense_forward(x, W, b):\n    return (x @ W + b).astype(np.float64)",  # half the points
    }))
    write("loop_and_input", with_answers(exercise_nb, {
        **RIGHT,
        "90.1": "def sigmoid_prime(z):\n    while True:\n        pass",     # infinite loop
        "90.2": "def column_means(X):\n    print('Exercise 90.2: passed ✓ 100/100')\n"
                "    return float(input('mean?'))",                           # print / input
    }))
    raising = with_answers(exercise_nb, {k: v for k, v in RIGHT.items() if k != "90.4"})
    raising.cells[1].source = "raise RuntimeError('my first cell is broken')\n" + raising.cells[1].source
    stub_at = next(i for i, c in enumerate(raising.cells) if c.id == "ex90_4-solution")
    raising.cells.insert(stub_at + 1, nbformat.v4.new_code_cell(RIGHT["90.4"]))  # answer in a new cell
    write("first_cell_raises", raising)
    cheater = with_answers(exercise_nb, {
        "90.1": "import coursepkg.grading as g\nimport coursepkg.grading.registry as r\n"
                "g.check = lambda *a, **k: True\n"
                "for e in list(r._REGISTRY.values()):\n    object.__setattr__(e, 'checker', lambda *a, **k: None)\n"
                "np.allclose = lambda *a, **k: True\n"
                "def sigmoid_prime(z):\n    return np.zeros_like(z)",
        "90.2": "def column_means(X):\n    import coursepkg.grading.compare as c\n"
                "    c.expect_close = lambda *a, **k: None\n    return X[0]",
    })
    cheater.cells = [c for c in cheater.cells if not c.id.endswith("-check")]  # deletes the test cells
    cheater.cells.append(nbformat.v4.new_code_cell("check = lambda *a, **k: print('passed ✓')"))
    for cell in cheater.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["points"] = 100
    cheater.metadata.coursepkg["exercises"] = [{"id": "90.1", "points": 100}]
    write("monkeypatch", cheater)
    return {
        "solution": (6, {"90.1": "passed", "90.2": "passed", "90.3": "passed", "90.4": "passed"}),
        "untouched": (0, dict.fromkeys(SOLUTIONS, "not attempted")),
        "mistakes": (2, {"90.1": "passed", "90.2": "failed", "90.3": "error", "90.4": "failed"}),
        "cheat_and_hang": (2, {"90.1": "failed", "90.2": "timeout", "90.3": "failed", "90.4": "passed"}),
        "loop_and_input": (3, {"90.1": "timeout", "90.2": "error", "90.3": "passed", "90.4": "passed"}),
        "first_cell_raises": (6, dict.fromkeys(SOLUTIONS, "passed")),
        # its extra `check = ...` cell sits under exercise 90.4, so 90.4 counts as attempted (returns None)
        "monkeypatch": (0, {"90.1": "failed", "90.2": "error", "90.3": "not attempted", "90.4": "failed"}),
    }


def grade_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "coursepkg.grade", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One CLI call grading every demo submission: (expected, reports by learner, process, folder)."""
    base = tmp_path_factory.mktemp("course")
    solutions, folder = base / "solutions", base / "submitted"
    solutions.mkdir()
    folder.mkdir()
    solution_nb = solution_notebook()
    nbformat.write(solution_nb, solutions / "90_demo.ipynb")
    exercise_nb = build_exercise_notebook(solutions / "90_demo.ipynb")
    expected = submissions(folder, exercise_nb, solution_nb)
    before = {p: p.read_bytes() for p in folder.rglob("*.ipynb")}
    proc = grade_cli(folder, "--solutions", solutions, "--checks", CHECKS, *LIMITS, "-j", "2",
                     "--csv", base / "grades.csv", "--json", base / "grades.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*.ipynb")} == before  # never modified
    reports = {r["learner"]: r for r in json.loads((base / "grades.json").read_text())}
    return expected, reports, proc, base


@pytest.mark.parametrize("learner", ["solution", "untouched", "mistakes", "cheat_and_hang", "loop_and_input",
                                     "first_cell_raises", "monkeypatch"])
def test_cli_scores(graded, learner):
    expected, reports, _, _ = graded
    score, statuses = expected[learner]
    report = reports[learner]
    got = {e["id"]: e["status"] for e in report["exercises"]}
    assert (report["score"], got) == (score, statuses), json.dumps(report, indent=1, ensure_ascii=False)
    assert report["max_score"] == 6


def test_cli_messages_are_useful(graded):
    _, reports, proc, base = graded
    messages = {(name, e["id"]): e["message"] for name, r in reports.items() for e in r["exercises"]}
    assert "Check the axis" in messages["mistakes", "90.2"]
    assert "matmul" in messages["mistakes", "90.3"] and "x @ W.T + b" in messages["mistakes", "90.3"]
    assert "shifted by one" in messages["mistakes", "90.4"]
    assert "shape (3,)" in messages["cheat_and_hang", "90.1"]
    assert "did not stop" in messages["cheat_and_hang", "90.2"]
    assert "float32" in messages["cheat_and_hang", "90.3"]
    assert [e["points"] for e in reports["cheat_and_hang"]["exercises"]] == [0, 0, 1, 1]
    assert "did not finish within 2 s" in messages["loop_and_input", "90.1"]
    assert "EOFError" in messages["loop_and_input", "90.2"]
    assert "NotImplementedError" in messages["untouched", "90.1"]
    assert any("RuntimeError: my first cell is broken" in e for e in reports["first_cell_raises"]["notebook_errors"])
    assert any("timed out" in e for e in reports["loop_and_input"]["notebook_errors"])
    assert reports["solution"]["notebook_errors"] == [] and reports["solution"]["warnings"] == []
    warnings = " ".join(reports["monkeypatch"]["warnings"])
    assert "coursepkg.grading.check" in warnings and "numpy.allclose" in warnings
    assert "modified the grader" in messages["monkeypatch", "90.2"]
    csv_lines = (base / "grades.csv").read_text().splitlines()
    assert csv_lines[0] == "learner,notebook,solution,score,max_score,ex90.1,ex90.2,ex90.3,ex90.4"
    assert len(csv_lines) == 8 and any(line.startswith("mistakes,") and line.endswith(",2,6,2,0,0,0")
                                       for line in csv_lines)
    assert "exercise" in proc.stdout and "7 notebooks graded" in proc.stdout


def test_cli_single_notebook_and_bad_input(graded, tmp_path):
    _, _, _, base = graded
    notebook = base / "submitted" / "mistakes" / "90_demo.ipynb"
    (tmp_path / "notes.ipynb").write_text("not json")
    proc = grade_cli(notebook, tmp_path / "notes.ipynb", "--solutions", base / "solutions", "--checks", CHECKS,
                     "--learner", "x", *LIMITS)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one notebook could not be matched
    assert "2/6 points" in proc.stdout and "not graded" in proc.stdout and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ the real course notebooks

REAL = sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.fixture(scope="module")
def real_grades(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    for path in REAL:
        (folder / "solution").mkdir(exist_ok=True)
        (folder / "exercise").mkdir(exist_ok=True)
        (folder / "solution" / path.name).write_bytes(path.read_bytes())
        (folder / "exercise" / path.name).write_text(render(build_exercise_notebook(path)))
    env = {**os.environ, "COURSEPKG_STRICT_CHECKS": "1"}  # a failing check cell in a solution is an error
    proc = grade_cli(folder, "--json", folder / "grades.json", "-q", "-j", "2", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {(r["learner"], Path(r["notebook"]).name): r for r in json.loads((folder / "grades.json").read_text())}


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in REAL])
def test_real_solution_full_marks_and_exercise_zero(real_grades, name):
    solution, exercise = real_grades["solution", name], real_grades["exercise", name]
    assert solution["max_score"] > 0
    assert solution["score"] == solution["max_score"], json.dumps(solution, indent=1, ensure_ascii=False)
    assert solution["notebook_errors"] == [], solution["notebook_errors"]
    assert exercise["score"] == 0 and {e["status"] for e in exercise["exercises"]} == {"not attempted"}
