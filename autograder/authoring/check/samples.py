"""Built-in sample submissions, made from the release notebook: for the demo, the benchmark and the tests.

A sample is the student notebook with some stub cells (`def name(...)` ... `raise NotImplementedError`)
replaced by code: the reference solution, or a typical mistake. Any assignment of any course: its graded
functions are the source notebook's graded cells (`test_<function>`), their code the course's solution.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import textwrap
from pathlib import Path

from autograder.course import Assignment, import_file
from autograder.course.cells import GRADE_CELL_PREFIX


def graded_functions(assignment: Assignment) -> list[str]:
    """The graded functions, in the order of their graded cells in the source notebook."""
    notebook = read(assignment.source_notebook)
    ids = [(cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id", "") for cell in notebook["cells"]]
    return [i.removeprefix(GRADE_CELL_PREFIX) for i in ids if i.startswith(GRADE_CELL_PREFIX)]


def reference_sources(assignment: Assignment) -> dict[str, str]:
    """Each graded function's reference source, as a student would paste it into the stub cell."""
    path = assignment.course.solutions / f"{assignment.name}.py"
    reference = import_file(path, "reference")
    return {fn: inspect.getsource(getattr(reference, fn)) for fn in graded_functions(assignment)}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def stub_index(notebook: dict, name: str) -> int:
    """Index of the code cell that defines `name` at top level."""
    pattern = re.compile(rf"^def {re.escape(name)}\(", re.MULTILINE)
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") == "code" and pattern.search(_source(cell)):
            return index
    raise KeyError(f"no cell defines {name}()")


def fill_stubs(notebook: dict, sources: dict[str, str], extra_cells: tuple[str, ...] = ()) -> dict:
    """A copy of `notebook` with the named functions' cells replaced by `sources` (full `def` cells) and
    `extra_cells` appended as code cells (e.g. a cheat that runs after everything else)."""
    filled = copy.deepcopy(notebook)
    indices = {name: stub_index(notebook, name) for name in sources}  # found before any cell is replaced
    for name, source in sources.items():
        filled["cells"][indices[name]]["source"] = textwrap.dedent(source)
    for source in extra_cells:
        filled["cells"].append(
            {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
        )
    return filled


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(notebook: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
