"""Unit tests for autograder.lms.canvas: canvas_csv, canvas_id and read_roster."""

from __future__ import annotations

import csv
import io

import pytest

from autograder.lms.canvas import POINTS_ROW, STUDENT_COLUMNS, RosterError, canvas_csv, canvas_id, read_roster

MATCH = "SIS Login ID"
COLUMN = "Line fit (4567)"


def student(name: str, login: str, **other) -> dict[str, str]:
    return {"Student": name, "ID": f"id-{login}", "SIS User ID": f"u-{login}", MATCH: login, "Section": "A", **other}


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# -- canvas_csv ------------------------------------------------------------------------------------------


def test_the_header_is_the_student_columns_and_the_assignment_column():
    text, _ = canvas_csv({}, 10.0, [], MATCH, COLUMN)
    assert rows_of(text)[0] == [*STUDENT_COLUMNS, COLUMN]
    assert rows_of(text)[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Line fit (4567)"]


def test_the_second_row_is_points_possible():
    text, _ = canvas_csv({}, 12.5, [], MATCH, COLUMN)
    assert rows_of(text)[1] == [POINTS_ROW, "", "", "", "", "12.5"]
    assert POINTS_ROW == "    Points Possible"
    assert rows_of(canvas_csv({}, 10.0, [], MATCH, COLUMN)[0])[1][-1] == "10"


def test_roster_students_get_their_scores_in_roster_order():
    roster = [student("Bea", "b"), student("Al", "a")]
    text, unknown = canvas_csv({"a": 7.0, "b": 8.25}, 10.0, roster, MATCH, COLUMN)
    rows = rows_of(text)
    assert rows[2] == ["Bea", "id-b", "u-b", "b", "A", "8.25"]
    assert rows[3] == ["Al", "id-a", "u-a", "a", "A", "7"]
    assert len(rows) == 4
    assert unknown == []


def test_a_roster_student_without_a_score_gets_an_empty_cell():
    roster = [student("Al", "a"), student("Cy", "c")]
    text, _ = canvas_csv({"a": 3.0, "c": None}, 10.0, roster, MATCH, COLUMN)
    rows = rows_of(text)
    assert rows[2][-1] == "3"
    assert rows[3][-1] == ""
    text, _ = canvas_csv({}, 10.0, roster, MATCH, COLUMN)
    assert [row[-1] for row in rows_of(text)[2:]] == ["", ""]


def test_a_zero_score_is_written_not_left_empty():
    text, _ = canvas_csv({"a": 0.0}, 10.0, [student("Al", "a")], MATCH, COLUMN)
    assert rows_of(text)[2][-1] == "0"


def test_a_graded_student_not_on_the_roster_is_returned_as_unknown():
    text, unknown = canvas_csv({"a": 1.0, "zed": 2.0, "yan": None}, 10.0, [student("Al", "a")], MATCH, COLUMN)
    assert unknown == ["yan", "zed"]
    assert "zed" not in text
    assert len(rows_of(text)) == 3


def test_students_are_matched_on_the_chosen_column_stripped():
    roster = [student("Al", " a ", ID="42")]
    text, unknown = canvas_csv({"42": 9.0, "a": 1.0}, 10.0, roster, "ID", COLUMN)
    assert rows_of(text)[2][-1] == "9"
    assert unknown == ["a"]
    text, unknown = canvas_csv({"a": 1.0}, 10.0, roster, MATCH, COLUMN)
    assert rows_of(text)[2][-1] == "1"
    assert unknown == []


def test_missing_roster_columns_are_empty_cells():
    text, _ = canvas_csv({"a": 5.0}, 10.0, [{"Student": "Al", MATCH: "a"}], MATCH, COLUMN)
    assert rows_of(text)[2] == ["Al", "", "", "a", "", "5"]


def test_names_with_commas_and_quotes_are_quoted():
    roster = [student("Doe, Jane", "j"), student('Bob "B" Smith', "b")]
    text, _ = canvas_csv({"j": 1.0, "b": 2.0}, 10.0, roster, MATCH, 'Fit, "v2" (1)')
    lines = text.splitlines()
    assert lines[0].endswith(',"Fit, ""v2"" (1)"')
    assert lines[2].startswith('"Doe, Jane",')
    assert lines[3].startswith('"Bob ""B"" Smith",')
    assert [row[0] for row in rows_of(text)[2:]] == ["Doe, Jane", 'Bob "B" Smith']
    assert text.endswith("\n") and "\r" not in text


# -- canvas_id -------------------------------------------------------------------------------------------


def test_canvas_id_given_explicitly():
    assert canvas_id([], "Line fit", "123") == "123"
    assert canvas_id(["Student", "Line fit (999)"], "Line fit", "123") == "123"  # given wins over the header


@pytest.mark.parametrize("given", ["abc", "12a", "-1", "1.0", " 12"])
def test_canvas_id_given_must_be_numeric(given):
    with pytest.raises(RosterError, match="numeric assignment id"):
        canvas_id([], "Line fit", given)


def test_canvas_id_read_from_the_header():
    header = ["Student", "ID", "Other (11)", "Line fit (4567)", "Line fit extra (22)"]
    assert canvas_id(header, "Line fit", None) == "4567"
    assert canvas_id(["  Line fit (4567)  "], "Line fit", "") == "4567"


def test_canvas_id_not_in_the_header_is_an_error():
    with pytest.raises(RosterError) as excinfo:
        canvas_id(["Student", "Line fit", "Other (11)"], "Line fit", None)
    assert "no Canvas id for 'Line fit'" in str(excinfo.value)
    assert "--canvas-id" in str(excinfo.value)


# -- read_roster -----------------------------------------------------------------------------------------

EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Line fit (4567)\n"
    "    Points Possible,,,,,10\n"
    ",,,,,Muted\n"
    '"Doe, Jane",1,u1,jane,A,\n'
    "Al,2,u2,al,B,5\n"
)


def test_read_roster_returns_the_header_and_the_student_rows(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(EXPORT, encoding="utf-8-sig")  # Canvas writes a byte-order mark
    header, rows = read_roster(path, MATCH)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Line fit (4567)"]
    assert [(row["Student"], row[MATCH]) for row in rows] == [("Doe, Jane", "jane"), ("Al", "al")]
    assert canvas_id(header, "Line fit", None) == "4567"


def test_read_roster_missing_the_match_column(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("Student,ID\nAl,2\n")
    with pytest.raises(RosterError) as excinfo:
        read_roster(path, MATCH)
    assert "has no column 'SIS Login ID'" in str(excinfo.value)
    assert "['Student', 'ID']" in str(excinfo.value)


def test_read_roster_missing_the_student_column(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("Name,SIS Login ID\nAl,al\n")
    with pytest.raises(RosterError, match="has no column 'Student'"):
        read_roster(path, MATCH)


def test_read_roster_of_an_empty_file(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("")
    with pytest.raises(RosterError, match=r"has no column 'Student', 'SIS Login ID' \(it has: \[\]\)"):
        read_roster(path, MATCH)


def test_read_roster_of_a_missing_file(tmp_path):
    with pytest.raises(RosterError, match="cannot be read"):
        read_roster(tmp_path / "absent.csv", MATCH)


def test_read_roster_of_a_folder(tmp_path):
    with pytest.raises(RosterError, match="cannot be read"):
        read_roster(tmp_path, MATCH)


def test_read_roster_that_is_not_utf8(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(b"Student,SIS Login ID\n\xff\xfe\xfa,al\n")
    with pytest.raises(RosterError, match="cannot be read"):
        read_roster(path, MATCH)


def test_roster_errors_are_value_errors():
    assert issubclass(RosterError, ValueError)
