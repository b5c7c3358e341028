"""`course export`: one row per student with the gradebook's scores (manual ones included), one column per
graded function and one per hidden test, properly quoted (nbgrader's own export has totals only, unquoted)."""

from __future__ import annotations

import csv
import io

from autograder.course import Course
from autograder.gradebook.folders import autograded_folder
from autograder.gradebook.records import GRADE_CELL_PREFIX, open_gradebook
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


def max_score(course: Course, assignment: str) -> float:
    with open_gradebook(course) as gradebook:
        return float(gradebook.find_assignment(assignment).max_score)


def export_csv(course: Course, assignment: str) -> str:
    table = scores(course, assignment)
    results = {}
    for student in table:
        path = autograded_folder(course, student, assignment) / "results.json"
        results[student] = Results.read(path) if path.exists() else Results({})
    functions = sorted({f for row in table.values() for f in row})
    test_names = list(dict.fromkeys(test.name for result in results.values() for test in result.tests))
    total = max_score(course, assignment)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *functions, *test_names])
    for student in sorted(table):
        row, by_name = table[student], {t.name: t.score for t in results[student].tests}
        writer.writerow(
            [student, sum(row.values()), total, *(row.get(f, 0.0) for f in functions)]
            + [by_name.get(name, "") for name in test_names]
        )
    return buffer.getvalue()
