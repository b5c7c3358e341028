"""An assignment's sandbox helpers module, seen from its hidden tests.

`helpers.py` beside an assignment's hidden tests is what the sandbox imports to build arguments and
stand-ins; the hidden tests import the very same file with `load_helpers(__file__)` so that the trusted side
builds the same objects (the reference's model, the same function) without writing them twice.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from autograder.course import HELPERS_NAME, import_file


def load_helpers(test_file: str | Path) -> ModuleType:
    """The helpers module of the assignment whose hidden test is `test_file` (pass `__file__`)."""
    path = (Path(test_file).resolve().parent / HELPERS_NAME).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"the assignment has no {HELPERS_NAME} beside {test_file}")
    return import_file(path, "helpers")
