"""The two install routes (pip's pyproject.toml, conda's environment.yml) must agree, and CI
must run the test command the README gives."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _normalize(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def pyproject_requirements() -> set:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return {_normalize(r) for r in reqs}


def conda_requirements() -> set:
    """Top-level entries of the ``dependencies:`` list (not python, pip or the pip section)."""
    reqs, in_deps = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"^  - ([^\s#:]+)\s*$", line)
        if in_deps and m:
            name, spec = _normalize(m.group(1))
            if name not in ("python", "pip"):
                reqs.add((name, spec))
    return reqs


def test_pyproject_and_environment_list_the_same_dependencies():
    pip, conda = pyproject_requirements(), conda_requirements()
    assert pip == conda, f"only in pyproject: {sorted(pip - conda)}; only in environment.yml: {sorted(conda - pip)}"


def test_runtime_dependencies_named_by_the_course_are_declared():
    names = {n for n, _ in pyproject_requirements()}
    assert {"numpy", "scipy", "matplotlib", "ipywidgets", "jupyterlab", "tqdm",
            "pytest", "nbval", "pytest-xdist", "ruff"} <= names


def test_environment_installs_the_package_in_editable_mode():
    assert re.search(r"^\s+- -e \.\s*$", (ROOT / "environment.yml").read_text(), re.M)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M)
    assert "COURSEPKG_DATA" in ci and "shared/data" in ci
