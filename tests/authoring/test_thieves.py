"""Thieves earn nothing: for every graded function of every assignment of the kit's course, a submission that
only looks for the answer at grading time (modules, gc, frames, files, state kept from an earlier call) gets
0 in that function; and the same thieves do earn points where the engine hands a function its own answers,
so the test can fail."""

import pytest

from autograder.authoring.check.thieves import thieves_notebook
from autograder.course import Course
from autograder.grading.engine import Grader
from autograder.sandbox.answers import Helpers
from tests.support import ROOT

ASSIGNMENTS = Course.at(ROOT).assignment_names()


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_thieves_earn_nothing(kit, name, tmp_path, monkeypatch):
    assignment = kit.assignment(name)
    notebook = thieves_notebook(assignment, tmp_path / f"{name}.ipynb")
    with Grader(assignment) as grader:
        results = grader.grade(notebook)
        earned = results.function_scores()
        print(f"\n{name}: thieves earned {earned} of {results.max_score:g}")
        assert results.tests and not results.load_error
        assert all(total == 0 for total in earned.values()), (earned, results.output)

        monkeypatch.setattr(Helpers, "withheld", lambda self, function: set())  # every process gets everything
        grader.helpers._sources.clear()
        handed = grader.grade(notebook).function_scores()
    print(f"{name}: with nothing withheld they would earn {handed}")
    assert all(handed[function] > 0 for function in grader.helpers.answered), handed
