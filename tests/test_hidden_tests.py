"""The hidden tests of line_fit, graded by the real engine against the catalogue of submissions.

Full marks for the reference and for every correct way of writing a function; for each common mistake,
points lost in its own function and nowhere else; zero and "not implemented" for the untouched release;
a broken unrelated cell costs nothing; and no message shows hidden-test or reference code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import catalogue
import pytest

from autograder.grading.engine import grade_notebook

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "line_fit"
UNTOUCHED = "untouched_release"
SYNTAX_ERROR = "syntax_error_in_unrelated_cell"
ENTRIES = {e.name: e for e in (*catalogue.CORRECT, catalogue.NOISY, *catalogue.MISTAKES)}


@pytest.fixture(scope="module")
def graded(line_fit, release_notebook, sandbox, tmp_path_factory):
    """grade(name) -> results of that catalogue submission; each is graded once per module."""
    folder = tmp_path_factory.mktemp("submissions")
    results: dict[str, dict] = {}

    def grade(name: str) -> dict:
        if name not in results:
            if name == UNTOUCHED:
                notebook = release_notebook
            elif name == SYNTAX_ERROR:
                sources = catalogue.reference_sources()
                notebook = catalogue.build(release_notebook, sources, folder / f"{name}.ipynb",
                                           cells=catalogue.SYNTAX_ERROR_CELLS)  # fmt: skip
            elif name == "reference":
                notebook = catalogue.build(release_notebook, catalogue.reference_sources(), folder / f"{name}.ipynb")
            else:
                notebook = catalogue.build(release_notebook, catalogue.full(ENTRIES[name]), folder / f"{name}.ipynb")
            results[name] = grade_notebook(line_fit, notebook, sandbox)
        return results[name]

    grade.results = results
    return grade


def per_function(results: dict) -> dict[str, float]:
    scores = dict.fromkeys(catalogue.GRADED, 0.0)
    for test in results["tests"]:
        (function,) = test["tags"]
        scores[function] += test["score"]
    return scores


def failures(results: dict) -> str:
    return "\n".join(f"{t['name']}: {t['output']}" for t in results["tests"] if t["status"] != "passed")


def test_points_per_function_match_the_notebook(graded, release_notebook):
    maxima = dict.fromkeys(catalogue.GRADED, 0.0)
    for test in graded("reference")["tests"]:
        maxima[test["tags"][0]] += test["max_score"]
    assert maxima == catalogue.POINTS
    cells = json.loads(release_notebook.read_text())["cells"]
    notebook_points = {
        c["metadata"]["nbgrader"]["grade_id"].removeprefix("test_"): c["metadata"]["nbgrader"]["points"]
        for c in cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade")
    }
    assert notebook_points == catalogue.POINTS


def test_reference_gets_full_marks(graded):
    results = graded("reference")
    assert results["score"] == results["max_score"] == 20, failures(results)
    assert all(t["output"] == "" for t in results["tests"])


@pytest.mark.parametrize("name", [e.name for e in (*catalogue.CORRECT, catalogue.NOISY)])
def test_correct_variant_gets_full_marks(graded, name):
    results = graded(name)
    assert results["score"] == results["max_score"] == 20, failures(results)


@pytest.mark.parametrize("name", [e.name for e in catalogue.MISTAKES])
def test_mistake_loses_points_in_its_own_function_only(graded, name):
    entry = ENTRIES[name]
    results = graded(name)
    scores = per_function(results)
    assert scores[entry.loses] < catalogue.POINTS[entry.loses], f"{entry.what}: not caught"
    others = {f: s for f, s in scores.items() if f != entry.loses}
    assert others == {f: catalogue.POINTS[f] for f in others}, failures(results)
    for test in results["tests"]:
        if test["status"] != "passed":
            assert test["output"].strip(), f"{test['name']} failed without a message"


def test_every_hidden_test_catches_some_mistake(graded):
    names = {t["name"] for t in graded("reference")["tests"]}
    failed = {t["name"] for e in catalogue.MISTAKES for t in graded(e.name)["tests"] if t["status"] != "passed"}
    assert names - failed == set()


def test_untouched_release_gets_nothing_and_says_not_implemented(graded):
    results = graded(UNTOUCHED)
    assert results["score"] == 0
    for test in results["tests"]:
        assert test["status"] == "failed"
        assert "not implemented" in test["output"], test


def test_syntax_error_in_an_unrelated_cell_costs_nothing(graded):
    results = graded(SYNTAX_ERROR)
    assert results["score"] == 20, failures(results)
    assert "SyntaxError" in results["output"]


def _secret_lines(line_fit, release_notebook: Path) -> set[str]:
    """Lines of the reference solutions and of the hidden tests that the release does not show students."""
    public = {line.strip() for cell in json.loads(release_notebook.read_text())["cells"]
              for line in "".join(cell["source"]).splitlines()}  # fmt: skip
    files = [line_fit.course.solutions / "line_fit.py", *sorted(line_fit.tests.glob("*.py"))]
    lines = {line.strip() for path in files for line in path.read_text().splitlines()}
    return {line for line in lines if len(line) >= 24 and line not in public}  # shorter: idioms a hint may name


def test_no_message_shows_hidden_or_reference_code(graded, line_fit, release_notebook):
    names = ["reference", UNTOUCHED, SYNTAX_ERROR, *ENTRIES]
    texts = []
    for name in names:
        results = graded(name)
        texts += [results["output"], *(t["output"] for t in results["tests"])]
    secret = _secret_lines(line_fit, release_notebook)
    for text in texts:
        assert not re.search(r"\bref\.|solutions|hidden_tests|test_\w+\.py|Traceback|assert ", text), text
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{leaked[:3]} in {text!r}"
