"""A submitted notebook as the grader takes it in: its code cells, or a clear reason why it cannot be graded.

Only JSON parsing happens here (see course/cells.py), on the trusted side; nothing in the notebook is executed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from autograder.course.cells import NotebookError, grade_ids, load_notebook


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def code_cells(path: Path, expected_ids: set[str] | None = None) -> list[str]:
    """The code cells' sources, in order. `expected_ids`: the assignment's nbgrader grade ids; a notebook
    with none of them is another assignment's notebook."""
    notebook = load_notebook(path)
    cells = notebook["cells"]
    if not cells:
        raise NotebookError("the notebook has no cells")
    if expected_ids and not (grade_ids(notebook) & expected_ids):
        raise NotebookError("this notebook is not from this assignment (none of its graded cells are here)")
    sources = []
    for cell in cells:  # load_notebook checked each field's type
        if cell.get("cell_type") == "code":
            sources.append(_text(cell.get("source", "")))
    if not sources:
        raise NotebookError("the notebook has no code cells")
    return sources


def fingerprint(path: Path) -> str:
    """sha256 of the file's bytes: a rerun skips a submission whose notebook has not changed."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
