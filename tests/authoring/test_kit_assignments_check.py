"""`course check` on each of the kit's own assignments, on a course made with `course init --example`: the
hidden tests collect and agree with the notebook; the reference gets full marks on fresh draws; the untouched
release gets 0 and "not implemented"; every catalogue entry does what it says (correct variants at full marks,
each mistake loses points in its own function only, with a message, do-nothing entries 0, every hidden test
catches some mistake, a broken unrelated cell costs nothing); the thieves earn 0; no message shows hidden or
reference code; and every graded function reaches a mutation score of at least 90%.

Each assignment is checked once (with 3 draws: `course check` itself draws 20); the tests read its findings.
"""

from __future__ import annotations

import pytest

from autograder.authoring.check import catalogue
from autograder.authoring.check.consistency import notebook_points
from autograder.authoring.check.findings import OK, table
from autograder.authoring.check.run import MUTATION_SCORE, check_course

pytestmark = pytest.mark.slow

ASSIGNMENTS = ("line_fit", "mlp_spirals")
MINIMUM = {"line_fit": (5, 10), "mlp_spirals": (10, 25)}  # correct variants, mistakes
EVERY_CHECK = {"consistency", "draws", "release", "catalogue", "thieves", "messages", "mutants"}


@pytest.fixture(scope="module")
def checked(make_course):
    """name -> (its course, its findings), each assignment checked once, on first use."""
    done = {}

    def check(name):
        if name not in done:
            course = make_course(f"check-{name}", example=name)
            done[name] = course, check_course(course, [name], draws=3, progress=lambda line: None)[name]
        return done[name]

    return check


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_course_check_passes_every_check(checked, name):
    _, findings = checked(name)
    assert not [f for f in findings if f.failed], table(name, findings)
    assert EVERY_CHECK <= {f.check for f in findings if f.status == OK}, table(name, findings)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_function_reaches_the_mutation_score(checked, name):
    course, findings = checked(name)
    scores = {f.subject: f.detail for f in findings if f.check == "mutants"}
    assert set(scores) == set(notebook_points(course.assignment(name)))
    for function, detail in scores.items():
        score = int(detail.removeprefix("mutation score ").split("%")[0]) / 100
        assert score >= MUTATION_SCORE, f"{function}: {detail}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_points_sum_to_twenty(checked, name):
    course, _ = checked(name)
    assert sum(notebook_points(course.assignment(name)).values()) == 20


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_catalogue_is_large_enough(checked, name):
    course, _ = checked(name)
    assignment = course.assignment(name)
    book = catalogue.load(assignment)
    least_correct, least_mistakes = MINIMUM[name]
    assert len(book.CORRECT) >= least_correct and len(book.MISTAKES) >= least_mistakes
    zeros = {entry.loses for entry in book.MISTAKES if entry.zero}
    assert zeros == set(notebook_points(assignment)), "every graded function has a do-nothing entry"
    assert getattr(book, "SYNTAX_ERROR_CELLS", None), "the catalogue breaks an unrelated cell"
