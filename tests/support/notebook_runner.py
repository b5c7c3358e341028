"""Running a notebook top to bottom in a fresh kernel for the tests (nbclient, the environment's python3)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.support import ROOT

SOURCE_NOTEBOOK = ROOT / "assignments" / "line_fit" / "line_fit.ipynb"
GRADED = ("mse", "sgd_step", "train", "loss_landscape", "gradients")
CHECK_HEADER = re.compile(r"^(\w+): (\d+)/(\d+) public tests passed$", re.MULTILINE)


def execute(
    notebook: nbformat.NotebookNode,
    cwd: Path,
    *,
    allow_errors: bool = False,
    pythonpath: Path | None = None,
    timeout: int = 120,
) -> float:
    """Execute `notebook` in place with `cwd` as the kernel's working directory; returns the seconds taken.

    Warnings are switched on in the kernel (PYTHONWARNINGS=default) so that tests can look for them.
    """
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MPLBACKEND")}
    env["PYTHONWARNINGS"] = "default"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start


def source(cell: nbformat.NotebookNode) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def cell_by_grade_id(notebook: nbformat.NotebookNode, wanted: str) -> nbformat.NotebookNode:
    (cell,) = [cell for cell in notebook.cells if grade_id(cell) == wanted]
    return cell


def code_cells_containing(notebook: nbformat.NotebookNode, text: str) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code" and text in source(cell)]


def stream_text(cell: nbformat.NotebookNode, name: str = "stdout") -> str:
    return "".join(out.text for out in cell.get("outputs", []) if out.output_type == "stream" and out.name == name)


def images(cell: nbformat.NotebookNode) -> list[str]:
    return [
        out.data["image/png"]
        for out in cell.get("outputs", [])
        if out.output_type in ("display_data", "execute_result") and "image/png" in out.data
    ]


def errors(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [out for out in cell.get("outputs", []) if out.output_type == "error"]
