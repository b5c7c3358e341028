"""Recording grades in nbgrader's gradebook, so formgrader, `nbgrader export` and feedback see our scores.

The grade-cell convention (one test cell `test_<function>` per graded function) is in course/cells.py. A regrade
replaces the automatic scores and comments only: a manual score a TA entered in formgrader survives.

Each recorded submission also goes into nbgrader's folders (see folders.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import warnings
from pathlib import Path

from autograder.course import Course
from autograder.course.cells import GRADE_CELL_PREFIX, SOLUTION_CELL_SUFFIX
from autograder.gradebook.folders import autograded_folder, keep_files
from autograder.grading.results import Results

log = logging.getLogger(__name__)


def open_gradebook(course: Course):
    # nbgrader creates a new gradebook by running the `alembic` command: make sure ours is found.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.api import Gradebook

    return Gradebook(course.db_url)


def ensure_assignment(course: Course, assignment: str) -> None:
    """The assignment's cells must be in the gradebook (nbgrader records them when it releases), with the due
    date of its late.toml, so that nbgrader's own pages and export show it."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            missing = True
        else:
            missing = False
    if missing:
        from autograder.authoring.release import release

        log.info("%s is not in the gradebook yet: releasing it first", assignment)
        release(course, assignment)
    policy = course.assignment(assignment).late_policy()
    if policy is not None:
        with open_gradebook(course) as gradebook:
            gradebook.update_or_create_assignment(assignment, duedate=policy.due.replace(tzinfo=None))


def function_comments(results: Results) -> dict[str, str]:
    if results.load_error:
        return {function: f"Not graded: {results.load_error}" for function in results.functions()}
    comments = {}
    for function, tests in results.by_function().items():
        lines = []
        for test in tests:
            mark = "passed" if test.passed else f"failed: {test.output}"
            lines.append(f"{test.name} ({test.score:g}/{test.max_score:g}) {mark}")
        comments[function] = "\n".join(lines)
    return comments


def record(
    course: Course, assignment: str, student: str, notebook: Path, results: Results | dict, readable: bool = True
) -> None:
    """Put one graded submission into nbgrader's gradebook (replacing automatic scores), then into its folders:
    the results.json kept in autograded/ is the mark that the gradebook holds this very result (see `holds`)."""
    typed = Results.of(results)
    points = typed.function_scores()
    comments = function_comments(typed)
    with open_gradebook(course) as gradebook, warnings.catch_warnings():
        # nbgrader builds a submission's rows before adding them to its session; SQLAlchemy 2 warns about
        # that on every new submission, though nbgrader adds them right after.
        warnings.filterwarnings("ignore", message=".*not in session", category=Warning)
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student)
        late = typed.late
        if late.get("submitted"):  # nbgrader keeps naive UTC times
            submission.timestamp = dt.datetime.fromisoformat(late["submitted"]).replace(tzinfo=None)
        for submitted_notebook in submission.notebooks:
            submitted_notebook.late_submission_penalty = typed.penalty if late else None
            for grade in submitted_notebook.grades:
                function = grade.cell.name.removeprefix(GRADE_CELL_PREFIX)
                grade.auto_score = min(points.get(function, 0.0), grade.max_score)
                grade.needs_manual_grade = False
            for comment in submitted_notebook.comments:
                function = comment.cell.name.removesuffix(SOLUTION_CELL_SUFFIX)
                comment.auto_comment = comments.get(function)
        gradebook.db.commit()
    keep_files(course, assignment, student, notebook, typed, readable)


def holds(course: Course, assignment: str, student: str, results: Results) -> bool:
    """Whether this very result was recorded: a batch stopped between results.json and the gradebook row
    (or before the folders) left another result, or none, in autograded/."""
    try:
        kept = Results.read(autograded_folder(course, student, assignment) / "results.json")
    except (OSError, ValueError):
        return False
    return kept.data == results.data


class Recorder:
    """`course grade`'s on_result: records each graded submission. Setting up the gradebook (importing
    nbgrader, releasing the assignment if it is not there yet) waits for the first result, so it happens
    while the grading workers start their sandboxes."""

    def __init__(self, course: Course, assignment: str):
        self.course, self.assignment = course, assignment
        self._ready = False

    def __call__(self, job, results: Results) -> None:
        if not self._ready:
            ensure_assignment(self.course, self.assignment)
            self._ready = True
        record(self.course, self.assignment, job.student, job.notebook, results, readable=job.refused is None)

    def holds(self, job, results: Results) -> bool:
        return holds(self.course, self.assignment, job.student, results)
