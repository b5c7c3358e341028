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

import dataclasses
import functools
import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from autograder.grading.late import LatePolicy, load_policy
from autograder.grading.limits import Limits, load_limits

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
_importable: Path | None = None  # the course whose solutions and tests this process imports now


class CourseError(ValueError):
    """No course here, or the course lacks what a command needs; str(self) says what to do."""


@functools.cache
def _read_config(config_file: Path) -> dict:
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(config_file.name, str(config_file.parent)).load_config()
    return {section: dict(config.get(section, {})) for section in ("CourseDirectory", "CourseKit")}


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
        directories, kit = config["CourseDirectory"], config["CourseKit"]
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

    def make_importable(self) -> None:
        """Hidden tests import `solutions.<a>` and `course_utils` from this course, and pytest names the tests'
        own modules `<a>.test_*`. Modules of those names that another course, or an older copy of this one,
        loaded into this process are forgotten first: a long-lived grader never runs stale tests. Once per
        course and process: each grading of the same course finds it done."""
        global _importable
        if _importable == self.root:
            return
        owners = {"solutions": self.solutions, "course_utils": self.course_utils}
        for name, module in list(sys.modules.items()):
            top, location = name.split(".")[0], _location(module)
            if location is None:
                continue
            if top in owners:
                stale = not location.is_relative_to(owners[top])
            else:
                test_module = location.name.startswith("test_") or (location.is_dir() and location.name == top)
                stale = (
                    test_module
                    and (self.hidden_tests / top).is_dir()
                    and not location.is_relative_to(self.hidden_tests)
                )
            if stale:
                del sys.modules[name]
        parent = str(self.solutions.parent)
        if parent in sys.path:
            sys.path.remove(parent)
        sys.path.insert(0, parent)
        _importable = self.root


def _location(module) -> Path | None:
    """Where a module was loaded from: its file, or a namespace package's first folder."""
    file = getattr(module, "__file__", None)
    if file:
        return Path(file).resolve()
    path = list(getattr(module, "__path__", []) or [])
    return Path(path[0]).resolve() if path else None


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
    from autograder.grading.notebook import grade_ids, load_notebook

    return frozenset(grade_ids(load_notebook(source))) if source.exists() else frozenset()


def import_file(path: Path, kind: str) -> ModuleType:
    """A Python file of a course (a solution, an assignment's helpers or catalogue), imported once, under a name
    made of `kind` and its path (registered in sys.modules, where dataclasses and inspect look modules up)."""
    path = path.resolve()
    name = f"course_{kind}_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or not path.is_file():
            raise CourseError(f"{path} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


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
