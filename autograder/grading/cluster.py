"""Grading on a Dask cluster: `course grade ... --scheduler tcp://HOST:PORT` (or `local:N` for a try).

Workers are plain `dask worker tcp://HOST:PORT` processes started from the kit's environment. Everything an
assignment needs to be graded (hidden tests, reference, helpers, limits, course_utils, the source notebook's
grade ids) travels from the client as one bundle, a tar archive named by its sha256: a worker unpacks each
bundle once, checks its hash, and keeps a warm sandbox per bundle, so that it never grades with stale tests
after an instructor changes them. A task is one submission (its notebook's bytes and its replay seeds); its
result is the results.json data, which only the client writes (to OUT, grades.csv and the gradebook), as in
local grading.

What crosses between client and workers is made by trusted code on both sides (Dask pickles it): student
code still runs only in the workers' sandboxes, and only plain data comes out of those.

A worker process grades one submission at a time (the hidden tests run in its process, as pytest does); to
use every core of a machine, start one worker process per core (`dask worker --nworkers N --nthreads 1`).
A worker that dies mid-task (SIGKILL, a lost machine, its nanny's --memory-limit) costs a retry on another
worker; a submission that kills `distributed.scheduler.allowed-failures` + 1 workers in a row is recorded
with that reason. A worker process takes the assignment's grader memory ceiling (ceiling.py) at its first
submission, as a local grading worker does. Any other exception while grading a submission is that
student's row, as in a local batch.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from autograder.course import Assignment
from autograder.errors import KitError
from autograder.grading.bundle import bundle, unpack
from autograder.grading.ceiling import cap_memory
from autograder.grading.engine import Grader, check_isolation, grading_failed, not_graded
from autograder.grading.jobs import Job
from autograder.grading.results import Results
from autograder.sandbox.launcher import IsolationRefused


class ClusterError(KitError, RuntimeError):
    """The cluster cannot be reached or named as given; str(self) says what to do."""


# -- the worker side -------------------------------------------------------------------------------------

_lock = threading.Lock()  # one grading at a time per worker process: pytest runs in the process
_unpacked: dict[str, tuple[tempfile.TemporaryDirectory, Assignment]] = {}
_graders: dict[tuple[str, bool], Grader] = {}


def _assignment(digest: str, data: bytes, name: str) -> Assignment:
    """The bundle unpacked (once per worker process), after checking that it is what the client named."""
    if hashlib.sha256(data).hexdigest() != digest:
        raise RuntimeError(f"the bundle of {name} does not match its hash: refusing to grade with it")
    if digest not in _unpacked:
        folder = tempfile.TemporaryDirectory(prefix=f"course-bundle-{digest[:12]}-")
        _unpacked[digest] = (folder, unpack(data, Path(folder.name), name))
    return _unpacked[digest][1]


def _worker_address() -> str:
    from distributed import get_worker

    try:
        return get_worker().address
    except ValueError:  # called outside a worker (the kit's tests)
        return "(not a dask worker)"


def grade_task(digest: str, data: bytes, name: str, notebook: bytes | None, seeds: dict | None,
               require_isolation: bool) -> Results:  # fmt: skip
    """One submission graded on this worker: its Results. `notebook` None: no file was submitted."""
    with _lock:
        assignment = _assignment(digest, data, name)
        try:
            check_isolation(assignment, require_isolation)
        except IsolationRefused as exc:
            raise IsolationRefused(f"worker {_worker_address()}: {exc}") from None
        key = (digest, require_isolation)
        if key not in _graders:
            for stale in list(_graders):  # one warm sandbox per worker: an older bundle's goes (~0.3 GB each)
                _graders.pop(stale).close()
            for old in [d for d in _unpacked if d != digest]:  # and so do older bundles' files
                _unpacked.pop(old)[0].cleanup()
            cap_memory(assignment.limits().grader_memory_mb)  # once: a lower ceiling already set stays
            _graders[key] = Grader(assignment, require_isolation)
        with tempfile.TemporaryDirectory(prefix="course-submission-") as folder:
            path = Path(folder) / f"{name}.ipynb"
            if notebook is not None:
                path.write_bytes(notebook)
            try:
                return _graders[key].grade(path, seeds=seeds)
            except KitError:
                raise
            except Exception as exc:  # as in a local batch: this notebook's row says so, the others are graded
                return grading_failed(assignment, path, exc)


# -- the client side -------------------------------------------------------------------------------------


def connect(scheduler: str):
    """A distributed.Client for `tcp://HOST:PORT`, or for a new local cluster of N worker processes (`local:N`)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        message = "grading on a cluster needs dask and distributed: pip install 'torch-course-kit[cluster]'"
        raise ClusterError(message) from None
    if scheduler.startswith("local:"):
        workers = int(scheduler.removeprefix("local:")) if scheduler[6:].isdigit() else 0
        if workers < 1:
            raise ClusterError(f"--scheduler {scheduler}: local:N needs a number of workers N >= 1")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster)
    return Client(scheduler)


OnResult = Callable[[Job, Results], None]


def grade_on_cluster(assignment: Assignment, jobs: list[Job], scheduler: str, require_isolation: bool,
                     on_result: OnResult, seeds: dict[str, dict] | None = None) -> None:  # fmt: skip
    """Grade every job on the cluster, calling on_result(job, results) here as each one arrives."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    data = bundle(assignment)
    digest = hashlib.sha256(data).hexdigest()
    with connect(scheduler) as client:
        shared = client.scatter(data, broadcast=True)  # sent to each worker once, not with every task
        futures = {}
        for job in jobs:
            if job.refused is not None:  # never read, so never sent: graded here, as locally
                on_result(job, not_graded(assignment, job.notebook, job.refused))
                continue
            notebook = job.notebook.read_bytes() if job.notebook.is_file() else None
            future = client.submit(
                grade_task, digest, shared, assignment.name, notebook, (seeds or {}).get(job.student),
                require_isolation, key=f"grade-{digest[:12]}-{job.student}", pure=False,
            )  # fmt: skip
            futures[future] = job
        for future in as_completed(futures):
            job = futures[future]
            try:
                results = future.result()
            except KilledWorker:  # the scheduler's allowed-failures: this notebook ends its worker every time
                reason = "grading it ended the grading machine's worker process every time it was tried"
                results = not_graded(assignment, job.notebook, reason)
            on_result(job, results)
