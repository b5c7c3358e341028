"""Unit tests for autograder.grading.jobs.late_info with a LatePolicy built directly and a Job in tmp_path."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from autograder.course.late import LatePolicy
from autograder.grading.jobs import Job, late_info

DUE = dt.datetime(2026, 12, 8, 23, 59, tzinfo=dt.UTC)
RESULTS_SCORE = 20.0  # the raw score the penalty is a share of
NO_TIME = "no submission time known: counted as on time"


def policy(no_credit_after_days=None, extensions=None) -> LatePolicy:
    return LatePolicy(
        due=DUE, percent_per_day=10, max_percent=50, no_credit_after_days=no_credit_after_days,
        extensions=extensions or {},
    )  # fmt: skip


@pytest.fixture
def notebook(tmp_path):
    folder = tmp_path / "alice" / "line_fit"
    folder.mkdir(parents=True)
    path = folder / "line_fit.ipynb"
    path.write_text("{}")
    return path


def submitted_at(path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_on_time(notebook):
    submitted_at(notebook, DUE - dt.timedelta(hours=2))
    late = late_info(policy(), Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert late == {
        "submitted": (DUE - dt.timedelta(hours=2)).isoformat(), "due": DUE.isoformat(), "extended": False,
        "days_late": 0, "percent": 0, "penalty": 0.0, "reason": "on time",
    }  # fmt: skip


def test_one_hour_late_is_one_day_at_ten_percent(notebook):
    submitted_at(notebook, DUE + dt.timedelta(hours=1))
    late = late_info(policy(), Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert (late["days_late"], late["percent"], late["penalty"]) == (1, 10, 2.0)
    assert late["reason"] == "1 day late: 10% off"
    assert late["submitted"] == (DUE + dt.timedelta(hours=1)).isoformat()


def test_a_day_and_a_minute_late_is_two_days(notebook):
    submitted_at(notebook, DUE + dt.timedelta(days=1, minutes=1))
    late = late_info(policy(), Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert (late["days_late"], late["percent"], late["penalty"]) == (2, 20, 4.0)
    assert late["reason"] == "2 days late: 20% off"


def test_the_penalty_is_capped_at_max_percent(notebook):
    submitted_at(notebook, DUE + dt.timedelta(days=8))
    late = late_info(policy(), Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert (late["days_late"], late["percent"], late["penalty"]) == (8, 50, 10.0)
    assert late["reason"] == "8 days late: 50% off"


def test_later_than_no_credit_after_days_is_no_credit(notebook):
    submitted_at(notebook, DUE + dt.timedelta(days=5, hours=1))
    late = late_info(policy(no_credit_after_days=5), Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert (late["days_late"], late["percent"], late["penalty"]) == (6, 100.0, 20.0)
    assert late["reason"] == "more than 5 days late: no credit"


def test_within_no_credit_after_days_is_the_schedule(notebook):
    submitted_at(notebook, DUE + dt.timedelta(days=4, hours=12))
    late = late_info(policy(no_credit_after_days=5), Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert (late["days_late"], late["percent"], late["penalty"]) == (5, 50, 10.0)


def test_an_extension_for_that_student(notebook):
    extended = DUE + dt.timedelta(days=3)
    submitted_at(notebook, DUE + dt.timedelta(days=2))
    rules = policy(extensions={"alice": extended})
    late = late_info(rules, Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert (late["due"], late["extended"], late["percent"], late["reason"]) == (
        extended.isoformat(), True, 0, "on time"
    )  # fmt: skip
    other = late_info(rules, Job("bob", notebook), RESULTS_SCORE, use_mtime=True)
    assert (other["due"], other["extended"], other["days_late"], other["percent"]) == (DUE.isoformat(), False, 2, 20)


def test_the_penalty_is_a_share_of_the_raw_score(notebook):
    submitted_at(notebook, DUE + dt.timedelta(hours=1))
    assert late_info(policy(), Job("alice", notebook), 7.0, use_mtime=True)["penalty"] == 0.7
    assert late_info(policy(), Job("alice", notebook), 0.0, use_mtime=True)["penalty"] == 0.0


def test_a_refused_job_counts_as_on_time(notebook):
    submitted_at(notebook, DUE + dt.timedelta(days=3))
    late = late_info(policy(), Job("alice", notebook, refused="a symbolic link"), RESULTS_SCORE, use_mtime=True)
    assert late == {
        "submitted": None, "due": DUE.isoformat(), "extended": False, "days_late": 0, "percent": 0.0,
        "penalty": 0.0, "reason": NO_TIME,
    }  # fmt: skip


def test_a_refused_job_ignores_its_timestamp_txt(notebook):
    (notebook.parent / "timestamp.txt").write_text("2026-12-20 10:00:00.000000 UTC")
    late = late_info(policy(), Job("alice", notebook, refused="outside"), RESULTS_SCORE, use_mtime=False)
    assert (late["submitted"], late["reason"]) == (None, NO_TIME)


def test_a_refused_job_keeps_the_extended_due_date(notebook):
    extended = DUE + dt.timedelta(days=3)
    late = late_info(policy(extensions={"alice": extended}), Job("alice", notebook, "x"), RESULTS_SCORE, use_mtime=True)
    assert (late["due"], late["extended"], late["reason"]) == (extended.isoformat(), True, NO_TIME)


def test_no_time_without_mtime_and_timestamp_counts_as_on_time(notebook):
    submitted_at(notebook, DUE + dt.timedelta(days=3))
    late = late_info(policy(), Job("alice", notebook), RESULTS_SCORE, use_mtime=False)
    assert (late["submitted"], late["days_late"], late["penalty"], late["reason"]) == (None, 0, 0.0, NO_TIME)


def test_a_missing_notebook_counts_as_on_time(tmp_path):
    late = late_info(policy(), Job("alice", tmp_path / "absent.ipynb"), RESULTS_SCORE, use_mtime=True)
    assert (late["submitted"], late["reason"]) == (None, NO_TIME)


def test_timestamp_txt_beside_the_notebook_wins_over_mtime(notebook):
    submitted_at(notebook, DUE - dt.timedelta(days=1))  # the file says on time
    (notebook.parent / "timestamp.txt").write_text("2026-12-09 01:30:00.000000 UTC")  # nbgrader says late
    for use_mtime in (True, False):
        late = late_info(policy(), Job("alice", notebook), RESULTS_SCORE, use_mtime=use_mtime)
        assert late["submitted"] == dt.datetime(2026, 12, 9, 1, 30, tzinfo=dt.UTC).isoformat()
        assert (late["days_late"], late["percent"], late["penalty"]) == (1, 10, 2.0)


def test_an_early_timestamp_txt_wins_over_a_late_mtime(notebook):
    submitted_at(notebook, DUE + dt.timedelta(days=4))
    (notebook.parent / "timestamp.txt").write_text("2026-12-08 12:00:00.000000 UTC")
    late = late_info(policy(), Job("alice", notebook), RESULTS_SCORE, use_mtime=True)
    assert (late["days_late"], late["reason"]) == (0, "on time")
