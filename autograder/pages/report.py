"""The class report: one self-contained HTML page that tells the instructor how an assignment went.

From the results.json of every student: the spread of scores (an embedded histogram), each hidden test's
pass rate (worst first), the failure messages the class got most often (the same message of the same test
means the same mistake), the slowest submissions, and the submissions that hit a limit or could not be
read, with why. Everything that came from results is HTML-escaped (nothing from a notebook is on this page
but such text); the page needs no other file.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
from collections import Counter
from pathlib import Path

from autograder.grading.results import Results
from autograder.pages import figures
from autograder.pages.text import esc as _esc

log = logging.getLogger(__name__)
TOP_FAILURES = 20  # failure messages listed
SLOWEST = 10  # submissions listed by grading time
NAMES_SHOWN = 8  # students named next to a failure message before "and N more"

STYLE = """<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px; color: #222;
  max-width: 1100px; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f5f5f5; } td.num, th.num { text-align: right; white-space: nowrap; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: 12px; }
.bar { display: inline-block; height: 10px; background: #3c763d; vertical-align: middle; }
.bar.low { background: #a94442; } .bar.mid { background: #e0a526; }
.note { color: #555; } .warn { color: #a94442; font-weight: bold; }
</style>"""


def _readable(results_by_student: dict[str, Results | dict]) -> dict[str, Results]:
    """Submissions whose notebook could be read: an unreadable file says nothing about the mistakes made."""
    typed = {student: Results.of(results) for student, results in results_by_student.items()}
    return {student: results for student, results in typed.items() if not results.load_error}


@dataclasses.dataclass(frozen=True)
class PassRate:
    name: str
    function: str
    points: float
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def pass_rates(results_by_student: dict[str, Results | dict]) -> list[PassRate]:
    """Each test's share of readable submissions that passed it, worst first (then by name)."""
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    info: dict[str, tuple[str, float]] = {}
    for results in _readable(results_by_student).values():
        for test in results.tests:
            total[test.name] += 1
            passed[test.name] += test.passed
            info.setdefault(test.name, (test.function, test.max_score))
    rates = [PassRate(name, *info[name], passed[name], total[name]) for name in total]
    return sorted(rates, key=lambda r: (r.rate, r.name))


@dataclasses.dataclass(frozen=True)
class Failure:
    test: str
    message: str
    students: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.students)


def frequent_failures(results_by_student: dict[str, Results | dict], limit: int = TOP_FAILURES) -> list[Failure]:
    """Failed tests grouped by test and identical message, most frequent first."""
    groups: dict[tuple[str, str], list[str]] = {}
    for student, results in sorted(_readable(results_by_student).items()):
        for test in results.tests:
            if not test.passed:
                groups.setdefault((test.name, test.output.strip()), []).append(student)
    failures = [Failure(test, message, tuple(students)) for (test, message), students in groups.items()]
    return sorted(failures, key=lambda f: (-f.count, f.test, f.message))[:limit]


def slowest(results_by_student: dict[str, Results | dict], limit: int = SLOWEST) -> list[tuple[str, float, dict]]:
    """(student, seconds, results) of the submissions that took longest to grade."""
    timed = [(s, Results.of(r).execution_time, r) for s, r in results_by_student.items()]
    return sorted(timed, key=lambda item: (-item[1], item[0]))[:limit]


def troubled(results_by_student: dict[str, Results | dict]) -> list[tuple[str, str, str]]:
    """(student, what happened, why) for each submission that could not be read or hit a limit."""
    rows = []
    for student, results in sorted(results_by_student.items()):
        typed = Results.of(results)
        if typed.load_error:
            rows.append((student, "could not be read", typed.load_error))
        if typed.hit_limit:
            rows.append((student, "hit a limit", "; ".join(typed.events) or typed.output))
    return rows


def late_rows(results_by_student: dict[str, Results | dict]) -> list[tuple[str, str, float, float, float]]:
    """(student, how late, tests' score, penalty, final score) of each submission with a late penalty."""
    rows = []
    for student, results in sorted(results_by_student.items()):
        typed = Results.of(results)
        if typed.penalty:
            rows.append((student, str(typed.late.get("reason", "")), typed.score, typed.penalty, typed.final_score))
    return rows


def _bar(rate: float) -> str:
    level = "low" if rate < 0.5 else "mid" if rate < 0.8 else ""
    return f'<span class="bar {level}" style="width: {round(100 * rate)}px"></span>'


def _points(value: float) -> str:
    return f"{value:g}"


def _names(students: tuple[str, ...]) -> str:
    shown = ", ".join(_esc(s) for s in students[:NAMES_SHOWN])
    more = len(students) - NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _overview(assignment: str, results_by_student: dict[str, Results | dict]) -> tuple[str, float]:
    scores = [Results.of(r).score for r in results_by_student.values()]
    max_scores = Counter(Results.of(r).max_score for r in results_by_student.values())
    max_score = max_scores.most_common(1)[0][0] if max_scores else 0.0
    readable = len(_readable(results_by_student))
    parts = [f"<h1>Class report: {_esc(assignment)}</h1>"]
    if scores:
        parts.append(
            f"<p>{len(scores)} submissions ({readable} readable). Score out of {_points(max_score)}: "
            f"mean {statistics.mean(scores):.2f}, median {statistics.median(scores):g}, "
            f"lowest {min(scores):g}, highest {max(scores):g}.</p>"
        )
    plain = sorted(s for s, r in results_by_student.items() if Results.of(r).isolation == "plain")
    if plain:
        parts.append(
            f'<p class="warn">{len(plain)} submissions were graded without isolation (bubblewrap was not '
            f"available): {_names(tuple(plain))}.</p>"
        )
    return "".join(parts), max_score


def _per_function(results_by_student: dict[str, Results | dict]) -> str:
    """Mean points and how many earned full marks, per graded function (readable submissions)."""
    earned: dict[str, list[float]] = {}
    possible: dict[str, float] = {}
    for results in _readable(results_by_student).values():
        top = results.function_max_scores()
        for function, value in results.function_scores().items():
            earned.setdefault(function, []).append(value)
            possible[function] = max(possible.get(function, 0.0), top[function])
    rows = "".join(
        f"<tr><td><code>{_esc(f)}</code></td><td class='num'>{statistics.mean(s):.2f} / {_points(possible[f])}</td>"
        f"<td class='num'>{sum(1 for v in s if possible[f] > 0 and v >= possible[f])} of {len(s)}</td></tr>"
        for f, s in earned.items()
    )
    return (
        "<table><thead><tr><th>function</th><th class='num'>mean points</th><th class='num'>full marks</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _histogram(scores: list[float], max_score: float) -> str:
    """The histogram as an image, or a note: a picture matplotlib cannot draw must not cost the report."""
    try:
        return figures.img_tag(figures.histogram_figure(scores, max_score), "histogram of the scores")
    except Exception as exc:  # matplotlib raises many kinds on numbers it cannot place
        log.warning("could not draw the histogram of the scores: %s: %s", type(exc).__name__, exc)
        return "<span class='note'>Could not draw the histogram of these scores.</span>"


def report_html(assignment: str, results_by_student: dict[str, Results | dict]) -> str:
    """The whole page as a string."""
    overview, max_score = _overview(assignment, results_by_student)
    parts = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Class report: {_esc(assignment)}'
        f"</title>\n{STYLE}\n</head>\n<body>\n",
        overview,
    ]
    scores = [Results.of(r).score for r in results_by_student.values()]
    if scores:
        parts.append(f"<h2>Scores</h2><p>{_histogram(scores, max_score)}</p>")
        parts.append(_per_function(results_by_student))

    rates = pass_rates(results_by_student)
    rows = "".join(
        f"<tr><td>{_esc(r.name)}</td><td><code>{_esc(r.function)}</code></td><td class='num'>{_points(r.points)}</td>"
        f"<td class='num'>{r.passed} of {r.total}</td><td class='num'>{100 * r.rate:.0f}%</td><td>{_bar(r.rate)}</td>"
        "</tr>"
        for r in rates
    )
    parts.append(
        "<h2>Pass rate per test</h2><p class='note'>Over the submissions that could be read; worst first.</p>"
        "<table><thead><tr><th>test</th><th>function</th><th class='num'>points</th><th class='num'>passed</th>"
        f"<th class='num'>rate</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
    )

    failures = frequent_failures(results_by_student)
    rows = "".join(
        f"<tr><td class='num'>{f.count}</td><td>{_esc(f.test)}</td><td><pre>{_esc(f.message or '(no message)')}</pre>"
        f"</td><td>{_names(f.students)}</td></tr>"
        for f in failures
    )
    parts.append(
        "<h2>Most frequent failures</h2><p class='note'>The same message from the same test is the same mistake."
        "</p>"
        + (
            "<table><thead><tr><th class='num'>students</th><th>test</th><th>message</th><th>who</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            if failures
            else "<p>No test failed.</p>"
        )
    )

    rows = "".join(
        f"<tr><td>{_esc(student)}</td><td class='num'>{seconds:.2f} s</td><td class='num'>"
        f"{_points(Results.of(r).score)} / {_points(Results.of(r).max_score)}</td>"
        f"<td>{'yes' if Results.of(r).hit_limit else ''}</td></tr>"
        for student, seconds, r in slowest(results_by_student)
    )
    parts.append(
        "<h2>Slowest submissions</h2><table><thead><tr><th>student</th><th class='num'>grading time</th>"
        f"<th class='num'>score</th><th>hit a limit</th></tr></thead><tbody>{rows}</tbody></table>"
    )

    trouble = troubled(results_by_student)
    rows = "".join(
        f"<tr><td>{_esc(student)}</td><td>{_esc(what)}</td><td><pre>{_esc(why)}</pre></td></tr>"
        for student, what, why in trouble
    )
    parts.append(
        "<h2>Limits hit and unreadable notebooks</h2>"
        + (
            f"<table><thead><tr><th>student</th><th>what</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>"
            if trouble
            else "<p>None: every notebook was read and ran within its limits.</p>"
        )
    )
    late = late_rows(results_by_student)
    if late:
        rows = "".join(
            f"<tr><td>{_esc(student)}</td><td>{_esc(reason)}</td><td class='num'>{_points(raw)}</td>"
            f"<td class='num'>-{_points(penalty)}</td><td class='num'>{_points(final)}</td></tr>"
            for student, reason, raw, penalty, final in late
        )
        parts.append(
            "<h2>Late submissions</h2><table><thead><tr><th>student</th><th>how late</th><th class='num'>tests</th>"
            f"<th class='num'>penalty</th><th class='num'>score</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append("\n</body>\n</html>\n")
    return "".join(parts)


def write_report(assignment: str, results_by_student: dict[str, Results | dict], path: Path) -> Path:
    """Write the class report to `path` (its folder is created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(assignment, results_by_student), encoding="utf-8")
    return path
