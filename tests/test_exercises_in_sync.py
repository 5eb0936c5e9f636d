"""exercises/ must be exactly what `python -m coursepkg.grading.generate` makes from solutions/.

Fix a failure with `make exercises` (or `python -m coursepkg.grading.generate`); never edit
exercises/ by hand. With no solution notebooks at all the test passes.
"""

from coursepkg.grading.generate import REPO_ROOT, generate


def test_exercises_match_solutions():
    lines = []
    code = generate(REPO_ROOT / "solutions", REPO_ROOT / "exercises", check=True, out=lines.append)
    assert code == 0, "\n".join(lines)
