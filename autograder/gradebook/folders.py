"""nbgrader's per-student folders of a course: the submission in `submitted/<student>/<assignment>/` (also
when it came from a flat LMS folder), and the notebook with its results.json in
`autograded/<student>/<assignment>/`, where generate_feedback, the report and `course export` find them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from autograder.course import Course
from autograder.grading.results import Results


def submitted_folder(course: Course, student: str, assignment: str) -> Path:
    return course.submitted / student / assignment


def autograded_folder(course: Course, student: str, assignment: str) -> Path:
    return course.autograded / student / assignment


def keep_files(course: Course, assignment: str, student: str, notebook: Path, results, readable: bool) -> None:
    """Copy the submission and its results into the course's folders. `readable`: False for a file the
    grader refused to read (a symbolic link): nothing is copied from it."""
    name = f"{assignment}.ipynb"
    submitted = submitted_folder(course, student, assignment)
    if readable and notebook.is_file() and notebook.resolve() != (submitted / name).resolve():
        submitted.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, submitted / name)
    autograded = autograded_folder(course, student, assignment)
    autograded.mkdir(parents=True, exist_ok=True)
    if readable and notebook.is_file() and not Results.of(results).load_error:
        shutil.copyfile(notebook, autograded / name)
    else:
        (autograded / name).unlink(missing_ok=True)
    Results.of(results).write(autograded / "results.json")


def graded_results(course: Course, assignment: str) -> dict[str, dict]:
    """Every student's latest results.json for this assignment, as kept in autograded/."""
    found = {}
    for path in sorted(course.autograded.glob(f"*/{assignment}/results.json")):
        found[path.parent.parent.name] = json.loads(path.read_text())
    return found
