"""`course export`: one row per student with the gradebook's scores (manual ones included), the late penalty
and the final score, one column per graded function and one per hidden test, properly quoted (nbgrader's own
export has totals only, unquoted)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.course import Course
from autograder.course.cells import GRADE_CELL_PREFIX
from autograder.course.files import atomic_write
from autograder.gradebook.folders import autograded_folder
from autograder.gradebook.records import open_gradebook
from autograder.grading.results import Results


def scores(course: Course, assignment: str) -> dict[str, dict[str, float]]:
    """Per student, the gradebook's score per graded function (a manual score takes precedence)."""
    with open_gradebook(course) as gradebook:
        table = {}
        for submission in gradebook.find_assignment(assignment).submissions:
            row = {}
            for submitted_notebook in submission.notebooks:
                for grade in submitted_notebook.grades:
                    row[grade.cell.name.removeprefix(GRADE_CELL_PREFIX)] = float(grade.score)
            table[submission.student.id] = row
        return table


def penalties(course: Course, assignment: str) -> dict[str, float]:
    """Per student, the gradebook's late-submission penalty in points (0 when there is none)."""
    with open_gradebook(course) as gradebook:
        submissions = gradebook.find_assignment(assignment).submissions
        return {s.student.id: float(s.late_submission_penalty or 0.0) for s in submissions}


def final_scores(course: Course, assignment: str) -> dict[str, float]:
    """Per student, the score after the late penalty, as nbgrader computes it (never below 0)."""
    late = penalties(course, assignment)
    return {
        student: max(0.0, sum(row.values()) - late.get(student, 0.0))
        for student, row in scores(course, assignment).items()
    }


def max_score(course: Course, assignment: str) -> float:
    with open_gradebook(course) as gradebook:
        return float(gradebook.find_assignment(assignment).max_score)


def export_csv(course: Course, assignment: str) -> str:
    table, late = scores(course, assignment), penalties(course, assignment)
    results = {}
    for student in table:
        path = autograded_folder(course, student, assignment) / "results.json"
        results[student] = Results.read(path) if path.exists() else Results({})
    functions = sorted({f for row in table.values() for f in row})
    test_names = list(dict.fromkeys(test.name for result in results.values() for test in result.tests))
    total = max_score(course, assignment)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", "late_penalty", "final_score", *functions, *test_names])
    for student in sorted(table):
        row, by_name = table[student], {t.name: t.score for t in results[student].tests}
        raw, penalty = sum(row.values()), late.get(student, 0.0)
        writer.writerow(
            [student, raw, total, penalty, max(0.0, raw - penalty), *(row.get(f, 0.0) for f in functions)]
            + [by_name.get(name, "") for name in test_names]
        )
    return buffer.getvalue()


def write_export(course: Course, assignment: str, out: Path | None = None) -> Path:
    """Write export_csv to `out` (default: the course's exports/<assignment>.csv); returns where."""
    out = out or course.export_file(assignment)
    atomic_write(out, export_csv(course, assignment))
    return out
