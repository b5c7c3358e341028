"""Make the student version of an assignment: nbgrader's generate_assignment, plus the course_utils package.

First the fast part of `course check` (authoring/check/consistency.py): an assignment whose hidden tests do
not collect, or whose grade cells and hidden tests disagree on a function's points or names, is not released.

nbgrader turns the course's `assignments/<name>/` (the source notebook with solutions, and its public tests)
into `release/<name>/`, with every solution replaced by a stub. The released notebook imports
`course_utils`, so a copy of the course's package goes next to it: students open the folder and everything
it needs is there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.authoring.check.consistency import check_consistency
from autograder.course import Assignment, Course
from autograder.errors import KitError

TIMEOUT_SECONDS = 300


class ReleaseError(KitError, RuntimeError):
    """The release cannot be made: the assignment's tests disagree with it, or nbgrader failed (its output)."""


def _nbgrader_command() -> list[str]:
    """nbgrader from the interpreter's own environment, so the release uses the pinned version."""
    script = Path(sys.executable).parent / "nbgrader"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nbgrader"]


def _environment() -> dict[str, str]:
    # nbgrader shells out to `alembic` when it creates the gradebook: the environment's bin must be on PATH.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def release(course: Course, assignment: str) -> Path:
    """Release `assignment` of `course` and return its release folder. Raises ReleaseError when its hidden
    tests do not agree with its notebook (see check_consistency) or nbgrader fails."""
    source = course.source / assignment
    if not source.is_dir():
        raise ReleaseError(f"no source folder for {assignment!r}: {source} does not exist")
    if not (course.course_utils / "__init__.py").is_file():
        raise ReleaseError(f"the course has no course_utils package at {course.course_utils}")
    problems = [f for f in check_consistency(Assignment(course, assignment)) if f.failed]
    if problems:
        listed = "\n".join(f"- {f.subject}: {f.detail}" for f in problems)
        raise ReleaseError(
            f"{assignment} is not released: its hidden tests and notebook disagree\n{listed}\n"
            f"(course check {assignment} checks everything)"
        )

    command = [*_nbgrader_command(), "generate_assignment", assignment, "--force"]
    try:
        done = subprocess.run(
            command,
            cwd=course.root,
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ReleaseError(f"could not run nbgrader generate_assignment: {error}") from error
    folder = course.release / assignment
    if done.returncode != 0 or not (folder / f"{assignment}.ipynb").is_file():
        output = "\n".join(part for part in (done.stdout.strip(), done.stderr.strip()) if part)
        raise ReleaseError(f"nbgrader generate_assignment {assignment} failed (exit code {done.returncode}):\n{output}")

    target = folder / "course_utils"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(course.course_utils, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    return folder
