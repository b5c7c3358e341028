"""Late submissions: the penalty schedule of late.toml, extensions, submission times from nbgrader's
timestamp.txt or the file's mtime; and through the course command, the gradebook's penalty, nbgrader's
export, course export and the feedback page agree."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring.check import samples
from autograder.authoring.release import release
from autograder.course.late import LatePolicyError, load_policy
from autograder.grading.jobs import submission_time

DUE = dt.datetime(2026, 12, 8, 23, 59, tzinfo=dt.UTC)
LATE_TOML = """due = 2026-12-08T23:59:00Z
percent_per_day = 10
max_percent = 50
no_credit_after_days = 5
extensions = "extensions.csv"
"""
SUBMITTED = {  # student -> when: on time, one hour late, over the maximum, late but with an extension
    "ontime": DUE - dt.timedelta(hours=2),
    "hour_late": DUE + dt.timedelta(hours=1),
    "three_days": DUE + dt.timedelta(days=2, hours=3),
    "week_late": DUE + dt.timedelta(days=8),
    "extended": DUE + dt.timedelta(days=3),
}
EXPECTED_PERCENT = {"ontime": 0, "hour_late": 10, "three_days": 30, "week_late": 100, "extended": 0}


def policy_in(folder: Path, toml: str = LATE_TOML, extensions: str = "student,due\nextended,2026-12-12T12:00:00Z\n"):
    (folder / "late.toml").write_text(toml)
    (folder / "extensions.csv").write_text(extensions)
    return load_policy(folder)


def test_the_schedule_on_time_late_over_the_maximum_and_extended(tmp_path):
    policy = policy_in(tmp_path)
    for student, when in SUBMITTED.items():
        late = policy.late(student, when, raw_score=20.0)
        assert late["percent"] == EXPECTED_PERCENT[student], (student, late)
        assert late["penalty"] == pytest.approx(20.0 * EXPECTED_PERCENT[student] / 100)
    assert policy.late("extended", DUE, 20)["extended"] and policy.late("extended", DUE, 20)["due"].startswith(
        "2026-12-12"
    )
    assert "no credit" in policy.late("week_late", SUBMITTED["week_late"], 20)["reason"]
    capped = policy_in(tmp_path, LATE_TOML.replace("no_credit_after_days = 5\n", ""))
    assert capped.late("x", DUE + dt.timedelta(days=9), 20)["percent"] == 50  # at most 50%
    assert load_policy(tmp_path / "nowhere") is None


@pytest.mark.parametrize(
    ("toml", "extensions", "message"),
    [
        ("percent_per_day = 10\n", "", "needs `due`"),
        ('due = "next friday"\n', "", "not a date"),
        ("due = 2026-12-08T23:59:00Z\npenalty = 3\n", "", "unknown keys"),
        ("due = 2026-12-08T23:59:00Z\npercent_per_day = -1\n", "", "must be a number"),
        ('due = 2026-12-08T23:59:00Z\nextensions = "extensions.csv"\n', "bob\n", "expected student,due"),
    ],
)
def test_a_broken_schedule_is_an_error_that_says_what(tmp_path, toml, extensions, message):
    with pytest.raises(LatePolicyError, match=message):
        policy_in(tmp_path, toml, extensions)


def test_submission_time_from_timestamp_txt_else_mtime(tmp_path):
    notebook = tmp_path / "a" / "line_fit.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    os.utime(notebook, (DUE.timestamp() + 60, DUE.timestamp() + 60))
    assert submission_time(notebook) == DUE + dt.timedelta(minutes=1)
    assert submission_time(notebook, use_mtime=False) is None
    (notebook.parent / "timestamp.txt").write_text("2026-12-09 01:30:00.000000 UTC")
    assert submission_time(notebook, use_mtime=False) == DUE + dt.timedelta(hours=1, minutes=31)


@pytest.mark.slow
def test_penalties_agree_in_gradebook_exports_and_feedback(make_course, tmp_path):
    course = make_course("late")
    policy_in(course.hidden_tests / "line_fit")
    notebook = release(course, "line_fit") / "line_fit.ipynb"
    solved = samples.fill_stubs(samples.read(notebook), samples.reference_sources(course.assignment("line_fit")))
    for student, when in SUBMITTED.items():
        folder = course.submitted / student / "line_fit"
        samples.write(solved, folder / "line_fit.ipynb")
        (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    flat = tmp_path / "lms"  # an LMS download: the file's mtime is its submission time, unless told otherwise
    samples.write(solved, flat / "mtime_late.ipynb")
    late_mtime = (DUE + dt.timedelta(hours=30)).timestamp()
    os.utime(flat / "mtime_late.ipynb", (late_mtime, late_mtime))

    def course_command(*args):
        done = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=course.root, capture_output=True,
                              text=True, timeout=900)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    course_command("grade", "line_fit", str(course.submitted), "--out", str(tmp_path / "graded"))
    course_command("grade", "line_fit", str(flat), "--out", str(tmp_path / "graded"))
    results = {p.parent.name: json.loads(p.read_text()) for p in (tmp_path / "graded").glob("*/results.json")}
    expected = {**{s: 20 * p / 100 for s, p in EXPECTED_PERCENT.items()}, "mtime_late": 4.0}
    assert {s: r["extra_data"]["late"]["penalty"] for s, r in results.items()} == pytest.approx(expected)
    assert all(r["score"] == 20 for r in results.values())  # the raw score stays as the tests gave it

    export = tmp_path / "nbgrader.csv"
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", "--to", str(export)], cwd=course.root,
                   check=True, capture_output=True)  # fmt: skip
    theirs = {row["student_id"]: row for row in csv.DictReader(io.StringIO(export.read_text()))}
    course_command("export", "line_fit")
    ours = {
        row["student"]: row
        for row in csv.DictReader(io.StringIO((course.root / "exports" / "line_fit.csv").read_text()))
    }
    for student, penalty in expected.items():
        assert float(theirs[student]["late_submission_penalty"]) == pytest.approx(penalty), student
        assert float(theirs[student]["score"]) == pytest.approx(20 - penalty), student
        assert float(ours[student]["late_penalty"]) == pytest.approx(penalty), student
        assert float(ours[student]["final_score"]) == pytest.approx(20 - penalty), student
    assert theirs["ontime"]["duedate"].startswith("2026-12-08 23:59")

    course_command("feedback", "line_fit")
    page = (course.feedback / "three_days" / "line_fit" / "line_fit.html").read_text(encoding="utf-8")
    assert "3 days late: 30% off" in page and "late penalty: -6" in page and "your score: 14 / 20" in page
    extended = (course.feedback / "extended" / "line_fit" / "line_fit.html").read_text(encoding="utf-8")
    assert "Submitted on time" in extended and "extended due date" in extended

    course_command("grade", "line_fit", str(flat), "--out", str(tmp_path / "again"), "--ignore-mtime", "--force")
    again = json.loads((tmp_path / "again" / "mtime_late" / "results.json").read_text())
    assert again["extra_data"]["late"]["penalty"] == 0 and "no submission time" in again["extra_data"]["late"]["reason"]
