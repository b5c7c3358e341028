"""The source notebook (with solutions) runs top to bottom in a fresh kernel, quickly and quietly, draws
every figure of the lesson, and passes each public check."""

import nbformat
import pytest

from tests.support.notebook_runner import (
    CHECK_HEADER,
    GRADED,
    ROOT,
    SOURCE_NOTEBOOK,
    cell_by_grade_id,
    code_cells_containing,
    errors,
    execute,
    images,
    source,
    stream_text,
)

WARNING_NAMES = ("DeprecationWarning", "MatplotlibDeprecationWarning", "UserWarning", "FutureWarning")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    seconds = execute(notebook, SOURCE_NOTEBOOK.parent, pythonpath=ROOT)
    print(f"\nsource notebook executed in {seconds:.1f} s")
    return notebook, seconds


def test_runs_in_well_under_a_minute(executed, record_property):
    _, seconds = executed
    record_property("source_notebook_seconds", round(seconds, 2))
    assert seconds < 45, f"the source notebook took {seconds:.1f} s"


def test_no_errors_and_no_warnings(executed):
    notebook, _ = executed
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert not errors(cell), source(cell)
        stderr = stream_text(cell, "stderr")
        assert not any(name in stderr for name in WARNING_NAMES), f"{source(cell)[:60]!r} warned:\n{stderr}"


@pytest.mark.parametrize(
    "marker",
    [
        "plot_data(data)",  # the data
        "plot_data(data, y_pred=",  # the untrained model
        'title="our train()"',  # the live fit of our train() with its loss curve
        "fit(\n    torch.optim.SGD",
        "fit(\n    torch.optim.Adam",
        "plot_loss_surface(",
        "plot_loss_contour(",
    ],
)
def test_every_figure_is_drawn_once(executed, marker):
    notebook, _ = executed
    (cell,) = code_cells_containing(notebook, marker)
    # A live plot updates one display in place: one picture per cell, however many updates.
    assert len(images(cell)) == 1, f"{marker!r}: {len(images(cell))} pictures"


def test_contour_has_the_trajectories(executed):
    notebook, _ = executed
    (cell,) = code_cells_containing(notebook, "plot_loss_contour(")
    assert "trajectory=" in source(cell) and "parameters" in source(cell)
    (shape_cell,) = code_cells_containing(notebook, "torch.optim.Adam, lr=0.03")
    shapes = [out.data["text/plain"] for out in shape_cell.outputs if out.output_type == "execute_result"]
    assert shapes == ["(201, 2)"], "parameters: (a, b) before each of the 200 Adam steps, and after the last"


def test_training_reaches_the_least_squares_line(executed):
    notebook, _ = executed
    (cell,) = code_cells_containing(notebook, "np.polyfit")
    text = stream_text(cell)
    assert "our model:          a = -0.517584, b = 1.808212" in text
    assert "least-squares line: a = -0.517584, b = 1.808212" in text


def test_autograd_check(executed):
    notebook, _ = executed
    text = stream_text(cell_by_grade_id(notebook, "autograd_check"))
    assert "at a = 4, b = 2: (tensor([144.]), tensor([-4.]))" in text
    assert "dy/da matches 9a²: True" in text and "dy/db matches -2b: True" in text


@pytest.mark.parametrize("name", GRADED)
def test_every_check_passes(executed, name):
    notebook, _ = executed
    text = stream_text(cell_by_grade_id(notebook, f"test_{name}"))
    match = CHECK_HEADER.search(text)
    assert match, text
    assert match.group(1) == name and match.group(2) == match.group(3) != "0", text
    assert "hidden tests decide your grade" in text
