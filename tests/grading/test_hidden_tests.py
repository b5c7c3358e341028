"""The hidden tests of each assignment of the kit's course, graded by the real engine against the assignment's
catalogue of submissions (hidden_tests/<assignment>/catalogue.py).

Full marks for the reference and for every correct way of writing a function; for each common mistake,
points lost in its own function and nowhere else (all of them for a constant or do-nothing function); zero and
"not implemented" for the untouched release; a broken unrelated cell costs nothing; and no message shows
hidden-test or reference code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autograder.authoring.release import release
from autograder.course import Course
from autograder.authoring.check import catalogue
from autograder.grading.engine import Grader
from autograder.grading.results import Results
from tests.support import ROOT

pytestmark = pytest.mark.slow

ASSIGNMENTS = ("line_fit", "mlp_spirals")
MINIMUM = {"line_fit": (5, 10), "mlp_spirals": (10, 25)}  # correct variants, mistakes
REFERENCE, UNTOUCHED, SYNTAX_ERROR = "reference", "untouched_release", "syntax_error_in_unrelated_cell"


def cases(kind: str) -> list:
    """(assignment, entry name) pairs of one kind: correct, mistake."""
    found = []
    for name in ASSIGNMENTS:
        book = catalogue.load(Course.at(ROOT).assignment(name))
        chosen = book.MISTAKES if kind == "mistake" else catalogue.correct(book)
        found += [pytest.param(name, entry.name, id=f"{name}-{entry.name}") for entry in chosen]
    return found


class CatalogueGrader:
    """grade(name) -> the results of that catalogue submission of one assignment; each is graded once."""

    def __init__(self, assignment, release_notebook: Path, folder: Path):
        self.assignment, self.release_notebook, self.folder = assignment, release_notebook, folder
        self.book = catalogue.load(assignment)
        self.entries = {e.name: e for e in (*catalogue.correct(self.book), *self.book.MISTAKES)}
        self.points = catalogue.points(assignment)
        self.reference = catalogue.full(assignment, catalogue.Entry(REFERENCE, {}))
        self.results: dict[str, dict] = {}
        self.grader = Grader(assignment)

    def notebook(self, name: str) -> Path:
        reference = self.reference
        out = self.folder / f"{name}.ipynb"
        if name == UNTOUCHED:
            return self.release_notebook
        if name == SYNTAX_ERROR:
            return catalogue.build(self.release_notebook, reference, out, cells=self.book.SYNTAX_ERROR_CELLS)
        if name == REFERENCE:
            return catalogue.build(self.release_notebook, reference, out)
        return catalogue.build(self.release_notebook, {**reference, **self.entries[name].sources}, out)

    def __call__(self, name: str) -> dict:
        if name not in self.results:
            self.results[name] = self.grader.grade(self.notebook(name)).data
        return self.results[name]


@pytest.fixture(scope="module")
def graders(make_course, tmp_path_factory):
    """One grader per assignment, on a course made with `course init --example`, sandboxes closed at the end."""
    made = {}
    yield lambda name: made.get(name) or made.setdefault(name, _grader(name, make_course, tmp_path_factory))
    for grader in made.values():
        grader.grader.close()


def _grader(name: str, make_course, tmp_path_factory) -> Grader:
    course = make_course(name, example=name)
    notebook = release(course, name) / f"{name}.ipynb"
    return CatalogueGrader(course.assignment(name), notebook, tmp_path_factory.mktemp(f"{name}-submissions"))


def per_function(results: dict) -> dict[str, float]:
    return Results(results).function_scores()


def failures(results: dict) -> str:
    return "\n".join(f"{t['name']}: {t['output']}" for t in results["tests"] if t["status"] != "passed")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_points_per_function_match_the_notebook(graders, name):
    grade = graders(name)
    maxima = Results(grade(REFERENCE)).function_max_scores()
    assert maxima == grade.points and sum(maxima.values()) == 20


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_gets_full_marks(graders, name):
    results = graders(name)(REFERENCE)
    assert results["score"] == results["max_score"] == 20, failures(results)
    assert all(t["output"] == "" for t in results["tests"])


@pytest.mark.parametrize(("name", "entry"), cases("correct"))
def test_correct_variant_gets_full_marks(graders, name, entry):
    results = graders(name)(entry)
    assert results["score"] == results["max_score"] == 20, failures(results)


@pytest.mark.parametrize(("name", "entry"), cases("mistake"))
def test_mistake_loses_points_in_its_own_function_only(graders, name, entry):
    grade = graders(name)
    mistake = grade.entries[entry]
    results = grade(entry)
    scores = per_function(results)
    assert scores[mistake.loses] < grade.points[mistake.loses], f"{mistake.what}: not caught"
    if mistake.zero:
        assert scores[mistake.loses] == 0, f"{mistake.what}: earns {scores[mistake.loses]}\n{failures(results)}"
    if mistake.fails:  # a right value of the wrong type: only the tests about the type may fail
        failed = {t["id"].rsplit("::", 1)[-1] for t in results["tests"] if t["status"] != "passed"}
        assert failed == set(mistake.fails), f"{mistake.what}\n{failures(results)}"
    others = {f: s for f, s in scores.items() if f != mistake.loses}
    assert others == {f: grade.points[f] for f in others}, failures(results)
    for test in results["tests"]:
        if test["status"] != "passed":
            assert test["output"].strip(), f"{test['name']} failed without a message"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_catalogue_is_large_enough(graders, name):
    book = graders(name).book
    least_correct, least_mistakes = MINIMUM[name]
    assert len(book.CORRECT) >= least_correct and len(book.MISTAKES) >= least_mistakes
    zeros = {entry.loses for entry in book.MISTAKES if entry.zero}
    assert zeros == set(graders(name).points), "every graded function has a do-nothing entry"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_hidden_test_catches_some_mistake(graders, name):
    grade = graders(name)
    names = {t["name"] for t in grade(REFERENCE)["tests"]}
    failed = {t["name"] for e in grade.book.MISTAKES for t in grade(e.name)["tests"] if t["status"] != "passed"}
    assert names - failed == set()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_release_gets_nothing_and_says_not_implemented(graders, name):
    results = graders(name)(UNTOUCHED)
    assert results["score"] == 0
    for test in results["tests"]:
        assert test["status"] == "failed"
        assert "not implemented" in test["output"], test


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_syntax_error_in_an_unrelated_cell_costs_nothing(graders, name):
    results = graders(name)(SYNTAX_ERROR)
    assert results["score"] == 20, failures(results)
    assert "SyntaxError" in results["output"]


def _secret_lines(grade: Grader) -> set[str]:
    """Lines of the reference solutions and of the hidden tests that the release does not show students."""
    public = {line.strip() for cell in json.loads(grade.release_notebook.read_text())["cells"]
              for line in "".join(cell["source"]).splitlines()}  # fmt: skip
    assignment = grade.assignment
    files = [assignment.course.solutions / f"{assignment.name}.py", *sorted(assignment.tests.glob("test_*.py"))]
    lines = {line.strip() for path in files for line in path.read_text().splitlines()}
    return {line for line in lines if len(line) >= 24 and line not in public}  # shorter: idioms a hint may name


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_message_shows_hidden_or_reference_code(graders, name):
    grade = graders(name)
    texts = []
    for entry in [REFERENCE, UNTOUCHED, SYNTAX_ERROR, *grade.entries]:
        results = grade(entry)
        texts += [results["output"], *(t["output"] for t in results["tests"])]
    secret = _secret_lines(grade)
    for text in texts:
        assert not re.search(r"\bref\.|solutions|hidden_tests|test_\w+\.py|Traceback|assert ", text), text
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{leaked[:3]} in {text!r}"
