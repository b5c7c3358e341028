"""The course a command works on, and where each of its assignments keeps what grading needs.

Like git and nbgrader, `course` works on the folder it is run in: the course root is the nearest folder
upward from the working directory that holds `nbgrader_config.py`. This module is the one reader of that
file and of the course's folders; nothing else in the engine builds a course path by hand.

A course, with the folder names its config can change (nbgrader's `CourseDirectory` names, and the kit's own
`CourseKit.hidden_tests_directory` and `CourseKit.solutions_directory`):

    nbgrader_config.py
    assignments/<a>/          the source notebook <a>.ipynb and public_tests/ (all of it ships)
    solutions/<a>.py          the reference the hidden tests import as `solutions.<a>` (never ships)
    hidden_tests/<a>/         test_*.py, helpers.py, limits.toml, late.toml (never ship; helpers.py runs in the
                              sandbox)
    course_utils/             what student notebooks import (ships with every release)
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from pathlib import Path

from autograder.course.cells import grade_ids, load_notebook
from autograder.course.imports import make_importable
from autograder.course.late import LatePolicy, load_policy
from autograder.course.limits import Limits, load_limits
from autograder.errors import KitError

CONFIG_NAME = "nbgrader_config.py"
HELPERS_NAME = "helpers.py"  # an assignment's sandbox helpers, next to its hidden tests
DEFAULT_FOLDERS = {  # nbgrader's defaults, but for the source folder, which the kit calls assignments/
    "source_directory": "assignments",
    "release_directory": "release",
    "submitted_directory": "submitted",
    "autograded_directory": "autograded",
    "feedback_directory": "feedback",
}
KIT_FOLDERS = {"hidden_tests_directory": "hidden_tests", "solutions_directory": "solutions"}


class CourseError(KitError, ValueError):
    """No course here, or the course lacks what a command needs; str(self) says what to do."""


@functools.cache
def _read_config(config_file: Path):
    """The whole nbgrader_config.py as traitlets reads it: read once per file and process."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(config_file.name, str(config_file.parent)).load_config()


@dataclasses.dataclass(frozen=True)
class Course:
    root: Path
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path
    hidden_tests: Path
    solutions: Path
    course_utils: Path
    db_url: str

    @classmethod
    def at(cls, root: Path) -> Course:
        """The course whose nbgrader_config.py is in `root`."""
        root = Path(root).resolve()
        config_file = root / CONFIG_NAME
        if not config_file.is_file():
            raise CourseError(f"{root} is not a course: it has no {CONFIG_NAME} (make one with `course init DIR`)")
        config = _read_config(config_file)
        directories, kit = (dict(config.get(section, {})) for section in ("CourseDirectory", "CourseKit"))
        folder = {key: root / str(directories.get(key, default)) for key, default in DEFAULT_FOLDERS.items()}
        folder |= {key: root / str(kit.get(key, default)) for key, default in KIT_FOLDERS.items()}
        url = directories.get("db_url") or f"sqlite:///{root / 'gradebook.db'}"
        return cls(
            root=root, source=folder["source_directory"], release=folder["release_directory"],
            submitted=folder["submitted_directory"], autograded=folder["autograded_directory"],
            feedback=folder["feedback_directory"], hidden_tests=folder["hidden_tests_directory"],
            solutions=folder["solutions_directory"], course_utils=root / "course_utils", db_url=str(url),
        )  # fmt: skip

    def assignment(self, name: str) -> Assignment:
        """An assignment that can be graded: it has hidden tests (else a CourseError naming the known ones)."""
        if not name or Path(name).name != name or name.startswith("."):
            raise CourseError(f"{name!r} is not an assignment name")
        assignment = Assignment(self, name)
        if not assignment.tests.is_dir() or not any(assignment.tests.glob("test_*.py")):
            known = ", ".join(self.assignment_names()) or "none yet; add one with `course new NAME`"
            raise CourseError(f"no hidden tests for assignment {name!r} in {self.hidden_tests} (known: {known})")
        return assignment

    def assignment_names(self) -> list[str]:
        if not self.hidden_tests.is_dir():
            return []
        return sorted(p.name for p in self.hidden_tests.iterdir() if p.is_dir() and any(p.glob("test_*.py")))

    def export_file(self, assignment: str, kind: str = "") -> Path:
        """Where `course export` writes by default: exports/<a>.csv, or exports/<a>-<kind>.csv."""
        return self.root / "exports" / f"{assignment}{'-' + kind if kind else ''}.csv"

    def report_file(self, assignment: str) -> Path:
        """Where `course report` writes by default."""
        return self.root / "reports" / f"{assignment}.html"

    def nbgrader_config(self):
        """nbgrader's whole config from nbgrader_config.py (a copy: the caller may change it)."""
        return copy.deepcopy(_read_config(self.root / CONFIG_NAME))

    def make_importable(self) -> None:
        """Hidden tests import `solutions.<a>` and `course_utils` from this course (see imports.py)."""
        make_importable(self.root, self.solutions, self.course_utils, self.hidden_tests)


@dataclasses.dataclass(frozen=True)
class Assignment:
    course: Course
    name: str

    @property
    def source_notebook(self) -> Path:
        return self.course.source / self.name / f"{self.name}.ipynb"

    @property
    def tests(self) -> Path:
        return self.course.hidden_tests / self.name

    @property
    def helpers(self) -> Path | None:
        """The sandbox helpers module, if the assignment has one."""
        path = self.tests / HELPERS_NAME
        return path if path.is_file() else None

    def limits(self) -> Limits:
        return load_limits(self.tests)

    def late_policy(self) -> LatePolicy | None:
        """The due date and penalty schedule in late.toml, if the assignment has one."""
        return load_policy(self.tests)

    def grade_ids(self) -> frozenset[str]:
        """The graded cells of the source notebook: a submission must contain at least one of them."""
        return _grade_ids(self.source_notebook)


@functools.cache
def _grade_ids(source: Path) -> frozenset[str]:
    return frozenset(grade_ids(load_notebook(source))) if source.exists() else frozenset()


def find_root(start: Path | None = None) -> Path:
    """The nearest folder upward from `start` (the working directory) that holds nbgrader_config.py."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise CourseError(
        f"not inside a course: no {CONFIG_NAME} in {start} or any folder above it. "
        "Run this inside a course folder, pass --course-root, or make a course with `course init DIR`."
    )


def find_course(course_root: Path | str | None = None) -> Course:
    """The course at `course_root` if given, else the one the working directory is in."""
    return Course.at(Path(course_root) if course_root else find_root())
