"""The pytest plugin that turns a run of the hidden tests into scored, student-readable results.

It hands the tests their fixtures (`submission`, `rng` with a recorded seed, `evidence`), insists that every
test declares its points and the graded function it checks, runs each function's tests together in that
function's own process (functions with answers among the helpers first, see autograder/sandbox/answers.py),
and records each test's outcome in the order the tests were written. A failing
test's message is the text of the Mistake it raised and nothing else: pytest's tracebacks and assertion
rewriting would show hidden test code, so they are never used.
"""

from __future__ import annotations

import dataclasses
import secrets
import traceback
from pathlib import Path

import numpy as np
import pytest

from autograder.grading.submission import Submission
from autograder.testkit.expect import Mistake, measuring_margins


@dataclasses.dataclass
class TestOutcome:
    id: str  # pytest's node id: stable when the docstring (the name) changes
    name: str
    function: str
    points: float
    passed: bool
    message: str


def _marker_arg(item: pytest.Item, name: str):
    marker = item.get_closest_marker(name)
    if marker is None or len(marker.args) != 1:
        raise pytest.UsageError(f"hidden test {item.nodeid} needs exactly one @pytest.mark.{name}(...)")
    return marker.args[0]


class GradingPlugin:
    def __init__(self, submission: Submission, seeds: dict[str, int] | None = None, only: str | None = None):
        self._submission = submission
        self._replayed_seeds = seeds or {}
        self._only = only  # grade this function's tests alone (course check's mutants); None: every test
        self.margins: dict[str, float] = {}  # node id -> the most of its tolerance a passing expect_close used
        self.durations: dict[str, float] = {}  # node id -> seconds its setup and call took
        self.seeds: dict[str, int] = {}  # each test's rng seed, kept in results.json to replay a grading
        self.outcomes: list[TestOutcome] = []
        self.internal_errors: list[str] = []  # for the TA's log, never for the student
        self.evidence: dict = {}  # what tests keep for feedback pictures (plain data only)
        self._written: dict[str, int] = {}  # node id -> its place in the order the tests were collected

    @pytest.fixture(name="submission")
    def submission_fixture(self) -> Submission:
        return self._submission

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """Fresh inputs at grading time, so nothing can be precomputed; a replay reuses the recorded seed."""
        name = request.node.nodeid
        seed = self._replayed_seeds.get(name)
        self.seeds[name] = seed if seed is not None else secrets.randbits(128)
        return np.random.default_rng(self.seeds[name])

    @pytest.fixture(name="evidence")
    def evidence_fixture(self) -> dict:
        return self.evidence

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            points = _marker_arg(item, "points")
            if not isinstance(points, int | float) or points <= 0:
                raise pytest.UsageError(f"hidden test {item.nodeid}: points must be a positive number")
            if not isinstance(_marker_arg(item, "grades"), str):
                raise pytest.UsageError(f"hidden test {item.nodeid}: grades(...) takes the function's name")
        if self._only is not None:
            kept = [item for item in items if _marker_arg(item, "grades") == self._only]
            config = items[0].config if items else None
            if config is not None:
                config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept
        self._written = {item.nodeid: index for index, item in enumerate(items)}
        helpers = getattr(self._submission, "helpers", None)
        first = {}  # each function in the order its first test was written
        for item in items:
            first.setdefault(_marker_arg(item, "grades"), len(first))

        def run_order(item: pytest.Item) -> tuple[int, int]:
            function = _marker_arg(item, "grades")
            return (helpers.rank(function) if helpers is not None else 0, first[function])

        items.sort(key=run_order)  # stable: each function's tests keep their written order

    @pytest.hookimpl(tryfirst=True)  # before the test's fixtures, which may call the submission too
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self._submission is not None:
            self._submission.grading(_marker_arg(item, "grades"))

    def pytest_sessionfinish(self) -> None:
        self.outcomes.sort(key=lambda outcome: self._written.get(outcome.id, len(self._written)))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        with measuring_margins() as used:
            try:
                return (yield)
            finally:
                if used:
                    self.margins[item.nodeid] = max(used)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if report.when in ("setup", "call"):
            self.durations[item.nodeid] = self.durations.get(item.nodeid, 0.0) + report.duration
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.outcomes.append(self._outcome(item, call))
        return report

    def _outcome(self, item: pytest.Item, call: pytest.CallInfo) -> TestOutcome:
        doc = (getattr(item.function, "__doc__", None) or "").strip().splitlines()
        function = _marker_arg(item, "grades")
        name = f"{function}: {doc[0] if doc else item.name}"
        passed, message = call.excinfo is None, ""
        if call.excinfo is not None:
            exc = call.excinfo.value
            if isinstance(exc, Mistake):
                message = str(exc)
            else:
                message = "The grader could not run this test (an internal error); your TA has been told."
                self.internal_errors.append(for_the_ta(item, exc))
        return TestOutcome(item.nodeid, name, function, float(_marker_arg(item, "points")), passed, message)


def for_the_ta(item: pytest.Item, exc: BaseException) -> str:
    """A hidden test's own error as one block for the TA: the test, the frames in the hidden tests' folder
    (the test, its helpers, modules beside it) with file and line, and the exception. pytest's, pluggy's and
    the kit's frames are dropped; when no frame is the hidden tests' (a missing fixture), the last one stays."""
    folder = Path(item.path).resolve().parent
    frames = traceback.extract_tb(exc.__traceback__)
    own = [frame for frame in frames if Path(frame.filename).resolve().is_relative_to(folder)] or frames[-1:]
    head = f"{item.nodeid}: the hidden test failed with an error of its own (the student sees an internal error)\n"
    return head + "".join(traceback.format_list(own)) + "".join(traceback.format_exception_only(exc))
