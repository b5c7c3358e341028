"""Reading submissions as data: every way a file can be broken gives a clear reason, never a crash."""

import json

import pytest

from autograder.grading.notebook import NotebookError, code_cells

GOOD_CELL = {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "test_mse"}}, "source": ["x = 1\n", "y = 2"]}


def write(tmp_path, content: bytes):
    path = tmp_path / "student.ipynb"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"cells": [', "not valid notebook JSON"),
        (b"[1, 2, 3]", "not a Jupyter notebook"),
        (json.dumps({"cells": []}).encode(), "no cells"),
        (json.dumps({"cells": [{"cell_type": "markdown", "source": "hi"}]}).encode(), "no code cells"),
        (json.dumps({"cells": [{"cell_type": "code", "source": 5}]}).encode(), "neither text"),
    ],
)
def test_bad_files_are_explained(tmp_path, content, reason):
    with pytest.raises(NotebookError, match=reason):
        code_cells(write(tmp_path, content))


def test_another_assignments_notebook_is_refused(tmp_path):
    other = {"cells": [{**GOOD_CELL, "metadata": {"nbgrader": {"grade_id": "test_other"}}}]}
    with pytest.raises(NotebookError, match="not from this assignment"):
        code_cells(write(tmp_path, json.dumps(other).encode()), expected_ids={"test_mse"})


def test_code_cells_in_order(tmp_path):
    notebook = {"cells": [GOOD_CELL, {"cell_type": "markdown", "source": "text"}, {**GOOD_CELL, "source": "z"}]}
    assert code_cells(write(tmp_path, json.dumps(notebook).encode()), {"test_mse"}) == ["x = 1\ny = 2", "z"]
