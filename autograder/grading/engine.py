"""Grading one notebook: run the assignment's hidden tests against it and build its `Results`.

A `Grader` owns one warm sandbox for one assignment and grades one notebook after another with it; every
path that grades (a local batch's workers, a cluster worker, the Gradescope runner, the kit's tests) uses
one, so the isolation policy and the sandbox's limits are applied in one place. The hidden tests run in
this (trusted) process through pytest, with the grading plugin; the student's code runs in the sandbox
behind `Submission`. The result follows Gradescope's results schema, with what the feedback and the class
report need under `extra_data`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
from pathlib import Path

import pytest

from autograder.course import Assignment
from autograder.course.imports import modules_beside
from autograder.course.limits import Limits
from autograder.errors import KitError
from autograder.grading.notebook import NotebookError, code_cells, fingerprint
from autograder.grading.plugin import GradingPlugin
from autograder.grading.results import Results
from autograder.grading.submission import Submission
from autograder.sandbox.answers import Helpers
from autograder.sandbox.launcher import Sandbox, refuse_unisolated

log = logging.getLogger(__name__)

# The hidden tests' own pytest configuration, passed with -c: no ini, conftest or plugin from anywhere else
# (a submission folder, the course's parents) is ever picked up.
HIDDEN_TESTS_INI = Path(__file__).resolve().parent / "hidden_tests.ini"


class GraderError(KitError, RuntimeError):
    """The assignment's hidden tests cannot run (not the student's fault): grading stops loudly."""


def check_isolation(assignment: Assignment, asked: bool = False) -> bool:
    """The one isolation policy, applied before anything is graded: isolation is required when the TA asked
    (--require-sandbox) or the assignment's limits.toml says so; then an unisolated machine is refused
    (IsolationRefused). Returns whether isolation is required."""
    required = assignment.limits().isolation_required(asked)
    refuse_unisolated(required, f"{assignment.name}'s limits.toml says require_isolation = true" if not asked else "")
    return required


def helpers_of(assignment: Assignment) -> Helpers | None:
    """The assignment's helpers as the engine cuts them for each function's process, if it has any."""
    return Helpers(assignment.helpers) if assignment.helpers is not None else None


class Grader:
    """One warm sandbox for one assignment, grading one notebook after another: `grade(path) -> Results`.
    A context manager: leaving it stops the sandbox and removes its files. `require_isolation` adds the TA's
    --require-sandbox to the assignment's own limits (see check_isolation)."""

    def __init__(self, assignment: Assignment, require_isolation: bool = False):
        self.assignment = assignment
        self.limits = assignment.limits()
        self.helpers = helpers_of(assignment)
        self.sandbox = Sandbox(
            check_isolation(assignment, require_isolation), memory_mb=self.limits.sandbox_memory_mb,
            course_utils=assignment.course.course_utils,
            inert_modules=self.helpers.inert_modules if self.helpers is not None else (),
            address_space_limit=self.limits.address_space_limit,
        )  # fmt: skip

    def grade(
        self, notebook: Path, seeds: dict[str, int] | None = None, refused: str | None = None, only: str | None = None
    ) -> Results:
        return grade_notebook(
            self.assignment, notebook, self.sandbox, self.limits, seeds=seeds, refused=refused, helpers=self.helpers,
            only=only,
        )  # fmt: skip

    def close(self) -> None:
        self.sandbox.cleanup()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def pytest_arguments(assignment: Assignment) -> list[str]:
    """How pytest is run on an assignment's hidden tests: their own ini, no cache, conftest or plugin of anyone
    else's, modules imported by path."""
    return [
        str(assignment.tests), "-c", str(HIDDEN_TESTS_INI), "--rootdir", str(assignment.course.hidden_tests),
        "-p", "no:cacheprovider", "-p", "no:stepwise", "--import-mode=importlib", "-q", "--no-header",
        "-p", "no:unraisableexception", "-p", "no:threadexception", "-W", "ignore",
    ]  # fmt: skip


def run_hidden_tests(
    assignment: Assignment, submission: Submission, seeds: dict[str, int] | None = None, only: str | None = None
) -> GradingPlugin:
    assignment.course.make_importable()
    import torch

    # The references the hidden tests run are small: a second OpenMP thread only costs time (16x slower on two
    # busy cores for a 40-epoch training). Set here, in the thread that grades: the count is per thread, and
    # an OpenMP pool a batch's parent started deadlocks in its forked workers.
    torch.set_num_threads(1)
    plugin = GradingPlugin(submission, seeds, only)
    args = pytest_arguments(assignment)
    sink = io.StringIO()  # pytest's own report would show test source: it goes nowhere
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), modules_beside(assignment.tests):
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
    helpers: Helpers | None = None,
    only: str | None = None,
) -> Results:
    """Results for one notebook, in Gradescope's schema. Never raises for anything the student did.
    `seeds`: the tests' rng seeds from an earlier grading (see Results.seeds), to replay its inputs.
    `refused`: why the file is not to be read at all (see jobs.refusal); every test then fails with it.
    `sandbox` None: nothing is run (every test fails saying there is no sandbox), as for a refused file.
    `helpers`: the assignment's, already read (a Grader reads them once); else read here.
    `only`: a graded function: run its tests alone (the results hold no other test), as `course check` does
    for a mutant of that function."""
    started = time.perf_counter()
    limits = limits or assignment.limits()
    cells, load_error = [], refused
    if not refused:
        try:
            cells = code_cells(notebook, set(assignment.grade_ids()))
        except NotebookError as exc:
            load_error = str(exc)
    helpers = helpers if helpers is not None else helpers_of(assignment)
    submission = Submission(cells, sandbox, limits, load_error=load_error, helpers=helpers)
    try:
        plugin = run_hidden_tests(assignment, submission, seeds, only)
    finally:
        submission.close()
    for error in plugin.internal_errors:
        log.error("grader internal error while grading %s:\n%s", notebook, error)
    tests = [
        {
            "id": o.id,
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
    return Results({
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
            "margins": {name: round(used, 6) for name, used in plugin.margins.items()},  # share of tolerance used
            "durations": {name: round(seconds, 4) for name, seconds in plugin.durations.items()},
        },
    })  # fmt: skip


def not_graded(assignment: Assignment, notebook: Path, reason: str) -> Results:
    """Results for a notebook that is not run at all (refused, or no sandbox to run it in): every test
    fails with `reason`."""
    return grade_notebook(assignment, notebook, None, refused=reason)


def grading_failed(assignment: Assignment, notebook: Path, exc: Exception) -> Results:
    """Results for a notebook the grader failed on (`exc` escaped while reading or grading it): every test
    fails saying so. It counts as this notebook's grading (its sha256 is kept), so a rerun does not fail on
    it again; `course grade --force` tries it anew."""
    log.error("the grader failed on %s", notebook, exc_info=exc)
    reason = f"the grader failed on this notebook ({type(exc).__name__}: {str(exc)[:300]})"
    return not_graded(assignment, notebook, reason).with_extra(notebook_sha256=fingerprint(notebook))
