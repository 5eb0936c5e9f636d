"""Convert notebooks between ``.ipynb`` and the "percent" text format, and strip outputs.

Authoring a notebook as text is easier to review and diff. The percent format is::

    # %% [markdown]
    # # Title
    # Some prose with $\\LaTeX$.

    # %%
    import numpy as np

Usage::

    python tools/nb.py to-ipynb SRC.py DEST.ipynb    # build a clean notebook from text
    python tools/nb.py to-py SRC.ipynb DEST.py       # the reverse, to edit as text
    python tools/nb.py clean NB.ipynb [NB ...]       # drop outputs and execution counts in place

Built notebooks carry no outputs and deterministic cell ids, so rebuilding is byte-identical.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

_MARKER = re.compile(r"^# %%(?:\s*\[(markdown|md|raw)\])?\s*(.*)$")


def _finish(kind: str, lines: list[str]):
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if kind == "markdown":
        text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)
        return nbformat.v4.new_markdown_cell(text)
    return nbformat.v4.new_code_cell("\n".join(lines))


def text_to_notebook(text: str) -> nbformat.NotebookNode:
    """Parse percent-format ``text`` into a clean notebook."""
    cells, kind, lines = [], None, []
    for line in text.splitlines():
        m = _MARKER.match(line)
        if m:
            if kind is not None:
                cells.append(_finish(kind, lines))
            kind = "markdown" if m.group(1) in ("markdown", "md") else "code"
            lines = []
        elif kind is not None:
            lines.append(line)
    if kind is not None:
        cells.append(_finish(kind, lines))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return normalize(nb)


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs and execution counts; number cell ids deterministically."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def notebook_to_text(nb: nbformat.NotebookNode) -> str:
    """Render a notebook in percent format (outputs are dropped)."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            body = "\n".join(("# " + line) if line else "#" for line in cell.source.splitlines())
            parts.append("# %% [markdown]\n" + body)
        else:
            parts.append("# %%\n" + cell.source)
    return "\n\n".join(parts) + "\n"


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-ipynb")
    a.add_argument("src", type=Path)
    a.add_argument("dest", type=Path)
    b = sub.add_parser("to-py")
    b.add_argument("src", type=Path)
    b.add_argument("dest", type=Path)
    c = sub.add_parser("clean")
    c.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.cmd == "to-ipynb":
        write(text_to_notebook(args.src.read_text(encoding="utf-8")), args.dest)
    elif args.cmd == "to-py":
        args.dest.write_text(notebook_to_text(nbformat.read(args.src, as_version=4)), encoding="utf-8")
    else:
        for p in args.paths:
            write(normalize(nbformat.read(p, as_version=4)), p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
