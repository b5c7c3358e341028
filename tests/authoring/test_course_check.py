"""`course check` on a course made with `course init`: the untouched template passes, and each defect planted
in a copy of the template is named, with a non-zero exit. Also: `course release` refuses an assignment
whose hidden tests and notebook disagree."""

from __future__ import annotations

import json

import pytest

from autograder.authoring.check.findings import table
from autograder.authoring.check.run import check_course
from autograder.authoring.release import ReleaseError, release
from autograder.authoring.scaffold import init_course, new_assignment
from autograder.cli import main

pytestmark = pytest.mark.slow

VALUE = 'expect_close(actual, expected, 1e-5, 1e-6, what + attempt, hint="use the sample standard deviation, x.std()")'


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _tests(course, name):
    return course.hidden_tests / name / "test_standardize.py"


def plant(course, name: str) -> None:
    """Copy the template as assignment `name`, with the defect its name says."""
    new_assignment(course, name)
    tests, notebook = _tests(course, name), course.source / name / f"{name}.ipynb"
    if name == "points_mismatch":  # 2 points on the grade cell, 3 in the hidden tests
        data = json.loads(notebook.read_text())
        for cell in data["cells"]:
            if cell["metadata"]["nbgrader"].get("grade"):
                cell["metadata"]["nbgrader"]["points"] = 2
        notebook.write_text(json.dumps(data))
    elif name == "unknown_tag":
        _edit(tests, 'pytest.mark.grades("standardize")', 'pytest.mark.grades("standardise")')
    elif name == "function_without_tests":
        (course.hidden_tests / name / "test_standardize.py").rename(course.hidden_tests / name / "test_other.py")
        _edit(course.hidden_tests / name / "test_other.py", 'pytest.mark.grades("standardize")',
              'pytest.mark.grades("standardize")\nfrom common import nothing  # noqa')  # fmt: skip
        (course.hidden_tests / name / "common.py").write_text("nothing = None\n")
        _edit(course.hidden_tests / name / "test_other.py", 'pytestmark = pytest.mark.grades("standardize")',
              'pytestmark = pytest.mark.grades("helper_only")')  # fmt: skip
    elif name == "missing_import":
        _edit(tests, "import numpy as np\n", "import numpy as np\nfrom common import blobs\n")
    elif name == "flaky":  # fails on every fifth draw exactly (a counter kept beside the tests)
        _edit(tests, "def test_value(submission, rng):\n", (
            "def test_value(submission, rng):\n"
            "    import pathlib\n"
            "    counter = pathlib.Path(__file__).with_name('count')\n"
            "    count = int(counter.read_text()) if counter.exists() else 0\n"
            "    counter.write_text(str(count + 1))\n"
            "    from autograder.testkit import Mistake\n"
            "    if count % 5 == 4:\n"
            "        raise Mistake('an unlucky draw')\n"))  # fmt: skip
    elif name == "pays_a_thief":  # an undeclared builder of the answer in helpers.py
        (course.hidden_tests / name / "helpers.py").write_text(
            (course.hidden_tests / name / "helpers.py").read_text()
            + "\n\ndef standardized(x):\n    return (x - x.mean(dim=0)) / x.std(dim=0)\n"
        )
    elif name == "near_time_limit":
        (course.hidden_tests / name / "limits.toml").write_text("call_seconds = 1.0\n")
        slow = "def test_value(submission, rng):\n    import time\n    time.sleep(0.6)\n"
        _edit(tests, "def test_value(submission, rng):\n", slow)
    elif name == "weak_tests":  # checks the shape only: mutants of the reference survive
        _edit(tests, VALUE, "pass")


DEFECTS = {  # assignment -> (check, words the finding must hold)
    "points_mismatch": ("consistency", "has 2 points, its hidden tests 3"),
    "unknown_tag": ("consistency", "grades('standardise') names no graded function"),
    "function_without_tests": ("consistency", "test_standardize has no hidden test"),
    "missing_import": ("collection", "No module named 'common'"),
    "flaky": ("draws", "failed on 1 of 5 draws: an unlucky draw; replay: course check --replay"),
    "pays_a_thief": ("thieves", "a thief that only looks for the answer earns 3"),
    "near_time_limit": ("time", "near call_seconds = 1"),
    "weak_tests": ("mutants", "mutation score"),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    course = init_course(tmp_path_factory.mktemp("check") / "course")
    new_assignment(course, "template")
    for name in DEFECTS:
        plant(course, name)
    return course, check_course(course, [], draws=5, progress=lambda line: None)


def test_the_untouched_template_passes_every_check(checked):
    _, found = checked
    findings = found["template"]
    assert not [f for f in findings if f.failed], table("template", findings)
    checks = {f.check for f in findings}
    assert {"consistency", "draws", "release", "catalogue", "thieves", "messages", "mutants"} <= checks
    (mutants,) = [f for f in findings if f.check == "mutants"]
    assert "mutation score 100%" in mutants.detail, mutants.detail


@pytest.mark.parametrize("name", DEFECTS)
def test_each_planted_defect_is_named(checked, name):
    _, found = checked
    check, words = DEFECTS[name]
    failed = [f for f in found[name] if f.failed]
    assert any(f.check == check and words in f.detail for f in failed), table(name, found[name])
    also = {"mutants", "catalogue"} if name == "weak_tests" else set()  # weak tests miss mistakes too
    assert {f.check for f in failed} - {check} <= also, table(name, found[name])  # it fails its own check


def test_course_check_exits_non_zero_on_a_defect_and_release_refuses(checked, capsys):
    course, _ = checked
    assert main(["check", "points_mismatch", "--course-root", str(course.root)]) == 1
    assert "has 2 points, its hidden tests 3" in capsys.readouterr().out
    with pytest.raises(ReleaseError, match="has 2 points, its hidden tests 3"):
        release(course, "points_mismatch")
    with pytest.raises(ReleaseError, match="No module named 'common'"):
        release(course, "missing_import")
    assert not (course.release / "points_mismatch").exists()
    assert not (course.root / "gradebook.db").exists(), "course check never touches the course's gradebook"
