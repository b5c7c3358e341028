"""Fixtures shared by the kit's tests: the kit's own course, throwaway courses made as an instructor makes
them (`course init --example line_fit`), line_fit's release in one, a warm sandbox for line_fit, and a machine
without bubblewrap."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograder.authoring.release import release
from autograder.authoring.scaffold import init_course
from autograder.course import Assignment, Course
from autograder.grading.engine import Grader
from autograder.sandbox import launcher
from autograder.sandbox.launcher import Sandbox

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "line_fit"


@pytest.fixture(scope="session")
def kit() -> Course:
    """The kit's repository, itself a course."""
    return Course.at(ROOT)


@pytest.fixture(scope="session")
def line_fit(kit) -> Assignment:
    return kit.assignment(ASSIGNMENT)


@pytest.fixture(scope="session")
def make_course(tmp_path_factory) -> Callable[..., Course]:
    """make_course(name) -> a new course with the line_fit example, in a folder of its own."""

    def make(name: str = "course", example: str | None = ASSIGNMENT) -> Course:
        return init_course(tmp_path_factory.mktemp(name) / "course", examples=[example] if example else [])

    return make


@pytest.fixture(scope="session")
def released_course(make_course) -> Course:
    """A course whose line_fit is released; shared: tests must not change it."""
    course = make_course("released")
    release(course, ASSIGNMENT)
    return course


@pytest.fixture(scope="session")
def released(released_course) -> Path:
    """line_fit's release folder (notebook, public_tests, course_utils)."""
    return released_course.release / ASSIGNMENT


@pytest.fixture(scope="session")
def release_notebook(released) -> Path:
    return released / f"{ASSIGNMENT}.ipynb"


@pytest.fixture(scope="module")
def sandbox(line_fit) -> Iterator[Sandbox]:
    """A warm sandbox with line_fit's helpers and the kit's course_utils."""
    with Grader(line_fit) as grader:
        yield grader.sandbox


@pytest.fixture
def without_bwrap(monkeypatch):
    """This process sees a machine without bubblewrap (plain mode) until the test ends."""
    real_which = shutil.which
    monkeypatch.setattr(launcher.shutil, "which", lambda name, *a, **k: None if name == "bwrap" else real_which(name))
    launcher.isolation.cache_clear()
    yield
    monkeypatch.undo()
    launcher.isolation.cache_clear()
