"""`course grade`: grade a folder of submissions in parallel and write results.json files and grades.csv.

Each worker process owns one warm sandbox and grades one submission after another. Only this (parent)
process writes files, each atomically, after the submission's sandboxed process is gone; a rerun skips
submissions whose results.json came from the same notebook bytes unless forced.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import io
import json
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from autograder.course import Assignment
from autograder.grading.engine import grade_notebook, recorded_seeds, sandbox_for
from autograder.grading.late import LatePolicy, submission_time
from autograder.grading.notebook import fingerprint
from autograder.grading.results import Results, functions_of
from autograder.sandbox.launcher import Sandbox, SandboxError, isolation


@dataclasses.dataclass(frozen=True)
class Job:
    student: str
    notebook: Path  # may not exist: a student folder without a notebook still gets a row
    refused: str | None = None  # why the file is not read at all (it points outside the submissions)


def refusal(path: Path, submissions: Path) -> str | None:
    """Why a submission must not be read: a symbolic link on the way to it, or a path that resolves outside
    the submissions folder. The grader never follows either to read what it points at."""
    for part in [path, *path.parents]:
        if part == submissions:
            break
        if part.is_symlink():
            return "the submission is a symbolic link, not a notebook file; it was not read"
    if not path.resolve().is_relative_to(submissions.resolve()):
        return "the submission resolves to a file outside the submissions folder; it was not read"
    return None


def discover(assignment: str, submissions: Path) -> list[Job]:
    """nbgrader's `<student>/<assignment>/*.ipynb` layout, or a flat LMS folder of `<student>.ipynb`."""
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions folder {submissions} does not exist")
    jobs = {}
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if folder.is_dir():
            preferred = folder / f"{assignment}.ipynb"
            found = sorted(folder.glob("*.ipynb"))
            notebook = preferred if preferred.exists() else (found[0] if found else preferred)
            jobs[student_dir.name] = Job(student_dir.name, notebook, refusal(notebook, submissions))
    for notebook in sorted(submissions.glob("*.ipynb")):
        if notebook.is_file() or notebook.is_symlink():
            if notebook.stem in jobs:
                raise ValueError(f"student {notebook.stem!r} has both a folder and a flat notebook")
            jobs[notebook.stem] = Job(notebook.stem, notebook, refusal(notebook, submissions))
    return sorted(jobs.values(), key=lambda job: job.student)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def results_path(out: Path, student: str) -> Path:
    return out / student / "results.json"


def previous_results(out: Path, job: Job) -> dict | None:
    """The student's last results.json, if it graded this very notebook (same bytes); else None."""
    try:
        previous = json.loads(results_path(out, job.student).read_text())
        recorded = Results.of(previous).extra.get("notebook_sha256")
        same = not job.refused and recorded == fingerprint(job.notebook) != ""
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return previous if same else None


def already_graded(out: Path, job: Job) -> bool:
    return previous_results(out, job) is not None


def previous_seeds(out: Path, job: Job) -> dict[str, int]:
    """The seeds of the student's last grading, if it graded this very notebook: a resubmission is never
    graded on inputs its author may have seen in feedback."""
    return recorded_seeds(previous_results(out, job) or {})


# -- worker processes ------------------------------------------------------------------------------------

_sandbox: Sandbox | None = None


def _init_worker(assignment: Assignment, require_isolation: bool) -> None:
    global _sandbox
    # The hidden tests' reference solutions need torch: import it while the sandbox starts (mostly waiting).
    importer = threading.Thread(target=importlib.import_module, args=("torch",))
    importer.start()
    try:
        _sandbox = sandbox_for(assignment, require_isolation)
    finally:
        importer.join()
    multiprocessing.util.Finalize(_sandbox, _sandbox.cleanup, exitpriority=10)


def _grade(args: tuple[Assignment, Job, dict | None]) -> tuple[Job, dict]:
    assignment, job, seeds = args
    return job, grade_notebook(assignment, job.notebook, _sandbox, seeds=seeds, refused=job.refused)


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
    on_result: Callable[[Job, dict], None],
    seeds: dict[str, dict] | None = None,
) -> None:
    """Grade every job, calling on_result(job, results) in this process as each one finishes. `seeds`: per
    student, the rng seeds of an earlier grading to replay."""
    if not jobs:
        return
    mode, reason = isolation()
    if mode == "plain" and require_isolation:
        raise SandboxError(f"--require-sandbox: {reason}")
    workers = max(1, min(workers, len(jobs)))
    tasks = [(assignment, job, (seeds or {}).get(job.student)) for job in jobs]
    if workers == 1:
        _init_worker(assignment, require_isolation)
        try:
            for task in tasks:
                on_result(*_grade(task))
        finally:
            _sandbox.cleanup()
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(assignment, require_isolation)) as pool:
        results: Iterator = pool.imap_unordered(_grade, tasks)
        for job, result in results:
            on_result(job, result)
        pool.close()
        pool.join()


def format_table(results: dict[str, dict]) -> str:
    """Each student's score, one line each, for the terminal."""
    width = max([len("student"), *map(len, results)])
    lines = [f"{'student':<{width}}  score"]
    for student, result in sorted(results.items()):
        typed = Results(result)
        flag = "  (could not be read)" if typed.load_error else ""
        lines.append(f"{student:<{width}}  {typed.score:g}/{typed.max_score:g}{flag}")
    return "\n".join(lines)


def grades_csv(rows: list[tuple[str, dict]]) -> str:
    """One row per student: total, max, and the points earned per graded function. Properly quoted."""
    typed = [(student, Results(results)) for student, results in rows]
    functions = functions_of([results for _, results in typed])
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *functions])
    for student, results in typed:
        per_function = results.function_scores()
        writer.writerow([student, results.score, results.max_score, *(per_function.get(f, 0.0) for f in functions)])
    return buffer.getvalue()


def late_info(policy: LatePolicy, job: Job, results: dict, use_mtime: bool) -> dict:
    """How late the job's notebook came, and the penalty on its raw score; no known time counts as on time."""
    submitted = None if job.refused else submission_time(job.notebook, use_mtime)
    if submitted is None:
        due = policy.due_for(job.student).isoformat()
        return {"submitted": None, "due": due, "extended": job.student in policy.extensions, "days_late": 0,
                "percent": 0.0, "penalty": 0.0, "reason": "no submission time known: counted as on time"}  # fmt: skip
    return policy.late(job.student, submitted, Results(results).score)


def grade_folder(
    assignment: Assignment,
    submissions: Path,
    out: Path,
    workers: int | None = None,
    force: bool = False,
    require_isolation: bool = False,
    on_result: Callable[[Job, dict], None] | None = None,
    replay: bool = False,
    scheduler: str | None = None,
    use_mtime: bool = True,
) -> dict[str, dict]:
    """Grade a folder into OUT/<student>/results.json and OUT/grades.csv; returns results by student.
    `replay` regrades everyone with the inputs of their previous grading of the same notebook (the seeds in
    their results.json), to reproduce a disputed result. `scheduler`: grade on a Dask cluster (see cluster.py)
    instead of local sandboxes. With a due date (late.toml), each result gets extra_data.late from the
    submission's time: nbgrader's timestamp.txt, else the file's mtime (unless `use_mtime` is False)."""
    jobs = discover(assignment.name, submissions)
    if not jobs:
        name = assignment.name
        raise ValueError(
            f"no submissions of {name} in {submissions}: expected <student>/{name}/*.ipynb folders "
            "(nbgrader's submitted/) or <student>.ipynb files (an LMS download)"
        )
    todo = [job for job in jobs if force or replay or not already_graded(out, job)]
    seeds = {job.student: previous_seeds(out, job) for job in todo} if replay else None
    progress = Progress(len(todo), f"grading {assignment.name}")

    policy = assignment.late_policy()

    def record(job: Job, results: dict) -> None:
        if policy is not None:
            results["extra_data"]["late"] = late_info(policy, job, results, use_mtime)
        # results.json is the mark of a finished submission, so it is written last: a batch killed
        # in between regrades this submission on the next run, and on_result replaces, never duplicates.
        if on_result is not None:
            on_result(job, results)
        write_atomically(results_path(out, job.student), json.dumps(results, indent=1))
        progress.step()

    if scheduler:
        from autograder.grading.cluster import grade_on_cluster

        grade_on_cluster(assignment, todo, scheduler, require_isolation, record, seeds)
    else:
        grade_all(assignment, todo, workers or os.cpu_count() or 1, require_isolation, record, seeds)
    everything = {job.student: json.loads(results_path(out, job.student).read_text()) for job in jobs}
    rows = sorted(everything.items())
    write_atomically(out / "grades.csv", grades_csv(rows))
    return everything
