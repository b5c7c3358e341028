"""Grading on a real Dask cluster: a `dask scheduler` and two plain `dask worker` processes on 127.0.0.1.

The cluster gives the same score per test as local grading (same inputs, through --replay); a worker killed
with SIGKILL mid-batch costs a retry elsewhere, and every submission is still recorded exactly once; a bundle
that does not match its hash is refused; a changed hidden test reaches the workers without a restart.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.authoring.check import catalogue, samples
from autograder.authoring.release import release
from autograder.course import Course
from autograder.gradebook.records import open_gradebook

pytestmark = pytest.mark.slow
ASSIGNMENT = "line_fit"
BIN = Path(sys.executable).parent
MISTAKES = (
    "mse_sums",
    "sgd_step_without_no_grad",
    "train_never_zeroes_grad",
    "loss_landscape_swapped",
    "gradients_hard_coded",
)


def course_command(*args: str, cwd: Path, **popen):
    argv = [sys.executable, "-m", "autograder", *args]
    if popen:
        return subprocess.Popen(argv, cwd=cwd, **popen)
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"course {' '.join(args)}:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done


class Cluster:
    """A scheduler and workers as separate processes, each in its own process group (a worker's nanny and its
    worker process die together, as when a machine is lost)."""

    def __init__(self, folder: Path, workers: int = 2):
        self.folder = folder
        scheduler_file = folder / "scheduler.json"
        argv = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0"]
        self.scheduler = self._start([*argv, "--scheduler-file", str(scheduler_file)])
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.workers = [self.add_worker() for _ in range(workers)]

    def _start(self, argv: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{len(list(self.folder.glob('*.log')))}.log", "w")  # noqa: SIM115
        return subprocess.Popen(argv, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def add_worker(self) -> subprocess.Popen:
        return self._start([str(BIN / "dask"), "worker", self.address])  # nothing else on the command line

    def kill(self, process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            self.kill(process)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def course(make_course) -> Course:
    made = make_course("cluster")
    release(made, ASSIGNMENT)
    return made


def write_class(course: Course, folder: Path, names: tuple[str, ...], correct: int) -> list[str]:
    """Catalogue mistakes and correct submissions as a flat LMS folder; returns the students."""
    assignment = course.assignment(ASSIGNMENT)
    notebook = course.release / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    book = {entry.name: entry for entry in catalogue.load(assignment).MISTAKES} if names else {}
    students = []
    for name in names:
        catalogue.build(notebook, catalogue.full(assignment, book[name]), folder / f"{name}.ipynb")
        students.append(name)
    reference = samples.reference_sources(assignment)
    for i in range(correct):
        samples.write(samples.fill_stubs(samples.read(notebook), reference), folder / f"s{i:02d}.ipynb")
        students.append(f"s{i:02d}")
    return students


def per_test(out: Path) -> dict[str, dict[str, float]]:
    return {
        path.parent.name: {t["name"]: t["score"] for t in json.loads(path.read_text())["tests"]}
        for path in sorted(out.glob("*/results.json"))
    }


def test_the_cluster_grades_as_local_grading_does(cluster, course, tmp_path):
    lms = tmp_path / "lms"
    students = write_class(course, lms, MISTAKES, correct=2)
    out = tmp_path / "graded"
    course_command("grade", ASSIGNMENT, str(lms), "--out", str(out), cwd=course.root)
    local = per_test(out)
    assert sorted(local) == sorted(students) and any(sum(s.values()) < 20 for s in local.values())
    done = course_command("grade", ASSIGNMENT, str(lms), "--out", str(out), "--replay", "--scheduler",
                          cluster.address, cwd=course.root)  # fmt: skip
    assert per_test(out) == local  # the same inputs, the same score for every test
    isolation = {json.loads(p.read_text())["extra_data"]["isolation"] for p in out.glob("*/results.json")}
    assert isolation <= {"bwrap-root", "bwrap-user", "plain"}
    assert all(f"{student} " in done.stdout for student in students)
    from distributed import Client

    def ceiling():  # runs on each worker, sent by value: what it needs, it imports there
        import resource

        from autograder.grading import cluster as worker_side

        return bool(worker_side._graders), resource.getrlimit(resource.RLIMIT_AS)[0]

    with Client(cluster.address, timeout=60) as client:  # every worker that graded has the grader's ceiling
        ceilings = client.run(ceiling)
    graded = [limit for busy, limit in ceilings.values() if busy]
    assert graded and all(0 < limit < 16 * 2**30 for limit in graded), ceilings


def test_a_worker_killed_mid_batch_costs_a_retry_and_nothing_twice(cluster, course, tmp_path):
    lms = tmp_path / "lms"
    students = write_class(course, lms, (), correct=12)
    out = tmp_path / "graded"
    log = tmp_path / "grade.log"
    writes: dict[str, set[int]] = {}  # student -> the inodes their results.json had (one per write)

    def watch() -> None:
        for path in out.glob("*/results.json"):
            try:
                writes.setdefault(path.parent.name, set()).add(path.stat().st_ino)
            except FileNotFoundError:
                pass

    with open(log, "w") as output:
        batch = course_command("grade", ASSIGNMENT, str(lms), "--out", str(out), "--scheduler", cluster.address,
                               cwd=course.root, stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 300
        while len(list(out.glob("*/results.json"))) < 2 and batch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        victim = cluster.workers.pop(0)
        cluster.kill(victim)  # the machine is lost: its nanny and worker die at once
        cluster.workers.append(cluster.add_worker())
        while batch.poll() is None and time.monotonic() < deadline + 300:
            watch()
            time.sleep(0.02)
        watch()
        assert batch.returncode == 0, log.read_text()[-4000:]
    results = per_test(out)
    assert sorted(results) == sorted(students) and all(sum(s.values()) == 20 for s in results.values())
    assert all(len(inodes) == 1 for inodes in writes.values()), f"written twice: {writes}"
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert sorted(row["student"] for row in rows) == sorted(students)  # one row each
    with open_gradebook(course) as book:
        submitted = [s for s in book.find_assignment(ASSIGNMENT).submissions if s.student.id in students]
        assert sorted(s.student.id for s in submitted) == sorted(students) and all(s.score == 20 for s in submitted)


def test_a_bundle_that_does_not_match_its_hash_is_refused(course):
    from autograder.grading.bundle import bundle
    from autograder.grading.cluster import _assignment

    data = bundle(course.assignment(ASSIGNMENT))
    assert bundle(course.assignment(ASSIGNMENT)) == data  # the same files, the same bytes, the same hash
    with pytest.raises(RuntimeError, match="does not match its hash"):
        _assignment("0" * 64, data, ASSIGNMENT)


def test_changed_hidden_tests_reach_the_workers(cluster, make_course, tmp_path):
    """An instructor edits a hidden test between two gradings: the workers grade with the new one."""
    made = make_course("changing")
    release(made, ASSIGNMENT)
    lms = tmp_path / "lms"
    write_class(made, lms, (), correct=1)
    argv = ("grade", ASSIGNMENT, str(lms), "--out", str(tmp_path / "graded"), "--scheduler", cluster.address)
    course_command(*argv, cwd=made.root)
    test_file = made.hidden_tests / ASSIGNMENT / "test_mse.py"
    test_file.write_text(test_file.read_text().replace('"""value matches on random float32', '"""NEW: value matches'))
    done = course_command(*argv, cwd=made.root)  # no --force: a changed hidden test regrades by itself
    assert "graded 0, regraded 1, skipped 0" in done.stdout
    names = json.loads((tmp_path / "graded" / "s00" / "results.json").read_text())["tests"]
    assert any(t["name"].startswith("mse: NEW: value matches") for t in names)
