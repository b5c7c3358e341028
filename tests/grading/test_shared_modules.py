"""Code shared between hidden-test modules: a module beside the tests (`from common import ...`) is imported
on the trusted side for each run of the tests, read again when edited, and forgotten afterwards."""

import sys

from autograder.authoring.check import samples
from autograder.grading.engine import Grader


def test_a_module_beside_the_hidden_tests_is_imported_for_each_run_and_forgotten_after(make_course, tmp_path):
    course = make_course("shared")
    assignment = course.assignment("line_fit")
    common = assignment.tests / "common.py"
    common.write_text('MARK = "the first common.py"\n')
    test_file = assignment.tests / "test_mse.py"
    source = test_file.read_text()
    body = 'def test_value_float32(submission, rng):\n    """value matches on random float32 inputs'
    assert body in source
    test_file.write_text(
        "from common import MARK\nfrom autograder.testkit.expect import Mistake\n"
        + source.replace(body, 'def test_value_float32(submission, rng):\n    raise Mistake(MARK)\n    """x')
    )
    solved = samples.fill_stubs(samples.read(assignment.source_notebook), samples.reference_sources(assignment))
    notebook = samples.write(solved, tmp_path / "line_fit.ipynb")

    def message() -> str:
        (test,) = [t for t in grader.grade(notebook).tests if t.id.endswith("::test_value_float32")]
        return test.output

    with Grader(assignment) as grader:
        assert message() == "the first common.py"
        assert "common" not in sys.modules and str(assignment.tests.resolve()) not in sys.path
        common.write_text('MARK = "an edited common.py"\n')
        assert message() == "an edited common.py"  # the same grader reads the edited module
