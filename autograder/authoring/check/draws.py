"""The reference solution on fresh draws: full marks on every draw, how close it came to each tolerance, and
how long each test takes against the assignment's limits.

Each grading of the reference draws new random inputs for every test (their seeds are in results.json), so K
gradings are K draws. A test that fails on any draw is flaky: the finding gives the seed that replays it
(`course check A --replay TEST_ID=SEED`).
"""

from __future__ import annotations

import statistics

from autograder.authoring.check.findings import FAILED, NOTE, OK, Finding
from autograder.course.limits import Limits
from autograder.grading.results import Results

NEAR_LIMIT = 0.5  # a test or a whole grading that takes half its limit at worst is near it
SHOWN = 3  # the worst tolerance margins and the slowest tests shown as notes


def short_id(test_id: str) -> str:
    """A test's id without its assignment folder: test_mse.py::test_value_float32."""
    return test_id.split("/")[-1]


def draw_findings(draws: list[Results], limits: Limits) -> list[Finding]:
    """Flaky tests, tolerance margins and times, from the reference's gradings."""
    found = []
    tests = {test.id: short_id(test.id) for results in draws for test in results.tests}
    for test_id, name in tests.items():
        failed = [(r, t) for r in draws for t in r.tests if t.id == test_id and not t.passed]
        if failed:
            results, test = failed[0]
            seed = results.seeds().get(test_id)
            replay = f"; replay: course check --replay {test_id}={seed}" if seed is not None else ""
            found.append(Finding("draws", FAILED, name,
                                 f"the reference failed on {len(failed)} of {len(draws)} draws: "
                                 f"{test.output[:200]}{replay}"))  # fmt: skip
    if not any(f.failed for f in found):
        found.append(Finding("draws", OK, "reference", f"full marks on all {len(draws)} draws"))
    margins = {}
    for results in draws:
        for test_id, used in results.margins.items():
            margins.setdefault(test_id, []).append(used)
    worst = sorted(margins.items(), key=lambda item: -max(item[1]))[:SHOWN]
    for test_id, used in worst:
        found.append(Finding("margins", NOTE, tests.get(test_id, test_id),
                             f"used {max(used):.1%} of its tolerance at worst, {statistics.median(used):.1%} "
                             f"median ({len(used)} draws)"))  # fmt: skip
    durations = {}
    for results in draws:
        for test_id, seconds in results.durations.items():
            durations.setdefault(test_id, []).append(seconds)
    for test_id, seconds in durations.items():
        if max(seconds) >= NEAR_LIMIT * limits.call_seconds:
            found.append(Finding("time", FAILED, tests.get(test_id, test_id),
                                 f"took {max(seconds):.2f} s at worst ({statistics.median(seconds):.2f} s median), "
                                 f"near call_seconds = {limits.call_seconds:g}: a slower machine or answer "
                                 f"times out; make it cheaper or raise the limit in limits.toml"))  # fmt: skip
    slowest = sorted(durations.items(), key=lambda item: -max(item[1]))[:SHOWN]
    for test_id, seconds in slowest:
        if max(seconds) < NEAR_LIMIT * limits.call_seconds:
            found.append(
                Finding(
                    "time",
                    NOTE,
                    tests.get(test_id, test_id),
                    f"{statistics.median(seconds):.2f} s median, {max(seconds):.2f} s worst",
                )
            )
    whole = [results.execution_time for results in draws]
    if max(whole) >= NEAR_LIMIT * limits.submission_seconds:
        found.append(
            Finding(
                "time",
                FAILED,
                "a whole grading",
                f"{max(whole):.1f} s at worst, near submission_seconds = {limits.submission_seconds:g}",
            )
        )
    return found
