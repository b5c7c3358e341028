"""A notebook read as data, and the grade-cell conventions every stage shares.

Only JSON parsing happens here, on the trusted side; nothing in a notebook is executed. Convention: the
source notebook has one graded test cell per graded function, named `test_<function>` (its points are that
function's hidden points), and one solution cell `<function>_solution`.
"""

from __future__ import annotations

import json
from pathlib import Path

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
GRADE_CELL_PREFIX = "test_"
SOLUTION_CELL_SUFFIX = "_solution"


class NotebookError(ValueError):
    """The file is not a gradable notebook of this assignment; str(self) says why, for the student."""


def grade_ids(notebook: dict) -> set[str]:
    ids = set()
    for cell in notebook.get("cells", []):
        grade_id = (cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id")
        if isinstance(grade_id, str):
            ids.add(grade_id)
    return ids


def load_notebook(path: Path) -> dict:
    """Parse the JSON of a notebook file, with a plain-words error for every way it can be broken."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotebookError(f"the file could not be read ({exc.strerror})") from None
    if size == 0:
        raise NotebookError("the file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is {size // 2**20} MB, over the {MAX_NOTEBOOK_BYTES // 2**20} MB limit")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("the file is not UTF-8 text, so it is not a notebook") from None
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"the file is not valid notebook JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise NotebookError("the file's JSON is nested too deeply to be a notebook") from None
    except ValueError:  # e.g. an integer with thousands of digits
        raise NotebookError("the file is not valid notebook JSON (a number is too long)") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("the file is JSON but not a Jupyter notebook (no list of cells)")
    return notebook
