"""`course bench` (make bench): our grader against `nbgrader autograde` on the same correct submissions.

Both run in the same session on the same throwaway course, through their command lines (so start-up
costs count), each recording into the course's gradebook. Prints seconds per submission for each, the
ratio, the grader's peak memory (resident set of its whole process tree, sandboxes included), and how our
time per submission changes from N to a larger class.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.authoring.check import samples
from autograder.authoring.release import release
from autograder.course import Assignment
from autograder.devtools.demo import make_course
from autograder.sandbox.launcher import isolation


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_measured(argv: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak tree RSS of a command; raises if it fails."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({process.returncode}):\n{stderr.decode()[-3000:]}")
    return seconds, peak


def make_submissions(assignment: Assignment, release_folder: Path, n: int) -> Path:
    """n correct submissions in nbgrader's submitted/<student>/<assignment>/ layout, each with the
    release's helper files beside the notebook, as nbgrader's exchange delivers them."""
    name = assignment.name
    notebook = samples.fill_stubs(samples.read(release_folder / f"{name}.ipynb"), samples.reference_sources(assignment))
    submitted = assignment.course.submitted
    for i in range(n):
        folder = submitted / f"student{i:03d}" / name
        shutil.copytree(release_folder, folder)
        samples.write(notebook, folder / f"{name}.ipynb")
    return submitted


def ours(course_root: Path, assignment: str, submitted: Path, out: Path, *options: str) -> tuple[float, int]:
    argv = [sys.executable, "-m", "autograder", "grade", assignment, str(submitted), "--out", str(out), *options]
    return run_measured([*argv, "--course-root", str(course_root), "--force"], course_root)


def nbgraders(course_root: Path, assignment: str) -> tuple[float, int]:
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    return run_measured([nbgrader, "autograde", assignment, "--force"], course_root)


def run_bench(n: int = 20, large_n: int = 200, assignment: str | None = None, scheduler: str | None = None) -> dict:
    """course grade against nbgrader autograde (and a class of large_n), or, with `scheduler`, local grading
    against grading on that Dask cluster, on the same n correct submissions."""
    assignment = assignment or "line_fit"
    mode, reason = isolation()
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        course = make_course(Path(tmp) / "course", example=assignment)
        release_folder = release(course, assignment)
        submitted = make_submissions(course.assignment(assignment), release_folder, n)
        print(
            f"N = {n} correct submissions, {os.cpu_count()} cores, sandbox: {mode}" + (f" ({reason})" if reason else "")
        )
        our_seconds, our_peak = ours(course.root, assignment, submitted, course.root / "graded")
        if scheduler:
            cluster_seconds, _ = ours(course.root, assignment, submitted, course.root / "clustered", "--scheduler",
                                      scheduler)  # fmt: skip
            for label, seconds in (("course grade", our_seconds), (f"on {scheduler}", cluster_seconds)):
                print(f"{label:<24} {seconds / n:6.3f} s/submission  ({seconds:.1f} s in all)")
            print(f"{'ratio':<24} {cluster_seconds / our_seconds:6.2f}x the local time (cluster start included)")
            return {"n": n, "ours": our_seconds / n, "cluster": cluster_seconds / n}
        # before nbgrader's autograde, which rewrites autograded/ (and with it the results the pages are made from)
        page_seconds, _ = run_measured([sys.executable, "-m", "autograder", "feedback", assignment], course.root)
        their_seconds, their_peak = nbgraders(course.root, assignment)
        ratio = their_seconds / our_seconds
        print(f"course grade        {our_seconds / n:6.3f} s/submission  ({our_seconds:.1f} s in all)")
        print(f"course feedback     {page_seconds / n:6.3f} s/page        ({page_seconds:.1f} s in all)")
        print(f"nbgrader autograde  {their_seconds / n:6.3f} s/submission  ({their_seconds:.1f} s in all)")
        print(f"ratio               {ratio:6.1f}x faster")
        print(f"peak memory         course grade {our_peak / 2**20:.0f} MB, nbgrader {their_peak / 2**20:.0f} MB")
        figures = {"n": n, "ours": our_seconds / n, "nbgrader": their_seconds / n, "ratio": ratio, "peak": our_peak,
                   "feedback": page_seconds / n}  # fmt: skip
        if large_n > n:
            shutil.rmtree(submitted)
            submitted = make_submissions(course.assignment(assignment), release_folder, large_n)
            large_seconds, large_peak = ours(course.root, assignment, submitted, course.root / "graded_large")
            growth = (large_seconds / large_n) / (our_seconds / n)
            print(
                f"N = {large_n}: course grade {large_seconds / large_n:.3f} s/submission "
                f"({growth:.2f}x the N = {n} figure), peak memory {large_peak / 2**20:.0f} MB"
            )
            figures.update(large_n=large_n, ours_large=large_seconds / large_n, growth=growth)
    return figures


CHECK_SCRIPT = """
import json, sys, time
for source in json.loads(sys.argv[1]).values():  # the notebook's functions, as a student's kernel has them
    exec("from __future__ import annotations\\n" + source, globals())
import contextlib, io
from course_utils import check
times = {}
for name in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()):
        check(name)  # the first call imports pytest and the public tests
        started = time.perf_counter()
        result = check(name)
    times[name] = [time.perf_counter() - started, result.passed, result.total]
print(json.dumps(times))
"""


def check_times(course_root: Path, assignment: str) -> dict[str, list]:
    """Seconds for a warm check("<function>") of each graded function, in a process that has the reference's
    functions defined, run from the release folder as a student's kernel is."""
    from autograder.course import Course

    made = Course.at(course_root).assignment(assignment)
    sources = samples.reference_sources(made)
    folder = made.course.release / assignment
    # as the notebooks' first cell does: torch on one thread (two threads on two busy cores are far slower)
    setup = "import torch, numpy as np\ntorch.set_num_threads(1)\n"
    done = subprocess.run([sys.executable, "-c", setup + CHECK_SCRIPT, json.dumps(sources)],
                          cwd=folder, capture_output=True, text=True, timeout=600)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"check() bench failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_check_bench(assignments: tuple[str, ...] = ("line_fit", "mlp_spirals")) -> dict:
    """check() in a warm kernel, for each graded function of each of the kit's assignments."""
    figures = {}
    with tempfile.TemporaryDirectory(prefix="course-bench-check-") as tmp:
        for assignment in assignments:
            course = make_course(Path(tmp) / assignment, example=assignment)
            release(course, assignment)
            figures[assignment] = check_times(course.root, assignment)
            for name, (seconds, passed, total) in figures[assignment].items():
                print(
                    f"check({name!r}) {'':<{18 - len(name)}} {seconds:6.3f} s  ({passed}/{total} public tests passed)"
                )
    return figures
