"""The release: nbgrader makes the student folder, it carries no solution, no hidden test and no path to the
grader, the untouched notebook runs with clean "not implemented yet" reports, and with the reference code
pasted into its stubs every public check passes."""

import inspect
import re
import shutil

import nbformat
import pytest

from autograder.authoring.release import ReleaseError, release
from solutions import line_fit as reference
from tests.support import ROOT
from tests.support.notebook_runner import (
    CHECK_HEADER,
    GRADED,
    SOURCE_NOTEBOOK,
    cell_by_grade_id,
    errors,
    execute,
    grade_id,
    source,
    stream_text,
)

pytestmark = pytest.mark.slow

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
FORBIDDEN = [
    re.compile(pattern)
    for pattern in (
        r"BEGIN SOLUTION",
        r"END SOLUTION",
        r"BEGIN HIDDEN TESTS",
        r"hidden_tests",
        r"autograder",
        r"\bsolutions\b",  # a path, an import or a mention of the reference solutions
    )
]
WHERE_FROM = """import course_utils, sys
print(course_utils.__file__)
print(sorted(m for m in ("solutions", "autograder") if m in sys.modules))"""


def test_release_holds_notebook_public_tests_and_course_utils(released):
    assert released.name == "line_fit" and released.parent.name == "release"
    assert (released / "line_fit.ipynb").is_file()
    for name in GRADED:
        assert (released / "public_tests" / f"test_{name}.py").is_file()
    assert (released / "public_tests" / "pytest.ini").is_file()
    for module in ("__init__", "check", "data", "plots"):
        assert (released / "course_utils" / f"{module}.py").is_file()
    assert not list(released.rglob("__pycache__"))


def _distinctive_solution_lines() -> set[str]:
    """Lines of the source notebook's solution regions that appear nowhere else in it (prose included)."""
    notebook = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    solution_lines, elsewhere = set(), []
    for cell in notebook.cells:
        text = source(cell)
        for region in SOLUTION_REGION.findall(text):
            solution_lines |= {line.strip() for line in region.splitlines() if len(line.strip()) >= 8}
        elsewhere.append(SOLUTION_REGION.sub("", text))
    rest = "\n".join(elsewhere)
    return {line for line in solution_lines if line not in rest}


def test_no_solution_hidden_test_or_grader_path_leaks(released):
    distinctive = _distinctive_solution_lines()
    assert "return ((y_pred - y_true) ** 2).mean()" in distinctive
    assert "p -= lr * p.grad" in distinctive
    assert "grads = torch.autograd.grad(out, leaves)" in distinctive
    files = [path for path in released.rglob("*") if path.is_file()]
    assert len(files) >= 11
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in FORBIDDEN:
            assert not pattern.search(text), f"{path.relative_to(released)} matches {pattern.pattern!r}"
        for line in distinctive:
            assert line not in text, f"{path.relative_to(released)} holds the solution line {line!r}"


def test_stubs_raise_not_implemented(released):
    notebook = nbformat.read(released / "line_fit.ipynb", as_version=4)
    for name in GRADED:
        stub = source(cell_by_grade_id(notebook, f"{name}_solution"))
        assert re.search(rf"^def {name}\(", stub, re.MULTILINE)
        assert stub.rstrip().endswith("raise NotImplementedError()")
        assert source(cell_by_grade_id(notebook, f"test_{name}")) == f'check("{name}")'


def test_release_fails_clearly(make_course):
    course = make_course("broken", example=None)
    with pytest.raises(ReleaseError, match="no source folder"):
        release(course, "line_fit")
    broken = course.source / "line_fit"
    broken.mkdir(parents=True)
    (broken / "line_fit.ipynb").write_text("{ not a notebook")
    with pytest.raises(ReleaseError, match=r"not released(.|\n)*no hidden tests"):
        release(course, "line_fit")
    shutil.copytree(ROOT / "autograder" / "hidden_tests" / "line_fit", course.hidden_tests / "line_fit")
    with pytest.raises(ReleaseError, match=r"not released(.|\n)*source notebook cannot be read"):
        release(course, "line_fit")
    shutil.rmtree(course.course_utils)
    with pytest.raises(ReleaseError, match="no course_utils"):
        release(course, "line_fit")


def test_nbgrader_failing_is_a_clear_release_error(make_course):
    course = make_course("unbalanced", example="line_fit")
    notebook = course.source / "line_fit" / "line_fit.ipynb"
    text = notebook.read_text()
    assert "### END SOLUTION" in text
    notebook.write_text(text.replace("### END SOLUTION", "", 1))  # a solution region that never ends
    with pytest.raises(ReleaseError, match="nbgrader generate_assignment line_fit failed"):
        release(course, "line_fit")


def _run_release_notebook(released, notebook, **kwargs):
    notebook.cells.append(nbformat.v4.new_code_cell(WHERE_FROM))
    execute(notebook, released, **kwargs)
    where = stream_text(notebook.cells[-1]).splitlines()
    assert where[0].startswith(str(released / "course_utils")), "course_utils must come from the release"
    assert where[1] == "[]", "the release notebook imported the solutions or the grader"
    return notebook


def test_untouched_release_runs_with_clean_not_implemented_reports(released):
    notebook = _run_release_notebook(
        released, nbformat.read(released / "line_fit.ipynb", as_version=4), allow_errors=True
    )
    for name in GRADED:
        cell = cell_by_grade_id(notebook, f"test_{name}")
        assert not errors(cell), f"check({name!r}) raised"
        text = stream_text(cell)
        assert text.startswith(f"{name} is not implemented yet"), text
        assert "Traceback" not in text and "hidden tests decide your grade" in text
        assert not stream_text(cell, "stderr")
    failing = {grade_id(cell) or source(cell)[:30] for cell in notebook.cells if errors(cell)}
    assert all(
        e.ename in ("NotImplementedError", "NameError", "ValueError", "TypeError")
        for cell in notebook.cells
        for e in errors(cell)
    ), failing


def test_release_with_the_reference_pasted_in_passes_every_check(released):
    notebook = nbformat.read(released / "line_fit.ipynb", as_version=4)
    for name in GRADED:
        cell_by_grade_id(notebook, f"{name}_solution").source = inspect.getsource(getattr(reference, name))
    notebook = _run_release_notebook(released, notebook)  # raises on any error
    for name in GRADED:
        text = stream_text(cell_by_grade_id(notebook, f"test_{name}"))
        match = CHECK_HEADER.search(text)
        assert match and match.group(1) == name and match.group(2) == match.group(3), text
