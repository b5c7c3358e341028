"""Regrades that know what changed: a change of a hidden test regrades the notebooks it graded, `--preview`
prints per student and function what would change and writes nothing, and a regrade keeps the results it
replaces while the gradebook and grades.csv agree."""

import csv
import io

import pytest

from autograder import cli
from autograder.authoring.check import catalogue, samples
from autograder.course.cells import GRADE_CELL_PREFIX
from autograder.gradebook.export import final_scores, max_score
from autograder.grading.regrade import changes, format_changes
from autograder.grading.results import Results

pytestmark = pytest.mark.slow


def snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def course_grade(capsys, course, *args):
    assert cli.main(["grade", "line_fit", *args, "--workers", "1", "--course-root", str(course.root)]) == 0
    return capsys.readouterr().out


def raise_points(course, test_name: str, points: str, function: str, total: float) -> None:
    """An instructor's change: one hidden test of `function` pays `points`, and its grade cell `total`."""
    assignment = course.assignment("line_fit")
    test_file = assignment.tests / f"test_{function}.py"
    source = test_file.read_text()
    marked = f"@pytest.mark.points(1)\ndef {test_name}("
    assert marked in source
    test_file.write_text(source.replace(marked, f"@pytest.mark.points({points})\ndef {test_name}("))
    notebook = samples.read(assignment.source_notebook)
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == GRADE_CELL_PREFIX + function:
            cell["metadata"]["nbgrader"]["points"] = total
    samples.write(notebook, assignment.source_notebook)
    assert cli.main(["release", "line_fit", "--course-root", str(course.root)]) == 0


def test_a_changed_hidden_test_is_previewed_then_regraded_with_the_old_results_kept(make_course, tmp_path, capsys):
    course = make_course("regrade")
    assignment = course.assignment("line_fit")
    assert cli.main(["release", "line_fit", "--course-root", str(course.root)]) == 0
    released = course.release / "line_fit" / "line_fit.ipynb"
    submissions, out = tmp_path / "lms", tmp_path / "graded"
    submissions.mkdir()
    samples.write(samples.fill_stubs(samples.read(released), samples.reference_sources(assignment)),
                  submissions / "alice.ipynb")  # fmt: skip
    book = {entry.name: entry for entry in catalogue.load(assignment).MISTAKES}
    catalogue.build(released, catalogue.full(assignment, book["mse_sums"]), submissions / "bob.ipynb")

    assert "graded 2, regraded 0, skipped 0" in course_grade(capsys, course, str(submissions), "--out", str(out))
    assert "graded 0, regraded 0, skipped 2" in course_grade(capsys, course, str(submissions), "--out", str(out))

    raise_points(course, "test_value_float32", "2", "mse", 5)
    written, gradebook = snapshot(out), final_scores(course, "line_fit")
    shown = course_grade(capsys, course, str(submissions), "--out", str(out), "--preview")
    assert "graded 0, regraded 2, skipped 0" in shown and "nothing was written" in shown
    rows = {tuple(line.split()[:4]) for line in shown.splitlines()}
    assert ("alice", "mse", "4/4", "5/5") in rows and "1 gain points, 0 lose points" in shown, shown
    assert ("bob", "mse", "0/4", "0/5") in rows, shown  # bob's possible points change too
    assert snapshot(out) == written and final_scores(course, "line_fit") == gradebook  # nothing written

    shown = course_grade(capsys, course, str(submissions), "--out", str(out))
    assert "graded 0, regraded 2, skipped 0" in shown and "previous/" in shown
    for student in ("alice", "bob"):  # the results replaced are kept, byte for byte
        kept = list((out / student / "previous").glob("results-*.json"))
        assert [path.read_bytes() for path in kept] == [written[out.joinpath(student, "results.json").relative_to(out)]]
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert float(rows["alice"]["score"]) == 21 and float(rows["alice"]["max_score"]) == 21
    assert final_scores(course, "line_fit") == {s: float(row["score"]) for s, row in rows.items()}
    assert max_score(course, "line_fit") == 21
    assert "graded 0, regraded 0, skipped 2" in course_grade(capsys, course, str(submissions), "--out", str(out))


def test_changes_name_points_and_messages_that_differ_and_nothing_else():
    def results(score, output, max_score=1.0):
        test = {"id": "t.py::test_a", "name": "f: a", "score": score, "max_score": max_score,
                "status": "passed" if score else "failed", "output": output, "tags": ["f"]}  # fmt: skip
        same = {"id": "t.py::test_b", "name": "g: b", "score": 1.0, "max_score": 1.0, "status": "passed",
                "tags": ["g"]}  # fmt: skip
        return Results({"score": score + 1, "max_score": max_score + 1, "tests": [test, same]})

    before = {"ann": results(1.0, ""), "ben": results(0.0, "expected 3, got 4"), "cy": results(1.0, "")}
    after = {"ann": results(0.0, "expected <b>2</b>"), "ben": results(0.0, "expected 3, got 5"),
             "cy": results(1.0, ""), "dee": results(1.0, "")}  # fmt: skip
    found = changes(before, after, ["ann", "ben", "cy", "dee"])
    assert [(c.student, c.function, c.before, c.after) for c in found] == [
        ("ann", "f", (1.0, 1.0), (0.0, 1.0)), ("ben", "f", (0.0, 1.0), (0.0, 1.0))]  # fmt: skip
    assert found[1].messages == (("f: a", "expected 3, got 4", "expected 3, got 5"),)
    table = format_changes(found, before, after)
    assert table.splitlines()[0] == "2 students changed: 0 gain points, 1 lose points"
    assert "expected 3, got 4 -> expected 3, got 5" in table
    assert format_changes([], before, after) == "no score or message changed"
