"""An assignment's sandbox helpers module, seen from its hidden tests.

`helpers.py` beside an assignment's hidden tests is what the sandbox imports to build arguments and
stand-ins; the hidden tests import the very same file with `load_helpers(__file__)` so that the trusted side
builds the same objects (the reference's model, the same function) without writing them twice.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from autograder.course import HELPERS_NAME

_loaded: dict[Path, ModuleType] = {}


def load_helpers(test_file: str | Path) -> ModuleType:
    """The helpers module of the assignment whose hidden test is `test_file` (pass `__file__`)."""
    path = (Path(test_file).resolve().parent / HELPERS_NAME).resolve()
    if path not in _loaded:
        if not path.is_file():
            raise FileNotFoundError(f"the assignment has no {HELPERS_NAME} beside {test_file}")
        name = f"course_helpers_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling-free introspection look the module up by name
        spec.loader.exec_module(module)
        _loaded[path] = module
    return _loaded[path]
