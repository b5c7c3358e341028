"""Finding submissions in both layouts, the grades table, reruns that skip unchanged notebooks, a batch that
survives an exception on any one submission, and the grading workers' memory ceiling."""

import csv
import io
import json
import multiprocessing
import resource
import subprocess
import sys

import pytest

from autograder.authoring.check import samples
from autograder.gradebook.export import scores
from autograder.gradebook.records import Recorder
from autograder.grading import batch
from autograder.grading.batch import already_graded, discover, grade_folder, grades_csv, results_path
from autograder.grading.ceiling import cap_memory
from autograder.grading.jobs import Job, NoSubmissions
from autograder.grading.notebook import fingerprint
from autograder.grading.results import Results


def test_nbgrader_layout_and_flat_folder(tmp_path):
    (tmp_path / "alice" / "line_fit").mkdir(parents=True)
    (tmp_path / "alice" / "line_fit" / "line_fit.ipynb").write_text("{}")
    (tmp_path / "bob" / "line_fit").mkdir(parents=True)  # submitted nothing: still gets a row
    (tmp_path / "carol.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("not a submission")
    jobs = discover("line_fit", tmp_path)
    assert [(j.student, j.notebook.name) for j in jobs] == [
        ("alice", "line_fit.ipynb"),
        ("bob", "line_fit.ipynb"),
        ("carol", "carol.ipynb"),
    ]


def test_student_in_both_layouts_is_an_error(tmp_path):
    (tmp_path / "alice" / "line_fit").mkdir(parents=True)
    (tmp_path / "alice.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="both"):
        discover("line_fit", tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(NoSubmissions, match="does not exist"):
        discover("line_fit", tmp_path / "nope")


def test_grades_csv_is_quoted_and_sums_per_function():
    results = {
        "score": 3.0,
        "max_score": 5.0,
        "tests": [
            {"score": 1.0, "tags": ["mse"]},
            {"score": 2.0, "tags": ["mse"]},
            {"score": 0.0, "tags": ["train"]},
        ],
    }
    text = grades_csv([('o"brien, jr', results)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["student", "score", "max_score", "mse", "train"]
    assert rows[1] == ['o"brien, jr', "3.0", "5.0", "3.0", "0.0"]
    assert text.splitlines()[1].startswith('"o""brien, jr"')


def test_rerun_skips_only_unchanged_notebooks(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text('{"cells": []}')
    (job,) = discover("line_fit", tmp_path)
    out = tmp_path / "out"
    assert not already_graded(out, job)
    results_path(out, "alice").parent.mkdir(parents=True)
    results_path(out, "alice").write_text(json.dumps({"extra_data": {"notebook_sha256": fingerprint(notebook)}}))
    assert already_graded(out, job)
    notebook.write_text('{"cells": [], "changed": true}')
    assert not already_graded(out, job)


def test_a_folder_without_submissions_is_an_error_not_an_empty_grade_sheet(line_fit, tmp_path):
    (tmp_path / "alice").mkdir()  # e.g. a student folder without the assignment's subfolder
    with pytest.raises(ValueError, match="no submissions of line_fit"):
        grade_folder(line_fit, tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_links_and_paths_outside_the_submissions_are_refused_not_followed(tmp_path):
    secret = tmp_path / "elsewhere" / "secret.ipynb"
    secret.parent.mkdir()
    secret.write_text('{"cells": []}')
    submissions = tmp_path / "submissions"
    (submissions / "bob" / "line_fit").mkdir(parents=True)
    (submissions / "alice.ipynb").symlink_to(secret)
    (submissions / "bob" / "line_fit" / "line_fit.ipynb").symlink_to(secret)
    (submissions / "carol").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere" / "line_fit").mkdir()
    (tmp_path / "elsewhere" / "line_fit" / "line_fit.ipynb").write_text("{}")
    (submissions / "dave.ipynb").write_text("{}")
    jobs = {job.student: job for job in discover("line_fit", submissions)}
    assert set(jobs) == {"alice", "bob", "carol", "dave"}
    assert "symbolic link" in jobs["alice"].refused and "symbolic link" in jobs["bob"].refused
    assert "symbolic link" in jobs["carol"].refused  # the student's folder itself is the link
    assert jobs["dave"].refused is None


# -- a batch survives any notebook -----------------------------------------------------------------------


class ExplodingGrader:
    """Grades every notebook full marks, but raises on boom.ipynb, as a grader bug would."""

    def __init__(self, assignment, require_isolation):
        self.assignment = assignment

    def grade(self, notebook, seeds=None, refused=None) -> Results:
        if notebook.stem == "boom":
            raise AttributeError("'str' object has no attribute 'get'")
        test = {"id": "t", "name": "mse: t", "score": 4.0, "max_score": 4.0, "status": "passed", "tags": ["mse"]}
        return Results({"score": 4.0, "max_score": 4.0, "tests": [test],
                        "extra_data": {"notebook_sha256": fingerprint(notebook)}})  # fmt: skip

    def close(self) -> None:
        pass


def flat_folder(tmp_path, *students):
    for student in students:
        (tmp_path / "lms" / f"{student}.ipynb").parent.mkdir(exist_ok=True)
        (tmp_path / "lms" / f"{student}.ipynb").write_text(json.dumps({"cells": [], "student": student}))
    return tmp_path / "lms"


@pytest.mark.slow
def test_an_exception_while_grading_one_notebook_costs_that_student_only(line_fit, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "Grader", ExplodingGrader)
    submissions, out = flat_folder(tmp_path, "alice", "boom", "carol"), tmp_path / "out"
    graded = grade_folder(line_fit, submissions, out, workers=1)
    assert graded["alice"].score == graded["carol"].score == 4
    boom = graded["boom"]
    assert boom.score == 0 and boom.max_score == 20  # every hidden test of line_fit, each failed with the reason
    assert "the grader failed on this notebook (AttributeError" in boom.load_error
    assert all(not test.passed and "the grader failed" in test.output for test in boom.tests)
    assert "boom" in (out / "grades.csv").read_text()
    written = {path: path.stat().st_mtime_ns for path in out.glob("*/results.json")}
    grade_folder(line_fit, submissions, out, workers=1)  # a rerun does not fail on it again
    assert {path: path.stat().st_mtime_ns for path in out.glob("*/results.json")} == written


def test_a_row_the_gradebook_refuses_becomes_a_zero_with_the_reason(line_fit, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "Grader", ExplodingGrader)
    submissions, out = flat_folder(tmp_path, "alice", "bob"), tmp_path / "out"
    recorded = {}

    def record(job, results):
        if job.student == "bob" and not results.load_error:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        recorded[job.student] = results

    graded = grade_folder(line_fit, submissions, out, workers=1, on_result=record)
    assert graded["alice"].score == recorded["alice"].score == 4
    assert graded["bob"].score == recorded["bob"].score == 0
    assert "its grades could not be recorded (UnicodeEncodeError" in recorded["bob"].load_error
    assert already_graded(out, discover("line_fit", submissions)[1])  # written, so a rerun does not stall on it


def test_a_gradebook_that_takes_no_row_at_all_stops_the_batch(line_fit, tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "Grader", ExplodingGrader)

    def record(job, results):
        raise PermissionError("gradebook.db is read-only")

    with pytest.raises(PermissionError):
        grade_folder(line_fit, flat_folder(tmp_path, "alice"), tmp_path / "out", workers=1, on_result=record)
    kept = Results.read(tmp_path / "out" / "alice" / "results.json")  # written before the row: kept, not lost
    assert "its grades could not be recorded (PermissionError" in kept.load_error


class Killed(BaseException):
    """A stop no `except Exception` catches, as a SIGKILL or Ctrl-C between two writes would be."""


def test_a_batch_stopped_between_results_json_and_the_gradebook_records_the_row_on_the_rerun(
    make_course, tmp_path, monkeypatch
):
    monkeypatch.setattr(batch, "Grader", ExplodingGrader)
    course = make_course("stopped")
    line_fit, recorder = course.assignment("line_fit"), Recorder(course, "line_fit")
    submissions, out = flat_folder(tmp_path, "alice", "bob"), tmp_path / "out"

    def stopped_at_bob(job, results):
        if job.student == "bob":
            raise Killed
        recorder(job, results)

    with pytest.raises(Killed):
        grade_folder(line_fit, submissions, out, workers=1, on_result=stopped_at_bob)
    assert Results.read(out / "bob" / "results.json").score == 4  # results.json came first
    assert set(scores(course, "line_fit")) == {"alice"}  # the row did not
    written = {path: path.stat().st_mtime_ns for path in out.glob("*/results.json")}

    monkeypatch.setattr(batch, "Grader", None)  # the rerun grades nobody: it records bob's row from results.json
    grade_folder(line_fit, submissions, out, workers=1, on_result=recorder)
    assert {path: path.stat().st_mtime_ns for path in out.glob("*/results.json")} == written
    assert scores(course, "line_fit")["bob"]["mse"] == scores(course, "line_fit")["alice"]["mse"] == 4
    assert recorder.holds(discover("line_fit", submissions)[1], Results.read(out / "bob" / "results.json"))


# -- the grader's own memory ceiling ---------------------------------------------------------------------


def _allocate(megabytes: int) -> str:
    cap_memory(256)
    try:
        bytearray(megabytes * 2**20)
    except MemoryError:
        return "MemoryError"
    return "allocated"


def test_the_memory_ceiling_stops_an_allocation_past_it_and_only_that():
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_allocate, (100,)) == "allocated"
        assert pool.apply(_allocate, (1024,)) == "MemoryError"


def _capped_under(lower_mb: int) -> bool:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    mapped = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    lower = mapped + lower_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (lower, hard))
    cap_memory(2**20)  # a ceiling of a TB: the lower limit a TA set with ulimit -v stays
    return resource.getrlimit(resource.RLIMIT_AS)[0] == lower


def test_a_lower_limit_already_set_stays():
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_capped_under, (512,))


@pytest.mark.slow
def test_torch_imports_and_computes_under_the_default_ceiling():
    code = (
        "from autograder.course.limits import Limits; from autograder.grading.ceiling import cap_memory; "
        "cap_memory(Limits().grader_memory_mb); import torch; print(torch.ones(1000, 1000).sum().item())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "1000000.0", done.stderr[-2000:]


MEMORY_BOMB = "def mse(y_pred, y_true):\n    return [[None] * 100_000] * 39\n"  # 3.9 million values, 58 MB


def _grade_and_measure(job) -> tuple[Results, float]:
    _, results = batch._grade((job, None))
    return results, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_the_memory_bomb_is_graded_within_its_budget_and_a_gigabyte(released_course, release_notebook, tmp_path):
    """`mse` returning `[[None] * 100_000] * 39` took a grading worker to 3.5 GB and 210 s before the decoding
    budget; it costs mse its points and nothing else, in a worker that stays near a correct notebook's size."""
    line_fit = released_course.assignment("line_fit")
    sources = {**samples.reference_sources(line_fit), "mse": MEMORY_BOMB}
    notebook = samples.write(samples.fill_stubs(samples.read(release_notebook), sources), tmp_path / "bomb.ipynb")
    context = multiprocessing.get_context("fork")
    with context.Pool(1, initializer=batch._init_worker, initargs=(line_fit, False)) as pool:
        results, peak_mb = pool.apply(_grade_and_measure, (Job("bomb", notebook),))
    print(f"\nmemory bomb: the grading worker's peak RSS was {peak_mb:.0f} MB, grading took "
          f"{results.execution_time:.1f} s")  # fmt: skip
    assert results.function_scores() == {"mse": 0, "sgd_step": 4, "train": 6, "loss_landscape": 3, "gradients": 3}
    assert peak_mb < 1024 and results.execution_time < line_fit.limits().submission_seconds
