"""Grading one notebook: run the assignment's hidden tests against it and build its results.json.

The hidden tests run in this (trusted) process through pytest, with the grading plugin; the student's
code runs in the sandbox behind `Submission`. The result follows Gradescope's results schema, with what
the feedback and the class report need under `extra_data`.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

import pytest

from autograder.course import Assignment
from autograder.grading.limits import Limits
from autograder.grading.notebook import NotebookError, code_cells, fingerprint
from autograder.grading.plugin import GradingPlugin
from autograder.grading.results import Results
from autograder.grading.submission import Submission
from autograder.sandbox.launcher import Sandbox

# The hidden tests' own pytest configuration, passed with -c: no ini, conftest or plugin from anywhere else
# (a submission folder, the course's parents) is ever picked up.
HIDDEN_TESTS_INI = Path(__file__).resolve().parent / "hidden_tests.ini"


class GraderError(RuntimeError):
    """The grader itself is misconfigured (not the student's fault): grading stops loudly."""


def sandbox_for(assignment: Assignment, require_isolation: bool = False) -> Sandbox:
    """A warm sandbox with what the assignment's notebooks import: the course's course_utils and the
    assignment's helpers module."""
    return Sandbox(require_isolation, course_utils=assignment.course.course_utils, helpers=assignment.helpers)


def run_hidden_tests(
    assignment: Assignment, submission: Submission, seeds: dict[str, int] | None = None
) -> GradingPlugin:
    assignment.course.make_importable()
    import torch

    # The references the hidden tests run are small: a second OpenMP thread only costs time (16x slower on two
    # busy cores for a 40-epoch training). Set here, in the thread that grades: the count is per thread, and
    # an OpenMP pool a batch's parent started deadlocks in its forked workers.
    torch.set_num_threads(1)
    plugin = GradingPlugin(submission, seeds)
    args = [
        str(assignment.tests), "-c", str(HIDDEN_TESTS_INI), "--rootdir", str(assignment.course.hidden_tests),
        "-p", "no:cacheprovider", "-p", "no:stepwise", "--import-mode=importlib", "-q", "--no-header",
        "-p", "no:unraisableexception", "-p", "no:threadexception", "-W", "ignore",
    ]  # fmt: skip
    sink = io.StringIO()  # pytest's own report would show test source: it goes nowhere
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[plugin])
    if code in (
        pytest.ExitCode.INTERNAL_ERROR,
        pytest.ExitCode.USAGE_ERROR,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        raise GraderError(
            f"the hidden tests of {assignment.name} could not run (pytest exit {code}):\n{sink.getvalue()}"
        )
    if code == pytest.ExitCode.INTERRUPTED or not plugin.outcomes:
        raise GraderError(f"the hidden tests of {assignment.name} were not collected:\n{sink.getvalue()[-3000:]}")
    return plugin


def _summary(submission: Submission, load_error: str | None, mode: str | None) -> str:
    lines = []
    if load_error:
        lines.append(f"This notebook could not be graded: {load_error}.")
    reports = sorted(submission.cell_reports.values(), key=lambda r: r.index)
    for report in reports:
        if report.status in ("error", "timeout"):
            lines.append(f"Code cell {report.index + 1} did not run cleanly: {report.error}")
        elif report.status == "killed":  # its error is the event that says so
            lines.append(f"{report.error[:1].upper()}{report.error[1:]}; that cell was skipped when it ran again.")
    shown = {report.error for report in reports}
    lines += [f"Note: {event}." for event in submission.events if event not in shown]
    if mode == "plain":
        lines.append("Warning: this submission was graded without isolation (bubblewrap unavailable).")
    return "\n".join(lines)


def grade_notebook(
    assignment: Assignment,
    notebook: Path,
    sandbox: Sandbox | None,
    limits: Limits | None = None,
    seeds: dict | None = None,
    refused: str | None = None,
) -> dict:
    """Results for one notebook, in Gradescope's schema. Never raises for anything the student did.
    `seeds`: the tests' rng seeds from an earlier grading (see recorded_seeds), to replay its inputs.
    `refused`: why the file is not to be read at all (see batch.refusal); every test then fails with it."""
    started = time.perf_counter()
    limits = limits or assignment.limits()
    cells, load_error = [], refused
    if not refused:
        try:
            cells = code_cells(notebook, set(assignment.grade_ids()))
        except NotebookError as exc:
            load_error = str(exc)
    submission = Submission(cells, sandbox, limits, load_error=load_error)
    try:
        plugin = run_hidden_tests(assignment, submission, seeds)
    finally:
        submission.close()
    for error in plugin.internal_errors:
        print(f"grader internal error while grading {notebook}:\n{error}", file=sys.stderr)
    tests = [
        {
            "name": o.name,
            "score": o.points if o.passed else 0.0,
            "max_score": o.points,
            "status": "passed" if o.passed else "failed",
            "output": o.message,
            "tags": [o.function],
            "visibility": "visible",
        }
        for o in plugin.outcomes
    ]
    mode = sandbox.mode if sandbox is not None else None
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "execution_time": round(time.perf_counter() - started, 3),
        "output": _summary(submission, load_error, mode),
        "tests": tests,
        "extra_data": {
            "assignment": assignment.name,
            "notebook": os.fspath(notebook.name),
            "notebook_sha256": "" if refused else fingerprint(notebook),
            "load_error": load_error,
            "hit_limit": submission.hit_limit,
            "events": submission.events,
            "isolation": mode,
            "evidence": plugin.evidence,
            "seeds": {name: str(seed) for name, seed in plugin.seeds.items()},  # for the TA; not on feedback
        },
    }


def recorded_seeds(results: dict) -> dict[str, int]:
    """The rng seed of each test in an earlier results.json (malformed entries are left out)."""
    seeds = Results.of(results).extra.get("seeds")
    if not isinstance(seeds, dict):
        return {}
    readable = {name: seed for name, seed in seeds.items() if isinstance(seed, str) and seed.isdigit()}
    return {name: int(seed) for name, seed in readable.items() if len(seed) < 50}
