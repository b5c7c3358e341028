"""An assignment packed as a small course of its own, for grading elsewhere: on Dask workers, in a Gradescope
autograder. One tar archive holds what grading needs and nothing a student gets that grading does not need:
the config, the source notebook (for its grade ids), the reference, the hidden tests with their helpers and
limits, and course_utils. The same files always give the same bytes, so a bundle is named by its sha256.

The same files, with the kit's own grading code, are what graded a notebook: `grading_fingerprint` names them,
each results.json records it, and a change in any of them makes `course grade` grade the notebook again.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from autograder.course import Assignment, Course

# Appended to the course's config: the bundle's own layout, whatever folder names the course uses.
BUNDLE_LAYOUT = b"""
c.CourseDirectory.source_directory = "assignments"
c.CourseKit.hidden_tests_directory = "hidden_tests"
c.CourseKit.solutions_directory = "solutions"
"""


def bundle(assignment: Assignment) -> bytes:
    """The tar archive of the assignment as a course (deterministic bytes)."""
    course = assignment.course
    files = {
        "nbgrader_config.py": course.root / "nbgrader_config.py",
        f"assignments/{assignment.name}/{assignment.name}.ipynb": assignment.source_notebook,
        f"solutions/{assignment.name}.py": course.solutions / f"{assignment.name}.py",
    }
    if (course.solutions / "__init__.py").is_file():
        files["solutions/__init__.py"] = course.solutions / "__init__.py"
    folders = ((assignment.tests, f"hidden_tests/{assignment.name}"), (course.course_utils, "course_utils"))
    for folder, prefix in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"{prefix}/{path.relative_to(folder).as_posix()}"] = path
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in sorted(files):
            data = files[name].read_bytes()
            if name == "nbgrader_config.py":
                data += BUNDLE_LAYOUT
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# The kit's folders whose code takes part in grading a notebook (the rest writes pages, exports, releases).
GRADING_CODE = ("course", "grading", "sandbox", "testkit")


def grading_fingerprint(assignment: Assignment) -> str:
    """The sha256 of what grades a notebook of this assignment: its bundle (hidden tests, helpers, limits,
    reference, course_utils, the source notebook's grade cells and points) and the kit's grading code."""
    digest = hashlib.sha256(bundle(assignment))
    package = Path(__file__).resolve().parent.parent
    for folder in GRADING_CODE:
        for path in sorted((package / folder).rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def unpack(data: bytes, folder: Path, name: str) -> Assignment:
    """Unpack a bundle into `folder` (no path in it may leave the folder) and return its assignment."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")
    return Course.at(folder).assignment(name)
