"""`course export ASSIGNMENT --format canvas --roster ROSTER.csv`: a CSV that Canvas imports into its gradebook.

Canvas reads the columns Student, ID, SIS User ID, SIS Login ID and Section, then one column per assignment
titled `<title> (<canvas assignment id>)`, and a first row `Points Possible`. The roster is a CSV with those
student columns: a Canvas gradebook export works as it is, and then the assignment's Canvas id can be read
from its header. Students are matched on one roster column (SIS Login ID by default) against the gradebook's
student ids. A student on the roster without a submission gets an empty cell (Canvas leaves it ungraded,
where 0 would be a grade); a graded student who is not on the roster is reported and left out.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from autograder.course import Course
from autograder.course.files import atomic_write
from autograder.errors import KitError

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "    Points Possible"  # as Canvas writes it in its own exports


class RosterError(KitError, ValueError):
    """The roster cannot be used: its columns, or the assignment's Canvas id."""


def read_roster(path: Path, match_on: str) -> tuple[list[str], list[dict[str, str]]]:
    """The roster's header and its student rows (Canvas exports' points and muted rows left out)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"the roster {path} cannot be read: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [column for column in ("Student", match_on) if column not in header]
    if missing:
        raise RosterError(f"the roster {path} has no column {', '.join(map(repr, missing))} (it has: {header})")
    rows = [row for row in reader if (row.get("Student") or "").strip() not in ("Points Possible", "")]
    return header, rows


def canvas_id(header: list[str], title: str, given: str | None) -> str:
    """The assignment's Canvas id: given, or read from a Canvas export's `<title> (<id>)` column."""
    if given:
        if not re.fullmatch(r"\d+", given):
            raise RosterError(f"--canvas-id must be Canvas's numeric assignment id, not {given!r}")
        return given
    for column in header:
        match = re.fullmatch(r"(.*) \((\d+)\)", column.strip())
        if match and match[1].strip() == title:
            return match[2]
    raise RosterError(
        f"no Canvas id for {title!r}: pass --canvas-id, or a roster exported from Canvas's gradebook with a "
        f"column '{title} (<id>)'"
    )


def canvas_csv(
    scores: dict[str, float | None], max_score: float, roster: list[dict[str, str]], match_on: str, column: str
) -> tuple[str, list[str]]:
    """The import file, and the graded students who are not on the roster. `scores`: student id -> total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([*STUDENT_COLUMNS, column])
    writer.writerow([POINTS_ROW, *[""] * (len(STUDENT_COLUMNS) - 1), f"{max_score:g}"])
    on_roster = set()
    for row in roster:
        key = (row.get(match_on) or "").strip()
        on_roster.add(key)
        score = scores.get(key)
        writer.writerow([row.get(name, "") for name in STUDENT_COLUMNS] + ["" if score is None else f"{score:g}"])
    return buffer.getvalue(), sorted(set(scores) - on_roster)


def export_canvas(
    course: Course, assignment: str, roster: Path, match_on: str, title: str | None = None,
    canvas_assignment_id: str | None = None, out: Path | None = None,
) -> tuple[Path, str, list[str]]:  # fmt: skip
    """Write the import file of an assignment's final scores (gradebook scores after late penalties);
    returns where, the Canvas column's title, and the graded students not on the roster (left out)."""
    from autograder.gradebook.export import final_scores, max_score

    header, rows = read_roster(roster, match_on)
    title = title or assignment
    column = f"{title} ({canvas_id(header, title, canvas_assignment_id)})"
    text, unknown = canvas_csv(final_scores(course, assignment), max_score(course, assignment), rows, match_on, column)
    out = out or course.export_file(assignment, "canvas")
    atomic_write(out, text)
    return out, column, unknown
