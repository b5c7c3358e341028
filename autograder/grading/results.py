"""The one reader of a results.json: totals, tests, per-function sums and extra_data, whatever the file holds.

results.json is written by the grader but kept beside student files and read back by the gradebook, the
feedback pages, the report and the exports. Every consumer asks a `Results` instead of re-summing a dict, so
a malformed or hand-edited file is read the same way everywhere: tests that are not objects are left out,
`extra_data` that is missing or null is empty, numbers that are not finite count as 0.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return float(value)


@dataclasses.dataclass(frozen=True)
class Test:
    name: str
    function: str  # the graded function: the test's first tag
    score: float
    max_score: float
    passed: bool
    output: str


@dataclasses.dataclass(frozen=True)
class Results:
    data: dict  # the results.json as written (Gradescope's schema with extra_data)

    @classmethod
    def read(cls, path: Path) -> Results:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def of(cls, results: dict | Results) -> Results:
        return results if isinstance(results, Results) else cls(results if isinstance(results, dict) else {})

    @property
    def tests(self) -> list[Test]:
        tests = []
        for test in self.data.get("tests") or []:
            if not isinstance(test, dict):
                continue
            tags = test.get("tags") or ["other"]
            tests.append(
                Test(
                    name=str(test.get("name", "")),
                    function=str(tags[0]) if isinstance(tags, list) else "other",
                    score=_number(test.get("score")),
                    max_score=_number(test.get("max_score")),
                    passed=test.get("status") == "passed",
                    output=str(test.get("output") or ""),
                )  # fmt: skip
            )
        return tests

    @property
    def extra(self) -> dict:
        extra = self.data.get("extra_data")
        return extra if isinstance(extra, dict) else {}

    @property
    def load_error(self) -> str | None:
        error = self.extra.get("load_error")
        return str(error) if error else None

    @property
    def score(self) -> float:
        """The score shown and recorded: 0 when the notebook could not be read, whatever else it says."""
        return 0.0 if self.load_error else _number(self.data.get("score"))

    @property
    def max_score(self) -> float:
        return _number(self.data.get("max_score"))

    @property
    def late(self) -> dict:
        """extra_data.late (see grading/late.py), or empty when there is no due date."""
        late = self.extra.get("late")
        return late if isinstance(late, dict) else {}

    @property
    def penalty(self) -> float:
        """Points taken off for lateness: between 0 and the score."""
        return min(max(_number(self.late.get("penalty")), 0.0), self.score)

    @property
    def final_score(self) -> float:
        """The score after the late penalty, as nbgrader's gradebook computes it."""
        return self.score - self.penalty

    def functions(self) -> list[str]:
        """Graded functions in the order their tests ran."""
        return list(dict.fromkeys(test.function for test in self.tests))

    def by_function(self) -> dict[str, list[Test]]:
        grouped: dict[str, list[Test]] = {}
        for test in self.tests:
            grouped.setdefault(test.function, []).append(test)
        return grouped

    def function_scores(self) -> dict[str, float]:
        """Points earned per graded function."""
        return {function: sum(t.score for t in tests) for function, tests in self.by_function().items()}

    def function_max_scores(self) -> dict[str, float]:
        return {function: sum(t.max_score for t in tests) for function, tests in self.by_function().items()}

    def evidence(self) -> dict:
        evidence = self.extra.get("evidence")
        return evidence if isinstance(evidence, dict) else {}


def functions_of(results: list[Results]) -> list[str]:
    """Graded functions of several students' results, in the order their tests ran."""
    return list(dict.fromkeys(f for result in results for f in result.functions()))
