"""Late submissions: an assignment's due date and penalty schedule, each student's extension, and the penalty.

The schedule lives with the assignment, in `hidden_tests/<assignment>/late.toml`:

    due = 2026-12-08T23:59:00Z       # a TOML date-time; without an offset it is UTC
    percent_per_day = 10             # off the earned score for each day or part of a day late
    max_percent = 50                 # the most the schedule takes
    no_credit_after_days = 5         # later than this many days: no credit at all (optional)
    extensions = "extensions.csv"    # optional, beside late.toml: student,due (ISO 8601) per row

The penalty is in points, a share of what the tests earned (the raw score), so that nbgrader's own late
penalty (raw score minus penalty) and every page agree. An assignment without late.toml, or with one whose
every line is commented out (as `course new` writes it), has no due date.
When a submission came in is the intake's question (grading/jobs.py).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import tomllib
from pathlib import Path

from autograder.errors import KitError

LATE_FILE = "late.toml"
DAY = dt.timedelta(days=1)
KNOWN = {"due", "percent_per_day", "max_percent", "no_credit_after_days", "extensions"}


class LatePolicyError(KitError, ValueError):
    """late.toml or its extensions file is not usable: grading stops before it starts."""


@dataclasses.dataclass(frozen=True)
class LatePolicy:
    due: dt.datetime
    percent_per_day: float
    max_percent: float
    no_credit_after_days: float | None
    extensions: dict[str, dt.datetime]

    def due_for(self, student: str) -> dt.datetime:
        return self.extensions.get(student, self.due)

    def late(self, student: str, submitted: dt.datetime, raw_score: float) -> dict:
        """What results.json keeps under extra_data.late: the times, how late, the penalty in points."""
        due = self.due_for(student)
        seconds = (submitted - due).total_seconds()
        days = math.ceil(seconds / DAY.total_seconds()) if seconds > 0 else 0
        if days and self.no_credit_after_days is not None and seconds > self.no_credit_after_days * 86400:
            percent, reason = 100.0, f"more than {self.no_credit_after_days:g} days late: no credit"
        else:
            percent = min(days * self.percent_per_day, self.max_percent)
            reason = f"{days} day{'s' if days != 1 else ''} late: {percent:g}% off" if days else "on time"
        return {
            "submitted": submitted.isoformat(), "due": due.isoformat(), "extended": student in self.extensions,
            "days_late": days, "percent": percent, "penalty": round(raw_score * percent / 100, 6), "reason": reason,
        }  # fmt: skip


def utc(value, where: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise LatePolicyError(f"{where}: {value!r} is not a date and time (ISO 8601)") from None
    if not isinstance(value, dt.datetime):
        raise LatePolicyError(f"{where}: the due date must be a date and time, e.g. 2026-12-08T23:59:00Z")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _number(table: dict, key: str, where: Path, default=None) -> float | None:
    value = table.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
        raise LatePolicyError(f"{where}: {key} must be a number >= 0")
    return None if value is None else float(value)


def load_policy(tests: Path) -> LatePolicy | None:
    """The assignment's schedule from `tests/late.toml`, or None when it has none."""
    path = tests / LATE_FILE
    if not path.is_file():
        return None
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LatePolicyError(f"{path}: {exc}") from None
    if not table:  # every line commented out, as `course new` writes it: no due date yet
        return None
    unknown = set(table) - KNOWN
    if unknown or "due" not in table:
        raise LatePolicyError(f"{path}: needs `due`; unknown keys {sorted(unknown)} (known: {sorted(KNOWN)})")
    extensions = {}
    if table.get("extensions"):
        csv_path = tests / str(table["extensions"])
        try:
            rows = list(csv.reader(csv_path.read_text(encoding="utf-8").splitlines()))
        except OSError as exc:
            raise LatePolicyError(f"{path}: extensions file {csv_path}: {exc.strerror}") from None
        for number, row in enumerate(rows, 1):
            if not row or row[0].strip() in ("", "student") or row[0].startswith("#"):
                continue
            if len(row) != 2:
                raise LatePolicyError(f"{csv_path}, line {number}: expected student,due")
            extensions[row[0].strip()] = utc(row[1], f"{csv_path}, line {number}")
    return LatePolicy(
        due=utc(table["due"], str(path)), percent_per_day=_number(table, "percent_per_day", path, 0),
        max_percent=_number(table, "max_percent", path, 100), extensions=extensions,
        no_credit_after_days=_number(table, "no_credit_after_days", path),
    )  # fmt: skip
