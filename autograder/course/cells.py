"""A notebook read as data, and the grade-cell conventions every stage shares.

Only JSON parsing happens here, on the trusted side; nothing in a notebook is executed. `load_notebook` checks
the type of every field the kit reads, so no later stage meets a string where it expects an object. Convention: the
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


OBJECT, LIST, STRING = (dict, "an object"), (list, "a list"), (str, "a string")
CELL_FIELDS = {"cell_type": STRING, "id": STRING, "metadata": OBJECT, "outputs": LIST, "attachments": OBJECT}
OUTPUT_FIELDS = {"output_type": STRING, "name": STRING, "data": OBJECT, "metadata": OBJECT}


def _kind(value) -> str:
    """A JSON value's type, in JSON's words."""
    for python_type, name in ((bool, "a boolean"), (dict, "an object"), (list, "a list"), (str, "a string")):
        if isinstance(value, python_type):
            return name
    return "null" if value is None else "a number"


def _check(value, python_type: type, path: str, wanted: str) -> None:
    if not isinstance(value, python_type):
        raise NotebookError(f"not a valid notebook: {path} is {_kind(value)}, not {wanted}")


def _check_fields(obj: dict, path: str, fields: dict[str, tuple[type, str]]) -> None:
    for key, (python_type, wanted) in fields.items():
        if key in obj:
            _check(obj[key], python_type, f"{path}.{key}" if path else key, wanted)


def _check_text(value, path: str) -> None:
    """Jupyter's multiline strings: a string, or a list of strings."""
    if isinstance(value, list):
        for index, part in enumerate(value):
            _check(part, str, f"{path}[{index}]", "a string")
    else:
        _check(value, str, path, "a string or a list of strings")


def check_notebook(notebook) -> None:
    """Every field the kit reads has its JSON type, else NotebookError names the first that does not by its
    path ("cells[3].metadata.nbgrader is a string, not an object"). An absent field is the reader's to
    default; fields the kit never reads are not checked."""
    _check(notebook, dict, "the top level", "an object")
    _check_fields(notebook, "", {"metadata": OBJECT})
    if "cells" not in notebook:
        raise NotebookError("not a valid notebook: it has no cells")
    _check(notebook["cells"], list, "cells", "a list")
    for index, cell in enumerate(notebook["cells"]):
        path = f"cells[{index}]"
        _check(cell, dict, path, "an object")
        _check_fields(cell, path, CELL_FIELDS)
        if "source" in cell:
            _check_text(cell["source"], f"{path}.source")
        metadata = cell.get("metadata", {})
        if "nbgrader" in metadata:
            _check(metadata["nbgrader"], dict, f"{path}.metadata.nbgrader", "an object")
            _check_fields(metadata["nbgrader"], f"{path}.metadata.nbgrader", {"grade_id": STRING})
        for number, output in enumerate(cell.get("outputs", [])):
            where = f"{path}.outputs[{number}]"
            _check(output, dict, where, "an object")
            _check_fields(output, where, OUTPUT_FIELDS)
            if "text" in output:
                _check_text(output["text"], f"{where}.text")


def grade_ids(notebook: dict) -> set[str]:
    """The nbgrader grade ids of a notebook that load_notebook read (so every field has its type)."""
    ids = set()
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            ids.add(grade_id)
    return ids


def load_notebook(path: Path) -> dict:
    """Parse the JSON of a notebook file and check its fields' types, with a plain-words error for every way it
    can be broken."""
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
    check_notebook(notebook)
    return notebook
