"""Importing a course's own Python files into the trusted process: solutions, helpers, catalogues, tests.

Three ways in: `import_file` loads one file under a name made from its path (a solution, an assignment's
helpers or catalogue), `make_importable` puts a course's `solutions` and `course_utils` packages on
sys.path for its hidden tests, forgetting those another course left in a long-lived process, and
`modules_beside` lets one run of an assignment's hidden tests import the modules in their folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from autograder.errors import KitError

_importable: tuple | None = None  # the course whose solutions and tests this process imports now, and its files


class NotAPythonFile(KitError, ValueError):
    """`import_file` was given a path that is not a Python file."""


def make_importable(root: Path, solutions: Path, course_utils: Path, hidden_tests: Path) -> None:
    """Hidden tests import `solutions.<a>` and `course_utils` from this course, and pytest names the tests'
    own modules `<a>.test_*`. Modules of those names that another course, or an older copy of this one,
    loaded into this process are forgotten first, and so are this course's own when one of its files changed
    since: a long-lived grader never runs stale tests. Each grading of the same unchanged course finds it
    done (a walk of its files' sizes and times)."""
    global _importable
    state = (root, _stamp(solutions, course_utils, hidden_tests))
    if _importable == state:
        return
    owners = {"solutions": solutions, "course_utils": course_utils}
    for name, module in list(sys.modules.items()):
        top, location = name.split(".")[0], _location(module)
        if location is None:
            continue
        if top in owners:
            stale = not location.is_relative_to(owners[top]) or _importable is not None
        else:
            test_module = location.name.startswith("test_") or (location.is_dir() and location.name == top)
            stale = test_module and (hidden_tests / top).is_dir()
            stale = stale and (not location.is_relative_to(hidden_tests) or _importable is not None)
        if stale:
            del sys.modules[name]
    parent = str(solutions.parent)
    if parent in sys.path:
        sys.path.remove(parent)
    sys.path.insert(0, parent)
    _importable = state


def _stamp(*folders: Path) -> tuple:
    """The size and modification time of every Python file below the folders: what changes when one is edited."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else ():
            try:
                info = path.stat()
            except OSError:
                continue
            found.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(found)


@contextlib.contextmanager
def modules_beside(tests: Path) -> Iterator[None]:
    """An assignment's hidden tests can import modules beside them (`from common import blobs` finds
    hidden_tests/<a>/common.py) for one run of its tests. Such modules are trusted code: they are imported
    here, never sent to the sandbox. What the run imported from the folder is forgotten afterwards (pytest's
    own `<a>.test_*` modules and the kit's `course_*` imports aside), so that another assignment's module of
    the same name never stands in for this one's, and an edited one is read again."""
    folder = str(tests.resolve())
    before = set(sys.modules)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
        for name in set(sys.modules) - before:
            location = _location(sys.modules[name])
            own = name.split(".")[0] == tests.name or name.startswith("course_")
            if location is not None and not own and location.is_relative_to(folder):
                del sys.modules[name]


def _location(module) -> Path | None:
    """Where a module was loaded from: its file, or a namespace package's first folder."""
    file = getattr(module, "__file__", None)
    if file:
        return Path(file).resolve()
    path = list(getattr(module, "__path__", []) or [])
    return Path(path[0]).resolve() if path else None


def import_file(path: Path, kind: str) -> ModuleType:
    """A Python file of a course (a solution, an assignment's helpers or catalogue), imported once (again when
    the file changed), under a name made of `kind` and its path (registered in sys.modules, where dataclasses
    and inspect look modules up)."""
    path = path.resolve()
    name = f"course_{kind}_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    try:
        changed = path.stat().st_mtime_ns != getattr(sys.modules.get(name), "__course_mtime__", None)
    except OSError:
        changed = True
    if changed:  # not imported yet, or edited since
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or not path.is_file():
            raise NotAPythonFile(f"{path} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        module.__course_mtime__ = path.stat().st_mtime_ns
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]
