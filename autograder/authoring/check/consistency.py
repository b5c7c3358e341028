"""The fast part of `course check`, also run by `course release`: do the hidden tests collect, and do they
agree with the notebook?

- the hidden tests collect: every module imports (shared modules beside them included), with the file and
  line of any error, and every test has one `points(...)` and one `grades(...)`;
- every `grades(...)` tag names a graded function of the source notebook, and every graded function has
  hidden tests;
- each graded cell's points equal the hidden points of its function.
Nothing here runs student code or a sandbox: it imports the hidden tests on the trusted side, as grading does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from pathlib import Path

import pytest

from autograder.authoring.check.findings import FAILED, OK, Finding
from autograder.course import Assignment
from autograder.course.cells import GRADE_CELL_PREFIX, NotebookError, load_notebook
from autograder.course.imports import modules_beside
from autograder.grading.engine import pytest_arguments


@dataclasses.dataclass(frozen=True)
class HiddenTest:
    id: str  # pytest's node id, as results.json keys it
    function: str | None  # its grades(...) tag
    points: float | None
    where: str  # file:line of its def, relative to the hidden tests' folder


class _Collector:
    """A pytest plugin that only collects: the tests found, and every module that failed to collect."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.tests: list[HiddenTest] = []
        self.errors: list[str] = []
        self.usage: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(_collection_error(report, self.folder))

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            tags = {}
            for name in ("grades", "points"):
                markers = list(item.iter_markers(name))
                if len(markers) != 1 or len(markers[0].args) != 1:
                    self.usage.append(f"{item.nodeid} needs exactly one @pytest.mark.{name}(...)")
                    tags[name] = None
                else:
                    tags[name] = markers[0].args[0]
            points = tags["points"]
            if points is not None and (isinstance(points, bool) or not isinstance(points, int | float) or points <= 0):
                self.usage.append(f"{item.nodeid}: points must be a positive number, not {points!r}")
                points = None
            function = tags["grades"] if isinstance(tags["grades"], str) else None
            if tags["grades"] is not None and function is None:
                self.usage.append(f"{item.nodeid}: grades(...) takes the function's name, not {tags['grades']!r}")
            path, line, _ = item.location
            points = float(points) if points else None
            self.tests.append(HiddenTest(item.nodeid, function, points, f"{path}:{line + 1}"))


def _collection_error(report: pytest.CollectReport, folder: Path) -> str:
    """A module that did not collect, in a few lines: where (file and line in the hidden tests) and what."""
    text = report.longreprtext
    root = str(folder.resolve())
    where = [line.strip() for line in text.splitlines() if root in line]
    what = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    lines = [w.replace(root + "/", "") for w in where[-2:]] + what[-3:]
    return f"{Path(report.nodeid).name or report.nodeid}: " + ("\n".join(lines) or text.strip()[-400:])


def collect(assignment: Assignment) -> _Collector:
    """Collect the assignment's hidden tests as grading would, without running any."""
    assignment.course.make_importable()
    collector = _Collector(assignment.tests)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), modules_beside(assignment.tests):
        pytest.main([*pytest_arguments(assignment), "--collect-only"], plugins=[collector])
    return collector


def notebook_points(assignment: Assignment) -> dict[str, float]:
    """Each graded function's points, from its graded cell (`test_<function>`) in the source notebook."""
    found = {}
    for cell in load_notebook(assignment.source_notebook)["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("grade") and isinstance(grade_id, str) and grade_id.startswith(GRADE_CELL_PREFIX):
            points = meta.get("points", 0)
            found[grade_id.removeprefix(GRADE_CELL_PREFIX)] = float(points) if isinstance(points, int | float) else 0.0
    return found


def check_consistency(assignment: Assignment) -> list[Finding]:
    """Collection and agreement with the notebook; a FAILED finding for each problem, else one OK."""
    if not assignment.tests.is_dir() or not any(assignment.tests.glob("test_*.py")):
        return [Finding("consistency", FAILED, assignment.name, f"no hidden tests (test_*.py) in {assignment.tests}")]
    try:
        cells = notebook_points(assignment)
    except (OSError, NotebookError) as exc:
        return [Finding("consistency", FAILED, assignment.name, f"the source notebook cannot be read: {exc}")]
    collector = collect(assignment)
    found = [Finding("collection", FAILED, "hidden tests", error) for error in collector.errors]
    found += [Finding("collection", FAILED, "hidden tests", usage) for usage in collector.usage]
    if not collector.tests and not collector.errors:
        found.append(Finding("collection", FAILED, "hidden tests", f"no test_*.py test found in {assignment.tests}"))
    hidden: dict[str, float] = {}
    for test in collector.tests:
        if test.function is not None and test.points is not None:
            hidden[test.function] = hidden.get(test.function, 0.0) + test.points
    for test in collector.tests:
        if test.function is not None and test.function not in cells:
            known = ", ".join(cells) or "none"
            found.append(Finding("consistency", FAILED, test.function,
                                 f"{test.where}: grades({test.function!r}) names no graded function of the "
                                 f"notebook (graded: {known})"))  # fmt: skip
    for function, points in cells.items():
        if function not in hidden:
            if not collector.errors:  # a module that did not import may hold them
                found.append(
                    Finding(
                        "consistency",
                        FAILED,
                        function,
                        f"the graded cell test_{function} has no hidden test (no grades({function!r}))",
                    )
                )
        elif abs(hidden[function] - points) > 1e-9:
            found.append(Finding("consistency", FAILED, function,
                                 f"the graded cell test_{function} has {points:g} points, its hidden tests "
                                 f"{hidden[function]:g}: make them equal"))  # fmt: skip
    if not found:
        total = sum(cells.values())
        found.append(Finding("consistency", OK, assignment.name,
                             f"{len(collector.tests)} hidden tests of {len(cells)} functions collect; "
                             f"points agree ({total:g})"))  # fmt: skip
    return found
