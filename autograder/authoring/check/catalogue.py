"""An assignment's catalogue of submissions, for testing its hidden tests: correct variants that must get full
marks, correct but noisy code (prints, warnings), and common mistakes, each tagged with the one graded
function where it must lose points.

The catalogue is data kept with the assignment, in `hidden_tests/<assignment>/catalogue.py` (never released),
as module-level tuples of `Entry`: CORRECT, MISTAKES, and optionally NOISY (one Entry) and SYNTAX_ERROR_CELLS
(grade id -> broken code for a cell that no graded function needs). An entry replaces the stubs of some graded
functions with its code; every other function gets the reference's code, so a mistake can only cost points
where it is made. `course check` grades every entry with the real engine (authoring/check/run.py).
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path
from types import ModuleType

from autograder.authoring.check import samples
from autograder.course import Assignment, import_file

CATALOGUE_NAME = "catalogue.py"


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    sources: dict[str, str]  # graded function -> the whole code cell that replaces its stub
    loses: str | None = None  # the graded function that must lose points; None: full marks everywhere
    what: str = ""  # one line: what this submission does differently
    zero: bool = False  # a constant, empty or do-nothing function: it must earn nothing in `loses`
    fails: tuple[str, ...] = ()  # if given: the only hidden tests (function names) that may fail, all in `loses`


def load(assignment: Assignment) -> ModuleType:
    """The assignment's catalogue module."""
    return import_file(assignment.tests / CATALOGUE_NAME, "catalogue")


def correct(book: ModuleType) -> tuple[Entry, ...]:
    """The entries that must get full marks: the correct variants and the noisy one, if the catalogue has it."""
    return (*book.CORRECT, *([book.NOISY] if hasattr(book, "NOISY") else []))


def _grade_id_index(notebook: dict, grade_id: str) -> int:
    for index, cell in enumerate(notebook["cells"]):
        if (cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(f"the release notebook has no cell {grade_id!r}")


def build(release_notebook: Path, sources: dict[str, str], out: Path, cells: dict[str, str] | None = None) -> Path:
    """Write to `out` a copy of the release notebook with the stub cells of `sources` replaced by their code,
    and the cells named (by nbgrader grade id) in `cells` replaced too. Returns `out`."""
    notebook = samples.read(release_notebook)
    filled = samples.fill_stubs(notebook, {name: textwrap.dedent(code).lstrip("\n") for name, code in sources.items()})
    for grade_id, source in (cells or {}).items():
        filled["cells"][_grade_id_index(filled, grade_id)]["source"] = textwrap.dedent(source).lstrip("\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(filled, indent=1), encoding="utf-8")
    return out


def full(assignment: Assignment, entry: Entry) -> dict[str, str]:
    """The code of every graded function in this submission: the entry's, and the reference's for the rest."""
    return {**samples.reference_sources(assignment), **entry.sources}
