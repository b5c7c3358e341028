"""The intake: which submissions a folder holds, which must not be read, and when each one came in.

Shared by every way of grading a batch (local workers, a Dask cluster): a `Job` per student, found in
nbgrader's `submitted/` layout or a flat LMS download, refused when a symbolic link or a path leads outside
the submissions folder, and timed for the late policy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from autograder.course.late import LatePolicy, LatePolicyError, utc
from autograder.errors import KitError


class NoSubmissions(KitError, ValueError):
    """The submissions folder is missing, empty of this assignment's notebooks, or ambiguous."""


@dataclasses.dataclass(frozen=True)
class Job:
    student: str
    notebook: Path  # may not exist: a student folder without a notebook still gets a row
    refused: str | None = None  # why the file is not read at all (it points outside the submissions)


def refusal(path: Path, submissions: Path) -> str | None:
    """Why a submission must not be read: a symbolic link on the way to it, or a path that resolves outside
    the submissions folder. The grader never follows either to read what it points at."""
    for part in [path, *path.parents]:
        if part == submissions:
            break
        if part.is_symlink():
            return "the submission is a symbolic link, not a notebook file; it was not read"
    if not path.resolve().is_relative_to(submissions.resolve()):
        return "the submission resolves to a file outside the submissions folder; it was not read"
    return None


def discover(assignment: str, submissions: Path) -> list[Job]:
    """nbgrader's `<student>/<assignment>/*.ipynb` layout, or a flat LMS folder of `<student>.ipynb`."""
    if not submissions.is_dir():
        raise NoSubmissions(f"submissions folder {submissions} does not exist")
    jobs = {}
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if folder.is_dir():
            preferred = folder / f"{assignment}.ipynb"
            found = sorted(folder.glob("*.ipynb"))
            notebook = preferred if preferred.exists() else (found[0] if found else preferred)
            jobs[student_dir.name] = Job(student_dir.name, notebook, refusal(notebook, submissions))
    for notebook in sorted(submissions.glob("*.ipynb")):
        if notebook.is_file() or notebook.is_symlink():
            if notebook.stem in jobs:
                raise NoSubmissions(f"student {notebook.stem!r} has both a folder and a flat notebook")
            jobs[notebook.stem] = Job(notebook.stem, notebook, refusal(notebook, submissions))
    return sorted(jobs.values(), key=lambda job: job.student)


def submission_time(notebook: Path, use_mtime: bool = True) -> dt.datetime | None:
    """When the notebook was submitted: nbgrader's timestamp.txt beside it, else (unless told not to) the
    file's modification time, as an LMS download keeps it; None when neither is known."""
    stamp = notebook.parent / "timestamp.txt"
    if stamp.is_file():
        from nbgrader.utils import parse_utc

        try:
            return utc(parse_utc(stamp.read_text(encoding="utf-8").strip()), str(stamp))
        except (ValueError, OverflowError):
            raise LatePolicyError(f"{stamp}: not a timestamp nbgrader can read") from None
    if use_mtime and notebook.is_file() and not notebook.is_symlink():
        return dt.datetime.fromtimestamp(notebook.stat().st_mtime, tz=dt.UTC)
    return None


def late_info(policy: LatePolicy, job: Job, raw_score: float, use_mtime: bool) -> dict:
    """How late the job's notebook came, and the penalty on its raw score; no known time counts as on time."""
    submitted = None if job.refused else submission_time(job.notebook, use_mtime)
    if submitted is None:
        due = policy.due_for(job.student).isoformat()
        return {"submitted": None, "due": due, "extended": job.student in policy.extensions, "days_late": 0,
                "percent": 0.0, "penalty": 0.0, "reason": "no submission time known: counted as on time"}  # fmt: skip
    return policy.late(job.student, submitted, raw_score)
