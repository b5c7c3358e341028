"""`course grade`: grade a folder of submissions in parallel and write results.json files and grades.csv.

Each worker process owns one warm sandbox and grades one submission after another, under a memory ceiling
(Limits.grader_memory_mb), so that no reply from a sandbox can take the host. Only this (parent) process
writes files, each atomically, after the submission's sandboxed process is gone: results.json first, then the
gradebook row. A rerun grades what is new or resubmitted, regrades a notebook when what grades it changed
(hidden tests, helpers, reference, limits, the kit's grading code: bundle.grading_fingerprint) with the same
inputs as before, and skips the rest unless forced; a regrade keeps the results it replaces in
OUT/<student>/previous/. It records from results.json a row the gradebook does not hold (a batch stopped
between the two writes).

A batch survives any notebook: an exception while reading, grading or recording one submission becomes that
student's row, with 0 and the reason, and grading goes on. Only what no submission can cause stops it: a
KitError while grading (the course or the machine is not fit to grade), or a gradebook that takes no row.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import importlib
import io
import logging
import multiprocessing
import os
import resource
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from autograder.course import Assignment
from autograder.course.files import atomic_write
from autograder.errors import KitError
from autograder.grading.bundle import grading_fingerprint
from autograder.grading.ceiling import cap_memory
from autograder.grading.engine import Grader, check_isolation, grading_failed
from autograder.grading.jobs import Job, NoSubmissions, discover, late_info
from autograder.grading.notebook import fingerprint
from autograder.grading.results import Results, functions_of

log = logging.getLogger(__name__)


def results_path(out: Path, student: str) -> Path:
    return out / student / "results.json"


def previous_results(out: Path, job: Job) -> Results | None:
    """The student's last results.json, if it graded this very notebook (same bytes); else None."""
    try:
        previous = Results.read(results_path(out, job.student))
        same = not job.refused and previous.notebook_sha256 == fingerprint(job.notebook) != ""
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return previous if same else None


def _not_recorded(job: Job, results: Results, exc: Exception) -> Results:
    log.error("recording %s's grades failed", job.student, exc_info=exc)
    return results.zeroed(f"its grades could not be recorded ({type(exc).__name__}: {str(exc)[:300]})")


def already_graded(out: Path, job: Job) -> bool:
    return previous_results(out, job) is not None


@dataclasses.dataclass(frozen=True)
class Plan:
    """Which submissions a run grades, and why."""

    new: tuple[Job, ...]  # never graded, or resubmitted (other notebook bytes)
    regrade: tuple[Job, ...]  # the same notebook again: what grades it changed, or --force, or --replay
    skipped: tuple[Job, ...]  # the same notebook, graded by the same tests and code

    @property
    def todo(self) -> list[Job]:
        return [*self.new, *self.regrade]

    def summary(self) -> str:
        return f"graded {len(self.new)}, regraded {len(self.regrade)}, skipped {len(self.skipped)} (unchanged)"


def plan(jobs: list[Job], out: Path, graded_with: str, force: bool = False, replay: bool = False) -> Plan:
    new, regrade, skipped = [], [], []
    for job in jobs:
        previous = previous_results(out, job)
        if previous is None:
            new.append(job)
        elif force or replay or previous.graded_with != graded_with:
            regrade.append(job)
        else:
            skipped.append(job)
    return Plan(tuple(new), tuple(regrade), tuple(skipped))


def keep_previous(path: Path, results: Results) -> None:
    """Before results.json is replaced by other results, keep it in previous/ beside it, named by the time."""
    try:
        old = path.read_text(encoding="utf-8")
    except (OSError, ValueError):  # none, or not text: nothing worth keeping
        return
    if old != results.to_json():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        atomic_write(path.parent / "previous" / f"results-{stamp}.json", old)


def previous_seeds(out: Path, job: Job) -> dict[str, int]:
    """The seeds of the student's last grading, if it graded this very notebook: a resubmission is never
    graded on inputs its author may have seen in feedback."""
    previous = previous_results(out, job)
    return previous.seeds() if previous is not None else {}


# -- worker processes ------------------------------------------------------------------------------------

_grader: Grader | None = None


def _init_worker(assignment: Assignment, require_isolation: bool) -> None:
    global _grader
    cap_memory(assignment.limits().grader_memory_mb)
    # The hidden tests' reference solutions need torch: import it while the sandbox starts (mostly waiting).
    importer = threading.Thread(target=importlib.import_module, args=("torch",))
    importer.start()
    try:
        _grader = Grader(assignment, require_isolation)
    finally:
        importer.join()
    multiprocessing.util.Finalize(_grader, _grader.close, exitpriority=10)


def _grade(args: tuple[Job, dict | None]) -> tuple[Job, Results]:
    job, seeds = args
    try:
        return job, _grader.grade(job.notebook, seeds=seeds, refused=job.refused)
    except KitError:
        raise
    except Exception as exc:  # MemoryError included: this notebook's row says so, the others are graded
        return job, grading_failed(_grader.assignment, job.notebook, exc)


# -- the batch -------------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, label: str, stream=sys.stderr):
        self.total, self.done, self.label, self.stream = total, 0, label, stream
        self.enabled = stream.isatty() and total > 0

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            filled = int(30 * self.done / self.total)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def grade_all(
    assignment: Assignment,
    jobs: list[Job],
    workers: int,
    require_isolation: bool,
    on_result: Callable[[Job, Results], None],
    seeds: dict[str, dict] | None = None,
) -> None:
    """Grade every job, calling on_result(job, results) in this process as each one finishes. `seeds`: per
    student, the rng seeds of an earlier grading to replay."""
    if not jobs:
        return
    check_isolation(assignment, require_isolation)  # refused here, before any worker starts
    workers = max(1, min(workers, len(jobs)))
    tasks = [(job, (seeds or {}).get(job.student)) for job in jobs]
    if workers == 1:  # graded in this process: its own memory limit comes back afterwards
        address_space = resource.getrlimit(resource.RLIMIT_AS)
        try:
            _init_worker(assignment, require_isolation)
            try:
                for task in tasks:
                    on_result(*_grade(task))
            finally:
                _grader.close()
        finally:
            resource.setrlimit(resource.RLIMIT_AS, address_space)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(assignment, require_isolation)) as pool:
        results: Iterator = pool.imap_unordered(_grade, tasks)
        for job, result in results:
            on_result(job, result)
        pool.close()
        pool.join()


def format_table(results: dict[str, Results]) -> str:
    """Each student's score, one line each, for the terminal."""
    width = max([len("student"), *map(len, results)])
    lines = [f"{'student':<{width}}  score"]
    for student, result in sorted(results.items()):
        typed = Results.of(result)
        flag = "  (could not be read)" if typed.load_error else ""
        lines.append(f"{student:<{width}}  {typed.score:g}/{typed.max_score:g}{flag}")
    return "\n".join(lines)


def grades_csv(rows: list[tuple[str, Results | dict]]) -> str:
    """One row per student: total, max, and the points earned per graded function. Properly quoted."""
    typed = [(student, Results.of(results)) for student, results in rows]
    functions = functions_of([results for _, results in typed])
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *functions])
    for student, results in typed:
        per_function = results.function_scores()
        writer.writerow([student, results.score, results.max_score, *(per_function.get(f, 0.0) for f in functions)])
    return buffer.getvalue()


def grade_folder(
    assignment: Assignment,
    submissions: Path,
    out: Path,
    workers: int | None = None,
    force: bool = False,
    require_isolation: bool = False,
    on_result: Callable[[Job, Results], None] | None = None,
    replay: bool = False,
    scheduler: str | None = None,
    use_mtime: bool = True,
    on_plan: Callable[[Plan], None] | None = None,
) -> dict[str, Results]:
    """Grade a folder into OUT/<student>/results.json and OUT/grades.csv; returns results by student.
    `replay` regrades everyone with the inputs of their previous grading of the same notebook (the seeds in
    their results.json), to reproduce a disputed result. `scheduler`: grade on a Dask cluster (see cluster.py)
    instead of local sandboxes. With a due date (late.toml), each result gets extra_data.late from the
    submission's time: nbgrader's timestamp.txt, else the file's mtime (unless `use_mtime` is False).
    `on_plan` is told which submissions are graded, regraded and skipped before grading starts."""
    jobs = discover(assignment.name, submissions)
    if not jobs:
        name = assignment.name
        raise NoSubmissions(
            f"no submissions of {name} in {submissions}: expected <student>/{name}/*.ipynb folders "
            "(nbgrader's submitted/) or <student>.ipynb files (an LMS download)"
        )
    graded_with = grading_fingerprint(assignment)
    planned = plan(jobs, out, graded_with, force, replay)
    if on_plan is not None:
        on_plan(planned)
    todo = planned.todo
    # A regrade of the same notebook draws the same inputs (a fresh draw only with --force), so that its scores
    # change because the tests did, and a resubmission is never graded on inputs its author saw in feedback.
    seeds = {job.student: previous_seeds(out, job) for job in planned.regrade if replay or not force}
    progress = Progress(len(todo), f"grading {assignment.name}")

    policy = assignment.late_policy()

    def record(job: Job, results: Results) -> None:
        # results.json comes first, then the gradebook row: a rerun never grades a recorded notebook again and
        # never stalls on one that failed, and one killed between the two writes records the row it missed
        # from results.json (see rerecord). on_result replaces a row, never duplicates it.
        results = results.with_extra(graded_with=graded_with)
        if policy is not None:
            try:
                results = results.with_extra(late=late_info(policy, job, results.score, use_mtime))
            except Exception as exc:
                results = _not_recorded(job, results, exc)
        keep_previous(results_path(out, job.student), results)
        results.write(results_path(out, job.student))
        if on_result is not None:
            deliver(job, results)
        progress.step()

    def deliver(job: Job, results: Results) -> None:
        assert on_result is not None
        try:
            on_result(job, results)
        except Exception as exc:
            results = _not_recorded(job, results, exc)
            results.write(results_path(out, job.student))
            on_result(job, results)  # a gradebook that takes not even this row stops the batch

    def rerecord(job: Job) -> None:
        """A skipped submission whose row the recorder does not hold (a batch stopped between the writes)."""
        holds = getattr(on_result, "holds", None)
        previous = previous_results(out, job)
        if on_result is not None and holds is not None and previous is not None and not holds(job, previous):
            log.info("%s's results.json is not in the gradebook yet: recording it", job.student)
            deliver(job, previous)

    grading = {job.student for job in todo}
    for job in jobs:
        if job.student not in grading:
            rerecord(job)
    if scheduler:
        from autograder.grading.cluster import grade_on_cluster

        grade_on_cluster(assignment, todo, scheduler, require_isolation, record, seeds)
    else:
        grade_all(assignment, todo, workers or os.cpu_count() or 1, require_isolation, record, seeds)
    everything = {job.student: Results.read(results_path(out, job.student)) for job in jobs}
    rows = sorted(everything.items())
    atomic_write(out / "grades.csv", grades_csv(rows))
    return everything
