"""The one owner of a submission's results: built by the engine, passed between stages, written to and read
back from results.json.

results.json is written by the grader but kept beside student files and read back by the gradebook, the
feedback pages, the report and the exports. Every consumer asks a `Results` instead of re-summing a dict, so
a malformed or hand-edited file is read the same way everywhere: tests that are not objects are left out,
`extra_data` that is missing or null is empty, numbers that are not finite count as 0. Every string in it
is made safe when a `Results` is made (see course/safe_text.py), so what the student's code wrote reaches
results.json, the gradebook, CSV and pages without a lone surrogate or NUL. A test is known by its `id`
(pytest's node id, stable when its docstring changes); files written before ids existed read their display
name as the id.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from autograder.course.files import atomic_write
from autograder.course.safe_text import safe_data


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return float(value)


def _text(value: Any) -> str:
    return str(value or "")


def _text_or_none(value: Any) -> str | None:
    return str(value) if value else None


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _texts(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _numbers(value: Any) -> dict[str, float]:
    """A mapping of names to finite numbers; anything else in it is left out."""
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if not isinstance(v, bool) and isinstance(v, int | float)
            and math.isfinite(v)}  # fmt: skip


def _field(key: str, read, doc: str, in_extra: bool = False) -> property:
    """A read-only view of one key of results.json (of extra_data when `in_extra`), made typed by `read`:
    whatever the file holds there, the reader gets a value of the one type."""

    def get(self: Results):
        return read((self.extra if in_extra else self.data).get(key))

    return property(get, doc=doc)


@dataclasses.dataclass(frozen=True)
class Test:
    id: str  # pytest's node id, e.g. "week1/test_f.py::test_f_matches_the_reference"
    name: str  # what the student reads: "f: <the docstring's first line>"
    function: str  # the graded function: the test's first tag
    score: float
    max_score: float
    passed: bool
    output: str


@dataclasses.dataclass(frozen=True)
class Results:
    data: dict  # the results.json as written (Gradescope's schema with extra_data)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", safe_data(self.data))

    @classmethod
    def read(cls, path: Path) -> Results:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def of(cls, results: dict | Results) -> Results:
        return results if isinstance(results, Results) else cls(results if isinstance(results, dict) else {})

    def to_json(self) -> str:
        return json.dumps(self.data, indent=1)

    def write(self, path: Path) -> None:
        """results.json, written atomically: a file there is always a whole one."""
        atomic_write(path, self.to_json())

    def with_extra(self, **fields) -> Results:
        """A copy with these extra_data fields set (e.g. late=...)."""
        return Results({**self.data, "extra_data": {**self.extra, **fields}})

    def zeroed(self, reason: str) -> Results:
        """These results as not graded, for `reason`: every test failed with it as its output, and nothing the
        student's code produced kept. The notebook's sha256 stays, so a rerun does not grade it again."""
        tests = [{**t, "score": 0.0, "status": "failed", "output": reason} for t in self.data.get("tests") or []
                 if isinstance(t, dict)]  # fmt: skip
        kept = {key: self.extra[key] for key in ("assignment", "notebook", "notebook_sha256", "graded_with")
                if key in self.extra}  # fmt: skip
        return Results({**self.data, "score": 0.0, "output": f"This notebook could not be graded: {reason}.",
                        "tests": tests, "extra_data": {**kept, "load_error": reason}})  # fmt: skip

    def to_gradescope(self, visibility: str) -> dict:
        """Gradescope's documented results schema, without the kit's extra data."""
        tests = [
            {
                "name": t.name,
                "score": t.score,
                "max_score": t.max_score,
                "status": "passed" if t.passed else "failed",
                "output": t.output,
                "tags": [t.function],
                "number": str(number),
                "visibility": visibility,
            }  # fmt: skip
            for number, t in enumerate(self.tests, 1)
        ]
        return {"score": float(sum(t["score"] for t in tests)), "execution_time": self.execution_time,
                "output": self.output, "stdout_visibility": "hidden", "tests": tests}  # fmt: skip

    @property
    def tests(self) -> list[Test]:
        tests = []
        for test in self.data.get("tests") or []:
            if not isinstance(test, dict):
                continue
            tags = test.get("tags") or ["other"]
            name = str(test.get("name", ""))
            tests.append(
                Test(
                    id=str(test.get("id") or name),
                    name=name,
                    function=str(tags[0]) if isinstance(tags, list) else "other",
                    score=_number(test.get("score")),
                    max_score=_number(test.get("max_score")),
                    passed=test.get("status") == "passed",
                    output=str(test.get("output") or ""),
                )  # fmt: skip
            )
        return tests

    extra = _field("extra_data", _mapping, "The kit's own fields (extra_data): empty when missing or not an object.")
    load_error = _field("load_error", _text_or_none, "Why the notebook could not be graded, if so.", in_extra=True)

    @property
    def score(self) -> float:
        """The score shown and recorded: 0 when the notebook could not be read, whatever else it says."""
        return 0.0 if self.load_error else _number(self.data.get("score"))

    max_score = _field("max_score", _number, "Points possible.")
    notebook_sha256 = _field("notebook_sha256", _text, 'The graded notebook\'s sha256 ("" when no file was read).',
                             in_extra=True)  # fmt: skip
    graded_with = _field("graded_with", _text, "The fingerprint of what graded it (bundle.grading_fingerprint; "
                         '"" in files written before it was recorded).', in_extra=True)  # fmt: skip
    isolation = _field("isolation", _text_or_none, "The sandbox mode it was graded in (bwrap-root, bwrap-user, "
                       "plain), None when nothing ran.", in_extra=True)  # fmt: skip
    hit_limit = _field("hit_limit", lambda value: value is True, "Whether a limit was hit.", in_extra=True)
    events = _field("events", _texts, "Limits hit and restarts, in words (for the TA and the student).",
                    in_extra=True)  # fmt: skip

    def seeds(self) -> dict[str, int]:
        """The rng seed of each test, by test id (malformed entries are left out)."""
        seeds = self.extra.get("seeds")
        if not isinstance(seeds, dict):
            return {}
        readable = {
            name: seed for name, seed in seeds.items() if isinstance(seed, str) and seed.isascii() and seed.isdigit()
        }
        return {str(name): int(seed) for name, seed in readable.items() if len(seed) < 50}

    margins = _field("margins", _numbers, "By test id: the most of its tolerance a passing expect_close used "
                     "(0 exact, 1 at the tolerance).", in_extra=True)  # fmt: skip
    durations = _field("durations", _numbers, "By test id: seconds the test took (its setup and call).",
                       in_extra=True)  # fmt: skip

    late = _field("late", _mapping, "extra_data.late (see course/late.py), or empty when there is no due date.",
                  in_extra=True)  # fmt: skip

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

    def function_totals(self, function: str) -> tuple[float, float]:
        """(points earned, points possible) for one graded function."""
        tests = self.by_function().get(function, [])
        return sum(t.score for t in tests), sum(t.max_score for t in tests)

    def function_scores(self) -> dict[str, float]:
        """Points earned per graded function."""
        return {function: sum(t.score for t in tests) for function, tests in self.by_function().items()}

    def function_max_scores(self) -> dict[str, float]:
        return {function: sum(t.max_score for t in tests) for function, tests in self.by_function().items()}

    def evidence(self) -> dict:
        return _mapping(self.extra.get("evidence"))

    execution_time = _field("execution_time", _number, "Seconds the grading of this notebook took.")
    output = _field("output", _text, "The grader's note on the whole notebook (cells that did not run, limits hit).")


def functions_of(results: list[Results]) -> list[str]:
    """Graded functions of several students' results, in the order their tests ran."""
    return list(dict.fromkeys(f for result in results for f in result.functions()))


def recorded_seeds(results: dict | Results) -> dict[str, int]:
    """The rng seed of each test in an earlier results.json (malformed entries are left out)."""
    return Results.of(results).seeds()
