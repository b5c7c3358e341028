"""What a regrade changes: per student and per graded function, the points before and after and the messages
that changed, for `course grade` (printed after grading) and `course grade --preview` (graded in a scratch
folder, nothing written to OUT or the gradebook).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from autograder.course import Assignment
from autograder.grading.batch import Plan, grade_folder
from autograder.grading.results import Results


@dataclasses.dataclass(frozen=True)
class Change:
    student: str
    function: str
    before: tuple[float, float] | None  # (points, possible); None: the function was not graded before
    after: tuple[float, float] | None
    messages: tuple[tuple[str, str, str], ...]  # (test, message before, message after) where they differ


def read_all(out: Path) -> dict[str, Results]:
    """Every student's results.json in OUT (files that do not read are left out)."""
    found = {}
    for path in sorted(out.glob("*/results.json")):
        try:
            found[path.parent.name] = Results.read(path)
        except (OSError, ValueError):
            continue
    return found


def _message(test) -> str:
    return "passed" if test.passed else test.output


def changes(before: dict[str, Results], after: dict[str, Results], students: list[str]) -> list[Change]:
    """What changed for each of `students` that was graded before: functions whose points, possible points or
    messages differ."""
    found = []
    for student in students:
        old, new = before.get(student), after.get(student)
        if old is None or new is None:
            continue
        old_tests = {test.id: test for test in old.tests}
        for function in dict.fromkeys([*old.functions(), *new.functions()]):
            totals = [r.function_totals(function) if function in r.functions() else None for r in (old, new)]
            messages = []
            for test in new.by_function().get(function, []):
                previous = old_tests.get(test.id)
                if previous is not None and _message(previous) != _message(test):
                    messages.append((test.name, _message(previous), _message(test)))
            if totals[0] != totals[1] or messages:
                found.append(Change(student, function, totals[0], totals[1], tuple(messages)))
    return found


def _points(total: tuple[float, float] | None) -> str:
    return "-" if total is None else f"{total[0]:g}/{total[1]:g}"


def _short(text: str, width: int = 70) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def format_changes(changes: list[Change], before: dict[str, Results], after: dict[str, Results]) -> str:
    """A table of what changed, with how many students gain and lose points overall."""
    if not changes:
        return "no score or message changed"
    students = sorted({change.student for change in changes})
    gain = sum(1 for s in students if after[s].score > before[s].score)
    lose = sum(1 for s in students if after[s].score < before[s].score)
    lines = [f"{len(students)} students changed: {gain} gain points, {lose} lose points"]
    width = max(len("student"), *(len(s) for s in students))
    fwidth = max(len("function"), *(len(c.function) for c in changes))
    lines.append(f"{'student':<{width}}  {'function':<{fwidth}}  {'before':>9}  {'after':>9}  messages that changed")
    for change in changes:
        head = f"{change.student:<{width}}  {change.function:<{fwidth}}  "
        head += f"{_points(change.before):>9}  {_points(change.after):>9}"
        if not change.messages:
            lines.append(head)
        for number, (test, old, new) in enumerate(change.messages):
            prefix = head if number == 0 else " " * len(head)
            lines.append(f"{prefix}  {_short(test, 40)}: {_short(old)} -> {_short(new)}")
    return "\n".join(lines)


def preview(assignment: Assignment, submissions: Path, out: Path, **options) -> tuple[Plan, dict, dict]:
    """Grade as `course grade` would, into a scratch copy of OUT's results, recording nothing: the plan and
    the results before and after, by student. OUT, the gradebook and the course's folders are not touched."""
    before = read_all(out)
    plans: list[Plan] = []
    with tempfile.TemporaryDirectory(prefix="course-preview-") as scratch:
        for student in before:
            (Path(scratch) / student).mkdir()
            shutil.copyfile(out / student / "results.json", Path(scratch) / student / "results.json")
        after = grade_folder(assignment, submissions, Path(scratch), on_plan=plans.append, **options)
    return plans[0], before, after
