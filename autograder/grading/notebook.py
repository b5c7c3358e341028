"""Reading a submitted notebook as data: its code cells, or a clear reason why it cannot be graded.

Only JSON parsing happens here, on the trusted side; nothing in the notebook is executed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


class NotebookError(ValueError):
    """The file is not a gradable notebook of this assignment; str(self) says why, for the student."""


def _text(source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    raise NotebookError("a cell's source is neither text nor a list of lines")


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
    for cell in cells:
        if not isinstance(cell, dict):
            raise NotebookError("a cell is not a JSON object")
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
