"""Grading one notebook: run the assignment's hidden tests against it and build its results.json.

The hidden tests run in this (trusted) process through pytest, with the grading plugin; the student's
code runs in the sandbox behind `Submission`. The result follows Gradescope's results schema, with what
the feedback and the class report need under `extra_data`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
import time
from pathlib import Path

import pytest

from autograder.grading.limits import Limits, load_limits
from autograder.grading.notebook import NotebookError, code_cells, fingerprint, grade_ids, load_notebook
from autograder.grading.plugin import GradingPlugin
from autograder.grading.submission import Submission
from autograder.sandbox.launcher import Sandbox

KIT_ROOT = Path(__file__).resolve().parents[2]
HIDDEN_TESTS = Path(__file__).resolve().parents[1] / "hidden_tests"
SOURCE_ASSIGNMENTS = KIT_ROOT / "assignments"


class GraderError(RuntimeError):
    """The grader itself is misconfigured (not the student's fault): grading stops loudly."""


def tests_dir(assignment: str) -> Path:
    path = HIDDEN_TESTS / assignment
    if not path.is_dir() or not any(path.glob("test_*.py")):
        known = sorted(p.name for p in HIDDEN_TESTS.iterdir() if p.is_dir() and not p.name.startswith("_"))
        raise GraderError(f"no hidden tests for assignment {assignment!r} (known: {', '.join(known)})")
    return path


def assignment_limits(assignment: str) -> Limits:
    return load_limits(tests_dir(assignment))


@functools.cache
def expected_grade_ids(assignment: str) -> frozenset[str]:
    """The graded cells of the source notebook: a submission must contain at least one of them."""
    source = SOURCE_ASSIGNMENTS / assignment / f"{assignment}.ipynb"
    return frozenset(grade_ids(load_notebook(source))) if source.exists() else frozenset()


def run_hidden_tests(assignment: str, submission: Submission, seeds: dict[str, int] | None = None) -> GradingPlugin:
    plugin = GradingPlugin(submission, seeds)
    args = [
        str(tests_dir(assignment)), "-c", str(HIDDEN_TESTS / "pytest.ini"), "--rootdir", str(HIDDEN_TESTS),
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
        raise GraderError(f"the hidden tests of {assignment} could not run (pytest exit {code}):\n{sink.getvalue()}")
    if code == pytest.ExitCode.INTERRUPTED or not plugin.outcomes:
        raise GraderError(f"the hidden tests of {assignment} were not collected:\n{sink.getvalue()[-3000:]}")
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
    assignment: str, notebook: Path, sandbox: Sandbox | None, limits: Limits | None = None, seeds: dict | None = None
) -> dict:
    """Results for one notebook, in Gradescope's schema. Never raises for anything the student did.
    `seeds`: the tests' rng seeds from an earlier grading (see recorded_seeds), to replay its inputs."""
    started = time.perf_counter()
    limits = limits or assignment_limits(assignment)
    load_error = None
    try:
        cells = code_cells(notebook, set(expected_grade_ids(assignment)))
    except NotebookError as exc:
        cells, load_error = [], str(exc)
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
            "assignment": assignment,
            "notebook": os.fspath(notebook.name),
            "notebook_sha256": fingerprint(notebook),
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
    extra = results.get("extra_data")
    seeds = extra.get("seeds") if isinstance(extra, dict) else None
    if not isinstance(seeds, dict):
        return {}
    readable = {name: seed for name, seed in seeds.items() if isinstance(seed, str) and seed.isdigit()}
    return {name: int(seed) for name, seed in readable.items() if len(seed) < 50}
