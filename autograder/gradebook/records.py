"""Recording grades in nbgrader's gradebook, so formgrader, `nbgrader export` and feedback see our scores.

Convention: the source notebook has one graded test cell per graded function, named `test_<function>`
(its points are that function's hidden points), and one solution cell `<function>_solution`. A regrade
replaces the automatic scores and comments only: a manual score a TA entered in formgrader survives.

Per student and assignment this also keeps nbgrader's folders filled: the submission in
`submitted/<student>/<assignment>/` (also when it came from a flat LMS folder), and the notebook with its
results.json in `autograded/<student>/<assignment>/`, where generate_feedback and `course export` find them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import warnings
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

GRADE_CELL_PREFIX = "test_"
SOLUTION_CELL_SUFFIX = "_solution"


def db_url(course_root: Path) -> str:
    """CourseDirectory.db_url from the course's nbgrader_config.py, else nbgrader's default SQLite file."""
    config_file = course_root / "nbgrader_config.py"
    if config_file.exists():
        config = PyFileConfigLoader(config_file.name, str(course_root)).load_config()
        url = config.get("CourseDirectory", {}).get("db_url")
        if url:
            return str(url)
    return f"sqlite:///{(course_root / 'gradebook.db').resolve()}"


def open_gradebook(course_root: Path):
    # nbgrader creates a new gradebook by running the `alembic` command: make sure ours is found.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.api import Gradebook

    return Gradebook(db_url(course_root))


def ensure_assignment(assignment: str, course_root: Path) -> None:
    """The assignment's cells must be in the gradebook; nbgrader records them when it releases."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course_root) as gradebook:
        try:
            gradebook.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    from autograder.authoring.release import release

    print(f"{assignment} is not in the gradebook yet: releasing it first", file=sys.stderr)
    release(assignment, course_root)


def student_folder(course_root: Path, stage: str, student: str, assignment: str) -> Path:
    return course_root / stage / student / assignment


def function_points(results: dict) -> dict[str, float]:
    points: dict[str, float] = {}
    for test in results.get("tests", []):
        for tag in test.get("tags", []):
            points[tag] = points.get(tag, 0.0) + float(test["score"])
    return points


def function_comments(results: dict) -> dict[str, str]:
    load_error = results.get("extra_data", {}).get("load_error")
    comments: dict[str, list[str]] = {}
    for test in results.get("tests", []):
        for tag in test.get("tags", []):
            lines = comments.setdefault(tag, [])
            if load_error:
                continue
            mark = "passed" if test["status"] == "passed" else f"failed: {test['output']}"
            lines.append(f"{test['name']} ({test['score']:g}/{test['max_score']:g}) {mark}")
    if load_error:
        return {tag: f"Not graded: {load_error}" for tag in comments}
    return {tag: "\n".join(lines) for tag, lines in comments.items()}


def _keep_files(assignment: str, course_root: Path, student: str, notebook: Path, results: dict) -> None:
    name = f"{assignment}.ipynb"
    submitted = student_folder(course_root, "submitted", student, assignment)
    if notebook.is_file() and notebook.resolve() != (submitted / name).resolve():
        submitted.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, submitted / name)
    autograded = student_folder(course_root, "autograded", student, assignment)
    autograded.mkdir(parents=True, exist_ok=True)
    if notebook.is_file() and not results.get("extra_data", {}).get("load_error"):
        shutil.copyfile(notebook, autograded / name)
    else:
        (autograded / name).unlink(missing_ok=True)
    tmp = autograded / ".results.json.tmp"
    tmp.write_text(json.dumps(results, indent=1))
    os.replace(tmp, autograded / "results.json")


def record(assignment: str, course_root: Path, student: str, notebook: Path, results: dict) -> None:
    """Put one graded submission into nbgrader's folders and gradebook (replacing automatic scores)."""
    _keep_files(assignment, course_root, student, notebook, results)
    points = function_points(results)
    comments = function_comments(results)
    with open_gradebook(course_root) as gradebook, warnings.catch_warnings():
        # nbgrader builds a submission's rows before adding them to its session; SQLAlchemy 2 warns about
        # that on every new submission, though nbgrader adds them right after.
        warnings.filterwarnings("ignore", message=".*not in session", category=Warning)
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student)
        for submitted_notebook in submission.notebooks:
            for grade in submitted_notebook.grades:
                function = grade.cell.name.removeprefix(GRADE_CELL_PREFIX)
                grade.auto_score = min(points.get(function, 0.0), grade.max_score)
                grade.needs_manual_grade = False
            for comment in submitted_notebook.comments:
                function = comment.cell.name.removesuffix(SOLUTION_CELL_SUFFIX)
                comment.auto_comment = comments.get(function)
        gradebook.db.commit()


class Recorder:
    """`course grade`'s on_result: records each graded submission. Setting up the gradebook (importing
    nbgrader, releasing the assignment if it is not there yet) waits for the first result, so it happens
    while the grading workers start their sandboxes."""

    def __init__(self, assignment: str, course_root: Path):
        self.assignment, self.course_root = assignment, course_root
        self._ready = False

    def __call__(self, job, results: dict) -> None:
        if not self._ready:
            ensure_assignment(self.assignment, self.course_root)
            self._ready = True
        record(self.assignment, self.course_root, job.student, job.notebook, results)


def scores(assignment: str, course_root: Path) -> dict[str, dict[str, float]]:
    """Per student, the gradebook's score per graded function (a manual score takes precedence)."""
    with open_gradebook(course_root) as gradebook:
        table = {}
        for submission in gradebook.find_assignment(assignment).submissions:
            row = {}
            for submitted_notebook in submission.notebooks:
                for grade in submitted_notebook.grades:
                    row[grade.cell.name.removeprefix(GRADE_CELL_PREFIX)] = float(grade.score)
            table[submission.student.id] = row
        return table


def export_csv(assignment: str, course_root: Path) -> str:
    """One row per student: total, max, one column per graded function (from the gradebook, so manual
    scores count) and one per hidden test (from results.json). Properly quoted."""
    table = scores(assignment, course_root)
    results = {}
    for student in table:
        path = student_folder(course_root, "autograded", student, assignment) / "results.json"
        results[student] = json.loads(path.read_text()) if path.exists() else {"tests": []}
    functions = sorted({f for row in table.values() for f in row})
    test_names: dict[str, None] = {}
    for result in results.values():
        for test in result["tests"]:
            test_names.setdefault(test["name"], None)
    with open_gradebook(course_root) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *functions, *test_names])
    for student in sorted(table):
        row, by_name = table[student], {t["name"]: t["score"] for t in results[student]["tests"]}
        writer.writerow(
            [student, sum(row.values()), max_score, *(row.get(f, 0.0) for f in functions)]
            + [by_name.get(name, "") for name in test_names]
        )
    return buffer.getvalue()


def graded_results(assignment: str, course_root: Path) -> dict[str, dict]:
    """Every student's latest results.json for this assignment, as kept in autograded/."""
    found = {}
    for path in sorted((course_root / "autograded").glob(f"*/{assignment}/results.json")):
        found[path.parent.parent.name] = json.loads(path.read_text())
    return found
