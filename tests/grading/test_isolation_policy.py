"""One isolation policy on every path: an assignment whose limits.toml says `require_isolation = true` is
refused on a machine that cannot isolate, whether graded locally, by a cluster worker or by the Gradescope
runner (tests/lms/test_gradescope.py runs that one in a real container-like root), without --require-sandbox."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from autograder.course import Course
from autograder.course.limits import Limits, load_limits
from autograder.grading import cluster
from autograder.grading.batch import grade_folder
from autograder.grading.bundle import bundle
from autograder.grading.engine import Grader, check_isolation
from autograder.sandbox.launcher import IsolationRefused


@pytest.fixture
def strict(make_course) -> Course:
    """A course whose line_fit must be graded in isolation."""
    course = make_course("strict")
    (course.assignment("line_fit").tests / "limits.toml").write_text("require_isolation = true\n")
    return course


def test_the_policy_is_the_assignments_or_the_tas():
    assert not Limits().isolation_required() and Limits().isolation_required(asked=True)
    assert Limits(require_isolation=True).isolation_required(asked=False)


def test_a_local_batch_refuses_before_grading(without_bwrap, strict, release_notebook, tmp_path):
    submissions = tmp_path / "submitted"
    (submissions / "alice" / "line_fit").mkdir(parents=True)
    shutil.copy(release_notebook, submissions / "alice" / "line_fit" / "line_fit.ipynb")
    with pytest.raises(IsolationRefused, match="require_isolation = true"):
        grade_folder(strict.assignment("line_fit"), submissions, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()  # nothing was written


def test_a_grader_refuses_and_so_does_check_isolation(without_bwrap, strict):
    assignment = strict.assignment("line_fit")
    with pytest.raises(IsolationRefused):
        check_isolation(assignment)
    with pytest.raises(IsolationRefused):
        Grader(assignment)


def test_a_cluster_worker_refuses(without_bwrap, strict, release_notebook):
    data = bundle(strict.assignment("line_fit"))
    digest = hashlib.sha256(data).hexdigest()
    with pytest.raises(IsolationRefused, match="worker .*require_isolation = true"):
        cluster.grade_task(digest, data, "line_fit", release_notebook.read_bytes(), None, False)


def test_an_unrequired_assignment_still_grades_unisolated(without_bwrap, line_fit):
    assert check_isolation(line_fit) is False


def test_sandbox_memory_is_set_per_assignment(tmp_path):
    (tmp_path / "limits.toml").write_text("sandbox_memory_mb = 6144\nmemory_mb = 5000\n")
    limits = load_limits(tmp_path)
    assert (limits.sandbox_memory_mb, limits.memory_mb) == (6144, 5000)
