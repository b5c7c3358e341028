"""The pipeline through the `course` command, on a real nbgrader course: grade into the gradebook, export,
feedback. The gradebook agrees with results.json; a TA's manual score survives a regrade; every kind of bad
input is a row with score 0 and its reason everywhere; a notebook that broke the grader costs only its own
points, and a rerun grades nothing again; a batch killed with SIGKILL and run again grades every submission
exactly once.
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

from autograder.authoring.check import samples
from autograder.authoring.release import release
from autograder.course import Course
from autograder.devtools.demo import MISTAKES
from autograder.gradebook.export import scores
from autograder.gradebook.records import open_gradebook
from autograder.grading.results import Results

pytestmark = pytest.mark.slow
ASSIGNMENT = "line_fit"
QUOTED = 'o"brien, jr'  # an LMS file name that CSV must quote

# Bad inputs: the file's bytes, and words the reason given for it must contain.
BAD_INPUTS = {
    "corrupt_json": (b'{"cells": [ this is not json', "not valid notebook JSON"),
    "empty_file": (b"", "empty"),
    "not_utf8": ('{"cells": []} caf\u00e9'.encode("latin-1"), "not UTF-8"),
    "zero_cells": (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), "no cells"),
}
REFUSED = {"linked": "symbolic link", "other_assignment": "not from this assignment"}


def _graded_cell(notebook: dict) -> dict:
    return next(cell for cell in notebook["cells"] if "nbgrader" in cell.get("metadata", {}))


# Notebooks that stopped a batch with AttributeError or TypeError: the student's notebook, one field broken.
MALFORMED = {
    "nbgrader_string": (lambda nb: _graded_cell(nb)["metadata"].update(nbgrader="test_mse"),
                        "metadata.nbgrader is a string, not an object"),
    "cell_not_object": (lambda nb: nb["cells"].insert(3, "print('hi')"), "cells[3] is a string, not an object"),
    "cells_not_list": (lambda nb: nb.update(cells=dict(enumerate(nb["cells"]))), "cells is an object, not a list"),
    "source_not_string": (lambda nb: _graded_cell(nb).update(source=["x = 1\n", 42]),
                          ".source[1] is a number, not a string"),
}  # fmt: skip
# Code that broke the grader's side while the notebook ran: it costs the student mse's 4 points and no more.
CRASHING = {
    "surrogate": ('def mse(y_pred, y_true):\n    raise ValueError("\\ud800 \\x00")\n', "ValueError: \ufffd \ufffd"),
    "memory_bomb": ("def mse(y_pred, y_true):\n    return [[None] * 100_000] * 3\n", "returned a value too large"),
}


def course_command(*args: str, course_root: Path, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    argv = [sys.executable, "-m", "autograder", *args]
    if popen:
        return subprocess.Popen(argv, cwd=course_root, **popen)
    done = subprocess.run(argv, cwd=course_root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"course {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def other_assignment(release_notebook: dict) -> dict:
    """A well-formed notebook whose graded cells belong to some other assignment."""
    notebook = json.loads(json.dumps(release_notebook))
    for cell in notebook["cells"]:
        nbgrader = cell.get("metadata", {}).get("nbgrader")
        if nbgrader and "grade_id" in nbgrader:
            nbgrader["grade_id"] = "other_" + nbgrader["grade_id"]
    return notebook


def function_points(results: dict) -> dict[str, float]:
    return Results(results).function_scores()


@pytest.fixture(scope="module")
def course(make_course, tmp_path_factory) -> Path:
    made = make_course("pipeline")
    root = made.root
    released = release(made, ASSIGNMENT)
    notebook = samples.read(released / f"{ASSIGNMENT}.ipynb")
    full = samples.reference_sources(made.assignment(ASSIGNMENT))
    lms = root / "lms_download"
    samples.write(samples.fill_stubs(notebook, full), lms / "alice.ipynb")
    samples.write(samples.fill_stubs(notebook, full), lms / f"{QUOTED}.ipynb")
    samples.write(samples.fill_stubs(notebook, {**full, **MISTAKES["mse_sums"]}), lms / "bob.ipynb")
    samples.write(other_assignment(notebook), lms / "other_assignment.ipynb")
    for student, (source, _) in CRASHING.items():
        samples.write(samples.fill_stubs(notebook, {**full, "mse": source}), lms / f"{student}.ipynb")
    for student, (spoil, _) in MALFORMED.items():
        spoilt = samples.fill_stubs(notebook, full)
        spoil(spoilt)
        samples.write(spoilt, lms / f"{student}.ipynb")
    for student, (data, _) in BAD_INPUTS.items():
        (lms / f"{student}.ipynb").write_bytes(data)
    outside = tmp_path_factory.mktemp("elsewhere") / "someone_elses.ipynb"
    outside.write_bytes((lms / "alice.ipynb").read_bytes())
    (lms / "linked.ipynb").symlink_to(outside)  # a link to a file the student should not reach
    course_command("grade", ASSIGNMENT, str(lms), "--out", str(root / "graded"), course_root=root)  # found from cwd
    return root


@pytest.fixture(scope="module")
def feedback(course) -> dict[str, str]:
    course_command("feedback", ASSIGNMENT, "--course-root", str(course), course_root=course)
    pages = sorted((course / "feedback").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html"))
    return {page.parent.parent.name: page.read_text(encoding="utf-8") for page in pages}


def results_of(course: Path) -> dict[str, dict]:
    return {
        path.parent.name: json.loads(path.read_text()) for path in sorted((course / "graded").glob("*/results.json"))
    }


def test_the_gradebook_agrees_with_results_json(course):
    results = results_of(course)
    table = scores(Course.at(course), ASSIGNMENT)
    assert set(table) == set(results) == {"alice", "bob", QUOTED, *REFUSED, *BAD_INPUTS, *MALFORMED, *CRASHING}
    for student, result in results.items():
        assert table[student] == pytest.approx(function_points(result)), student
        assert sum(table[student].values()) == pytest.approx(result["score"]), student
    assert results["alice"]["score"] == results["alice"]["max_score"] == 20
    assert 0 < results["bob"]["score"] < 20 and table["bob"]["mse"] < 4 and table["bob"]["train"] == 6


def test_nbgrader_export_sees_the_same_scores(course, tmp_path):
    """nbgrader's own export (totals only) reads our grades from the gradebook. It does not quote fields, so
    the row of a student id with a comma comes out broken: that student is what `course export` is for."""
    out = tmp_path / "nbgrader.csv"
    nbgrader = Path(sys.executable).parent / "nbgrader"
    done = subprocess.run([str(nbgrader), "export", "--to", str(out)], cwd=course, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(io.StringIO(out.read_text()))}
    table = scores(Course.at(course), ASSIGNMENT)
    expected = {student: sum(row.values()) for student, row in table.items() if "," not in student}
    assert {student: exported[student] for student in expected} == pytest.approx(expected)


def test_nbgrader_folders_hold_every_submission(course):
    for student in results_of(course):
        copied = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert copied.is_file() != (student == "linked"), student  # what a link points at is never copied
        assert (course / "autograded" / student / ASSIGNMENT / "results.json").is_file(), student


@pytest.mark.parametrize("student", [*BAD_INPUTS, *MALFORMED, *REFUSED])
def test_bad_input_is_a_zero_with_its_reason_everywhere(course, feedback, student):
    expected = {**{name: reason for name, (_, reason) in {**BAD_INPUTS, **MALFORMED}.items()}, **REFUSED}[student]
    result = results_of(course)[student]
    assert result["score"] == 0 and result["max_score"] == 20
    assert expected in result["extra_data"]["load_error"] and expected in result["output"]
    assert all(test["score"] == 0 and test["status"] == "failed" for test in result["tests"])
    with open_gradebook(Course.at(course)) as book:
        submission = book.find_submission(ASSIGNMENT, student)
        assert submission.score == 0
        comments = [c.auto_comment or "" for nb in submission.notebooks for c in nb.comments]
        assert comments and all(expected in comment for comment in comments)
    assert expected in feedback[student] and "0 / 20" in feedback[student]


@pytest.mark.parametrize("student", CRASHING)
def test_a_notebook_that_broke_the_grader_costs_its_student_that_function_only(course, feedback, student):
    """A lone surrogate in an exception failed the gradebook's write and stopped the batch; a reply of
    300,000 values took the grader's memory."""
    expected = CRASHING[student][1]
    result = Results.read(course / "graded" / student / "results.json")
    assert result.function_scores() == {"mse": 0, "sgd_step": 4, "train": 6, "loss_landscape": 3, "gradients": 3}
    assert all(expected in test.output for test in result.by_function()["mse"])
    with open_gradebook(Course.at(course)) as book:
        submission = book.find_submission(ASSIGNMENT, student)
        assert submission.score == 16
        comments = {c.cell.name: c.auto_comment for nb in submission.notebooks for c in nb.comments}
        assert expected in comments["mse_solution"]
    assert "16 / 20" in feedback[student]


def test_a_rerun_grades_nothing_again(course):
    """Every notebook above, the crashing ones too, left a results.json: a rerun regrades none of them. A
    refused link is never read, so never known to be unchanged: it is refused again."""
    graded = course / "graded"
    before = {path.parent.name: path.stat().st_mtime_ns for path in graded.glob("*/results.json")}
    course_command("grade", ASSIGNMENT, str(course / "lms_download"), "--out", str(graded), course_root=course)
    after = {path.parent.name: path.stat().st_mtime_ns for path in graded.glob("*/results.json")}
    assert after.keys() == before.keys()
    assert [student for student in before if after[student] != before[student]] == ["linked"]


def test_every_student_gets_a_feedback_page_with_the_score(course, feedback):
    results = results_of(course)
    assert set(feedback) == set(results)
    assert "20 / 20" in feedback["alice"] and "data:image/png;base64," in feedback["alice"]
    assert f"{results['bob']['score']:g} / 20" in feedback["bob"]


def test_export_has_one_quoted_row_per_student(course):
    out = course / "exports" / "grades.csv"
    course_command("export", ASSIGNMENT, "--course-root", str(course), "--out", str(out), course_root=course)
    text = out.read_text(encoding="utf-8")
    assert '\n"o""brien, jr",20' in text
    rows = list(csv.DictReader(io.StringIO(text)))
    results = results_of(course)
    assert sorted(row["student"] for row in rows) == sorted(results)
    for row in rows:
        result = results[row["student"]]
        assert float(row["score"]) == pytest.approx(result["score"]) and float(row["max_score"]) == 20
        for function, points in function_points(result).items():
            assert float(row[function]) == pytest.approx(points)
        for test in result["tests"]:
            assert float(row[test["name"]]) == pytest.approx(test["score"])


def test_a_manual_score_survives_a_regrade(course, tmp_path):
    with open_gradebook(Course.at(course)) as book:
        grade = book.find_grade("test_train", ASSIGNMENT, ASSIGNMENT, "bob")
        grade.manual_score = 2.5  # a TA in formgrader: bob's train gets 2.5 whatever the tests say
        book.db.commit()
    lms = tmp_path / "again"
    lms.mkdir()
    (lms / "bob.ipynb").write_bytes((course / "lms_download" / "bob.ipynb").read_bytes())
    course_command("grade", ASSIGNMENT, str(lms), "--out", str(tmp_path / "graded"), "--course-root", str(course),
                   "--force", course_root=course)  # fmt: skip
    table = scores(Course.at(course), ASSIGNMENT)
    assert table["bob"]["train"] == 2.5  # the manual score...
    with open_gradebook(Course.at(course)) as book:
        assert book.find_grade("test_train", ASSIGNMENT, ASSIGNMENT, "bob").auto_score == 6  # ...over a fresh auto one
    assert table["bob"]["mse"] == function_points(results_of(course)["bob"])["mse"]


def test_sigkill_mid_batch_then_rerun_grades_each_submission_once(make_course, tmp_path):
    made = make_course("sigkill")
    root = made.root
    released = release(made, ASSIGNMENT)
    reference = samples.reference_sources(made.assignment(ASSIGNMENT))
    notebook = samples.fill_stubs(samples.read(released / f"{ASSIGNMENT}.ipynb"), reference)
    students = [f"s{i:02d}" for i in range(10)]
    for student in students:
        samples.write(notebook, root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    out = root / "graded"
    argv = ("grade", ASSIGNMENT, str(root / "submitted"), "--out", str(out), "--course-root", str(root))
    batch = course_command(*argv, course_root=root, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while len(list(out.glob("*/results.json"))) < 3 and batch.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(batch.pid, signal.SIGKILL)  # the grader, its workers and their sandboxes, all at once
    batch.wait()
    finished = {path.parent.name: path.stat().st_mtime_ns for path in out.glob("*/results.json")}
    assert 3 <= len(finished) < len(students), "the batch should have been killed midway"

    course_command(*argv, course_root=root)
    results = results_of(root)
    assert sorted(results) == students and all(r["score"] == 20 for r in results.values())
    for student, mtime in finished.items():  # graded before the kill: skipped, not graded again
        assert (out / student / "results.json").stat().st_mtime_ns == mtime, student
    with open_gradebook(Course.at(root)) as book:
        submissions = book.find_assignment(ASSIGNMENT).submissions
        assert sorted(s.student.id for s in submissions) == students  # one submission per student
        assert all(s.score == 20 for s in submissions)
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert sorted(row["student"] for row in rows) == students
    course_command("export", ASSIGNMENT, "--course-root", str(root), "--out", str(tmp_path / "export.csv"),
                   course_root=root)  # fmt: skip
    exported = list(csv.DictReader(io.StringIO((tmp_path / "export.csv").read_text())))
    assert sorted(row["student"] for row in exported) == students
    assert not list(out.rglob(".*.tmp")), "no half-written file is left behind"


def test_replay_reuses_the_inputs_of_the_last_grading(course, tmp_path):
    """--replay regrades with the seeds kept in results.json: the same failing examples, word for word."""
    lms = tmp_path / "bob_only"
    lms.mkdir()
    (lms / "bob.ipynb").write_bytes((course / "lms_download" / "bob.ipynb").read_bytes())
    out = tmp_path / "graded"
    argv = ("grade", ASSIGNMENT, str(lms), "--out", str(out), "--course-root", str(course))

    def messages() -> list[str]:
        results = json.loads((out / "bob" / "results.json").read_text())
        return [test["output"] for test in results["tests"] if test["status"] == "failed"]

    course_command(*argv, course_root=course)
    first = messages()
    seeds = json.loads((out / "bob" / "results.json").read_text())["extra_data"]["seeds"]
    assert first and len(seeds) >= 20 and all(seed.isdigit() for seed in seeds.values())
    course_command(*argv, "--replay", course_root=course)
    assert messages() == first
    course_command(*argv, "--force", course_root=course)
    assert messages() != first  # fresh inputs: the failing examples differ
    fresh = messages()
    notebook = lms / "bob.ipynb"
    notebook.write_text(notebook.read_text() + "\n")  # a resubmission, after seeing those examples
    course_command(*argv, "--replay", course_root=course)
    assert messages() != fresh  # is graded on new inputs


def canvas_export(course: Path, roster: Path, *options: str) -> tuple[list[list[str]], str]:
    done = course_command("export", ASSIGNMENT, "--format", "canvas", "--roster", str(roster), *options,
                          course_root=course)  # fmt: skip
    text = (course / "exports" / f"{ASSIGNMENT}-canvas.csv").read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text))), done.stderr


ROSTER_PEOPLE = [  # Student, ID, SIS User ID, SIS Login ID, Section
    ("Doe, Alice", "101", "S101", "alice", "Sec 1"),
    ('Bob "Bobby" Smith', "102", "S102", "bob", "Sec 2"),
    ("O'Brien, Junior", "103", "S103", QUOTED, "Sec 1"),
    ("Zoe, who did not submit", "104", "S104", "zoe", "Sec 2"),
]


def test_canvas_import_file_has_each_roster_row_with_its_score_or_an_empty_cell(course, tmp_path):
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
        writer.writerows(ROSTER_PEOPLE)
    rows, stderr = canvas_export(course, roster, "--canvas-id", "4242")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "line_fit (4242)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "20"
    table = scores(Course.at(course), ASSIGNMENT)
    by_login = {row[3]: row for row in rows[2:]}
    assert [row[:5] for row in rows[2:]] == [list(person) for person in ROSTER_PEOPLE]  # names quoted exactly
    for login in ("alice", "bob", QUOTED):
        assert float(by_login[login][5]) == pytest.approx(sum(table[login].values()))
    assert by_login["zoe"][5] == ""  # no submission: ungraded, not 0
    for student in ("other_assignment", "linked", *BAD_INPUTS):
        assert student in stderr  # graded, not on the roster: said, and left out
    assert not any(row[3] == "linked" for row in rows)


def test_a_canvas_gradebook_export_is_a_roster_with_the_assignment_id(course, tmp_path):
    roster = tmp_path / "canvas_export.csv"
    with open(roster, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Week 1 quiz (555)",
                         "line_fit (777)", "Current Score"])  # fmt: skip
        writer.writerow(["    Points Possible", "", "", "", "", "10", "20", "(read only)"])
        writer.writerow([*ROSTER_PEOPLE[0], "9", "", "90"])
        writer.writerow([*ROSTER_PEOPLE[1], "7", "", "70"])
    rows, _ = canvas_export(course, roster, "--match-on", "SIS Login ID")
    assert rows[0][-1] == "line_fit (777)" and len(rows) == 4
    assert [row[3] for row in rows[2:]] == ["alice", "bob"] and rows[2][5] == "20"
    done = subprocess.run([sys.executable, "-m", "autograder", "export", ASSIGNMENT, "--format", "canvas", "--roster",
                           str(roster), "--title", "Lab 1"], cwd=course, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1 and "no Canvas id for 'Lab 1'" in done.stderr
