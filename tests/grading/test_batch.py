"""Finding submissions in both layouts, the grades table, and reruns that skip unchanged notebooks."""

import csv
import io
import json

import pytest

from autograder.grading.batch import already_graded, discover, grade_folder, grades_csv, results_path
from autograder.grading.jobs import NoSubmissions


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
    from autograder.grading.notebook import fingerprint

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
