"""`course check A`: everything an instructor needs to trust an assignment before release, in one run.

In a scratch copy of the course (its gradebook and folders are never touched) it checks consistency and
collection (consistency.py), releases the assignment, and grades with the real engine and sandbox:
the reference on K fresh draws (draws.py), the untouched release, the assignment's catalogue (catalogue.py),
the thieves (thieves.py) and the mutants of the reference (mutants.py). Returns one `Finding` per check and
subject; any FAILED one makes `course check` exit non-zero.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from autograder.authoring.check import catalogue, mutants, samples, thieves
from autograder.authoring.check.consistency import check_consistency
from autograder.authoring.check.draws import draw_findings
from autograder.authoring.check.findings import FAILED, NOTE, OK, Finding
from autograder.authoring.release import release
from autograder.course import Assignment, Course
from autograder.grading.engine import Grader
from autograder.grading.results import Results

log = logging.getLogger(__name__)

DRAWS = 20
MUTATION_SCORE = 0.9  # per function: the share of non-equivalent mutants the hidden tests must kill
SECRET_LINE_CHARS = 24  # shorter lines of the reference or the tests are idioms a hint may name


def scratch_course(course: Course, folder: Path) -> Course:
    """A copy of what the course's assignments are made of (config, sources, solutions, hidden tests,
    course_utils) in `folder`: releasing and grading there touch nothing of the course's own."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")
    shutil.copy2(course.root / "nbgrader_config.py", folder / "nbgrader_config.py")
    for part in (course.source, course.solutions, course.hidden_tests, course.course_utils):
        if part.is_dir():
            shutil.copytree(part, folder / part.relative_to(course.root), ignore=ignore)
    return Course.at(folder)


def check_course(
    course: Course,
    names: list[str],
    draws: int = DRAWS,
    with_mutants: bool = True,
    replay: dict[str, int] | None = None,
    progress: Callable[[str], None] = log.info,
) -> dict[str, list[Finding]]:
    """Findings for each named assignment of the course (all of them when `names` is empty)."""
    names = names or course.assignment_names()
    with tempfile.TemporaryDirectory(prefix="course-check-") as scratch:
        copy = scratch_course(course, Path(scratch))
        return {name: check_assignment(copy.assignment(name), draws, with_mutants, replay, progress)
                for name in names}  # fmt: skip


def check_assignment(
    assignment: Assignment,
    draws: int = DRAWS,
    with_mutants: bool = True,
    replay: dict[str, int] | None = None,
    progress: Callable[[str], None] = log.info,
) -> list[Finding]:
    """Every check of one assignment of a scratch course (see scratch_course): it is released there."""
    if draws < 1:
        raise ValueError("course check needs at least one draw of the reference")
    found = check_consistency(assignment)
    if any(f.failed for f in found):
        return found  # nothing can be graded right: fix these first
    progress(f"{assignment.name}: releasing")
    release_notebook = release(assignment.course, assignment.name) / f"{assignment.name}.ipynb"
    work = assignment.course.root / "check"
    reference = samples.reference_sources(assignment)
    with Grader(assignment) as grader:
        reference_notebook = catalogue.build(release_notebook, reference, work / "reference.ipynb")
        if replay:
            progress(f"{assignment.name}: replaying {', '.join(replay)}")
            return found + draw_findings([grader.grade(reference_notebook, seeds=replay)], grader.limits)
        graded = []
        for number in range(1, draws + 1):
            progress(f"{assignment.name}: the reference, draw {number} of {draws}")
            graded.append(grader.grade(reference_notebook))
        found += draw_findings(graded, grader.limits)
        progress(f"{assignment.name}: the untouched release")
        untouched = grader.grade(release_notebook)
        found += _untouched_findings(untouched)
        points = graded[0].function_max_scores()
        book_found, messages = _catalogue_findings(assignment, grader, points, release_notebook, reference, work,
                                                   progress)  # fmt: skip
        found += book_found
        progress(f"{assignment.name}: the thieves")
        found += _thief_findings(grader.grade(thieves.thieves_notebook(assignment, work / "thieves.ipynb")))
        found += _leak_findings(assignment, release_notebook, [graded[0], untouched, *messages])
        if with_mutants:
            found += _mutant_findings(assignment, grader, release_notebook, reference, work, progress)
    return found


def _untouched_findings(results: Results) -> list[Finding]:
    wrong = [t for t in results.tests if t.passed or "not implemented" not in t.output]
    if results.score > 0 or wrong:
        details = "; ".join(f"{t.name}: {'passed' if t.passed else t.output[:80]}" for t in wrong[:3])
        return [
            Finding(
                "release",
                FAILED,
                "untouched release",
                f"{results.score:g} points; tests that do not say 'not implemented': {details}",
            )
        ]
    return [Finding("release", OK, "untouched release", "0 points, 'not implemented' in every test")]


def _failures(results: Results) -> str:
    return "; ".join(f"{t.name}: {t.output[:120]}" for t in results.tests if not t.passed)[:400]


def _catalogue_findings(assignment, grader, points, release_notebook, reference, work, progress):
    """Correct variants at full marks; each mistake loses points in its own function only, with a message;
    do-nothing entries 0; every hidden test catches some mistake; a broken unrelated cell costs nothing.
    Returns the findings and every graded Results (for the leak check)."""
    if not (assignment.tests / catalogue.CATALOGUE_NAME).is_file():
        return [Finding("catalogue", NOTE, assignment.name, f"no {catalogue.CATALOGUE_NAME}: nothing to check")], []
    book = catalogue.load(assignment)
    found, graded = [], []
    caught: set[str] = set()
    mistakes = list(book.MISTAKES)
    entries = [*catalogue.correct(book), *mistakes]
    for number, entry in enumerate(entries, 1):
        progress(f"{assignment.name}: catalogue entry {number} of {len(entries)} ({entry.name})")
        notebook = catalogue.build(release_notebook, {**reference, **entry.sources}, work / f"{entry.name}.ipynb")
        results = grader.grade(notebook)
        graded.append(results)
        scores = results.function_scores()
        if entry.loses is None:
            if results.score != results.max_score:
                found.append(
                    Finding("catalogue", FAILED, entry.name, f"a correct variant lost points: {_failures(results)}")
                )
            continue
        failed = {t.id.rsplit("::", 1)[-1] for t in results.tests if not t.passed}
        caught |= {t.id for t in results.tests if not t.passed}
        problems = []
        if entry.loses not in scores:
            problems.append(f"it names {entry.loses!r}, which is not a graded function")
        elif scores[entry.loses] >= points[entry.loses]:
            problems.append(f"not caught: full marks in {entry.loses}")
        elif entry.zero and scores[entry.loses] != 0:
            problems.append(f"a do-nothing entry earns {scores[entry.loses]:g} in {entry.loses}")
        if entry.fails and failed != set(entry.fails):
            problems.append(f"should fail only {sorted(entry.fails)}, failed {sorted(failed)}")
        elsewhere = {f: s for f, s in scores.items() if f != entry.loses and s != points.get(f)}
        if elsewhere:
            problems.append(f"it also costs points in {', '.join(elsewhere)}")
        silent = [t.name for t in results.tests if not t.passed and not t.output.strip()]
        if silent:
            problems.append(f"failed without a message: {', '.join(silent)}")
        if problems:
            found.append(Finding("catalogue", FAILED, entry.name, f"{entry.what}: " + "; ".join(problems)))
    names = {t.id: t.name for t in (graded[0].tests if graded else [])}
    for test_id in sorted(set(names) - caught):
        found.append(Finding("catalogue", FAILED, names[test_id], "no mistake of the catalogue fails this test"))
    if getattr(book, "SYNTAX_ERROR_CELLS", None):
        progress(f"{assignment.name}: a syntax error in an unrelated cell")
        notebook = catalogue.build(release_notebook, reference, work / "syntax.ipynb", cells=book.SYNTAX_ERROR_CELLS)
        results = grader.grade(notebook)
        graded.append(results)
        if results.score != results.max_score or "SyntaxError" not in results.output:
            found.append(
                Finding(
                    "catalogue",
                    FAILED,
                    "syntax error in an unrelated cell",
                    f"it cost points or was not reported: {_failures(results)}",
                )
            )
    if not any(f.failed for f in found):
        found.append(Finding("catalogue", OK, assignment.name,
                             f"{len(entries) - len(mistakes)} correct entries at full marks, {len(mistakes)} "
                             f"mistakes each caught in its own function"))  # fmt: skip
    return found, graded


def _thief_findings(results: Results) -> list[Finding]:
    paid = {f: s for f, s in results.function_scores().items() if s > 0}
    if not paid:
        return [Finding("thieves", OK, "every function", "the thieves earn 0")]
    found = []
    for function, score in paid.items():
        tests = ", ".join(t.name for t in results.tests if t.function == function and t.passed)
        found.append(
            Finding(
                "thieves",
                FAILED,
                function,
                f"a thief that only looks for the answer earns {score:g}: {tests}. Declare the helper "
                f"that builds its answer in STANDS_FOR, or pay this property only with a right value",
            )
        )
    return found


def _leak_findings(assignment: Assignment, release_notebook: Path, graded: list[Results]) -> list[Finding]:
    """No message a student reads shows a line of the reference or of the hidden tests, or a traceback."""
    public = {line.strip() for cell in json.loads(release_notebook.read_text(encoding="utf-8"))["cells"]
              for line in "".join(cell["source"]).splitlines()}  # fmt: skip
    files = [assignment.course.solutions / f"{assignment.name}.py", *sorted(assignment.tests.glob("test_*.py"))]
    secret = {line.strip() for path in files for line in path.read_text(encoding="utf-8").splitlines()}
    secret = {line for line in secret if len(line) >= SECRET_LINE_CHARS and line not in public}
    found = []
    for results in graded:
        for text in [results.output, *(t.output for t in results.tests)]:
            leaked = [line for line in secret if line in text]
            if leaked or re.search(r"\bref\.|solutions/|hidden_tests|test_\w+\.py|Traceback|assert ", text):
                found.append(
                    Finding(
                        "messages",
                        FAILED,
                        results.extra.get("notebook", "?"),
                        f"a message shows hidden code: {(leaked or [text])[0][:120]!r}",
                    )
                )
    return found[:5] or [Finding("messages", OK, "every message", "no line of the reference or the tests shown")]


def _mutant_findings(assignment, grader, release_notebook, reference, work, progress) -> list[Finding]:
    marked = mutants.equivalents(assignment)
    found = []
    for function, source in reference.items():
        made = mutants.mutants_of(function, source)
        equivalent = marked.get(function, {})
        stale = sorted(set(equivalent) - {m.id for m in made})
        if stale:
            found.append(
                Finding(
                    "mutants",
                    FAILED,
                    function,
                    f"{mutants.EQUIVALENTS_NAME} marks mutants that no longer exist: {stale[:3]}",
                )
            )
        graded = [m for m in made if m.id not in equivalent]
        survivors = []
        for number, mutant in enumerate(graded, 1):
            progress(f"{assignment.name}: {function}, mutant {number} of {len(graded)}")
            notebook = catalogue.build(release_notebook, {**reference, function: mutant.source},
                                       work / "mutant.ipynb")  # fmt: skip
            results = grader.grade(notebook, only=function)
            if results.score >= results.max_score:
                survivors.append(mutant)
        if not graded:
            found.append(Finding("mutants", NOTE, function, f"no mutant to grade ({len(made)} made, all equivalent)"))
            continue
        score = 1 - len(survivors) / len(graded)
        shown = "\n".join(f"survived: {m.id}\n{m.diff(source)}" for m in survivors[:5])
        status = FAILED if score < MUTATION_SCORE else OK if not survivors else NOTE
        found.append(
            Finding(
                "mutants",
                status,
                function,
                f"mutation score {score:.0%}: {len(graded) - len(survivors)} of {len(graded)} killed, "
                f"{len(equivalent)} marked equivalent" + (f"\n{shown}" if shown else ""),
            )
        )
    return found
