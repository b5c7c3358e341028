"""Reading submissions as data: every way a file can be broken gives a clear reason, never a crash."""

import json

import pytest

from autograder.course.cells import check_notebook, load_notebook
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
        (b"[1, 2, 3]", "not a valid notebook: the top level is a list, not an object"),
        (json.dumps({"cells": []}).encode(), "no cells"),
        (json.dumps({"cells": [{"cell_type": "markdown", "source": "hi"}]}).encode(), "no code cells"),
        (json.dumps({"cells": [{"cell_type": "code", "source": 5}]}).encode(), "source is a number, not a string"),
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


CODE = {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": []}
MALFORMED = {  # what a cell or notebook holds -> the path and type the reason must name
    "a cell that is a string": ({"cells": [CODE, "x = 1"]}, "cells[1] is a string, not an object"),
    "cells that are an object": ({"cells": {"0": CODE}}, "cells is an object, not a list"),
    "no cells at all": ({"metadata": {}}, "it has no cells"),
    "nbgrader metadata that is a string": (
        {"cells": [CODE, {**CODE, "metadata": {"nbgrader": "test_mse"}}]},
        "cells[1].metadata.nbgrader is a string, not an object",
    ),
    "nbgrader metadata that is null": (
        {"cells": [{**CODE, "metadata": {"nbgrader": None}}]},
        "cells[0].metadata.nbgrader is null, not an object",
    ),
    "a grade id that is a number": (
        {"cells": [{**CODE, "metadata": {"nbgrader": {"grade_id": 3}}}]},
        "cells[0].metadata.nbgrader.grade_id is a number, not a string",
    ),
    "cell metadata that is a list": (
        {"cells": [{**CODE, "metadata": []}]},
        "cells[0].metadata is a list, not an object",
    ),
    "notebook metadata that is a string": ({"cells": [CODE], "metadata": "x"}, "metadata is a string, not an object"),
    "a source line that is not a string": (
        {"cells": [{**CODE, "source": ["x = 1\n", None]}]},
        "cells[0].source[1] is null, not a string",
    ),
    "a markdown source that is an object": (
        {"cells": [CODE, {"cell_type": "markdown", "source": {"text": "hi"}}]},
        "cells[1].source is an object, not a string or a list of strings",
    ),
    "a cell type that is a list": ({"cells": [{**CODE, "cell_type": ["code"]}]}, "cells[0].cell_type is a list"),
    "outputs that are a string": ({"cells": [{**CODE, "outputs": "hi"}]}, "cells[0].outputs is a string, not a list"),
    "an output that is a list": (
        {"cells": [{**CODE, "outputs": [[]]}]},
        "cells[0].outputs[0] is a list, not an object",
    ),
    "an output's text that is a number": (
        {"cells": [{**CODE, "outputs": [{"output_type": "stream", "name": "stdout", "text": ["a", 1]}]}]},
        "cells[0].outputs[0].text[1] is a number, not a string",
    ),
    "an output's data that is a string": (
        {"cells": [{**CODE, "outputs": [{"output_type": "display_data", "data": "<b>", "metadata": {}}]}]},
        "cells[0].outputs[0].data is a string, not an object",
    ),
    "a cell id that is true": ({"cells": [{**CODE, "id": True}]}, "cells[0].id is a boolean, not a string"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_notebook_names_the_field_at_fault(tmp_path, name):
    """Each of these raised AttributeError or TypeError out of the reader (and stopped a batch) before."""
    notebook, reason = MALFORMED[name]
    with pytest.raises(NotebookError) as raised:
        code_cells(write(tmp_path, json.dumps(notebook).encode()), expected_ids={"test_mse"})
    assert str(raised.value).startswith("not a valid notebook: ") and reason in str(raised.value)


def test_the_kit_s_own_notebooks_are_valid(kit):
    for assignment in ("line_fit", "mlp_spirals"):
        check_notebook(load_notebook(kit.assignment(assignment).source_notebook))  # raises if not
