"""Built-in sample submissions, made from the release notebook: for the demo, the benchmark and the tests.

A sample is the student notebook with some stub cells (`def name(...)` ... `raise NotImplementedError`)
replaced by code: the reference solution, or a typical mistake.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import textwrap
from pathlib import Path

from solutions import line_fit as reference

GRADED_FUNCTIONS = ("mse", "sgd_step", "train", "loss_landscape", "gradients")


def reference_sources() -> dict[str, str]:
    """Each graded function's reference source, as a student would paste it into the stub cell."""
    return {name: inspect.getsource(getattr(reference, name)) for name in GRADED_FUNCTIONS}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def stub_index(notebook: dict, name: str) -> int:
    """Index of the code cell that defines `name` at top level."""
    pattern = re.compile(rf"^def {re.escape(name)}\(", re.MULTILINE)
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") == "code" and pattern.search(_source(cell)):
            return index
    raise KeyError(f"no cell defines {name}()")


def fill_stubs(notebook: dict, sources: dict[str, str], extra_cells: tuple[str, ...] = ()) -> dict:
    """A copy of `notebook` with the named functions' cells replaced by `sources` (full `def` cells) and
    `extra_cells` appended as code cells (e.g. a cheat that runs after everything else)."""
    filled = copy.deepcopy(notebook)
    for name, source in sources.items():
        filled["cells"][stub_index(filled, name)]["source"] = textwrap.dedent(source)
    for source in extra_cells:
        filled["cells"].append(
            {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
        )
    return filled


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write(notebook: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
