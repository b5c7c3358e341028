"""Thieves: for any assignment, a submission whose every graded function does no work of its own, only
looks for the answer at grading time and returns what it finds. It must earn nothing.

Each thief searches every route a student's code has inside the sandbox: the modules loaded (sys.modules),
every object the garbage collector knows (gc.get_objects), the frames that called it
(inspect.currentframe().f_back and up), files on disk (a helpers.py anywhere it can read), and state kept
from an earlier call (code objects it stashed in a file and in memory, from any process of the same
notebook). It tries what it finds, a known-good stand-in for its function first, then every other
function it found, with the function's own arguments and with a random seed in front (a builder such as
`build(seed, *sizes)` makes what `make(*sizes)` must return), and returns
the first thing that does not raise. A function for which nothing can be found raises NotImplementedError,
as the untouched stub does.

Generic over assignments: the graded functions are the source notebook's graded cells, so an instructor's
own course can be checked the same way.
"""

from __future__ import annotations

from pathlib import Path

from autograder.authoring.check import samples
from autograder.course import Assignment

THIEF = r'''
import gc as _gc, glob as _glob, importlib.util as _importlib_util, inspect as _inspect, marshal as _marshal
import os as _os, sys as _sys, types as _types

_THIEF_STASH = _os.path.join(_os.environ.get("HOME") or "/tmp", ".stolen")
_THIEF_KEPT = {}  # name -> code object, kept from earlier calls in this process


_THIEF_LIBRARIES = tuple({_sys.prefix, _sys.base_prefix, _os.path.dirname(_os.__file__)}) + ("<frozen",)


def _thief_worth_trying(fn):
    """Not the notebook's own, not library code, not the sandbox's plumbing: what an assignment brought."""
    if not isinstance(fn, _types.FunctionType) or fn.__globals__ is globals():
        return False
    where = fn.__code__.co_filename
    plumbing = {getattr(_sys.modules.get(m), "__file__", None) for m in ("worker", "session", "build", "describe")}
    return not (where.startswith(_THIEF_LIBRARIES) or where.startswith("<cell") or where in plumbing)


def _thief_from_helpers(fn):
    where = fn.__code__.co_filename
    return where == "<helpers>" or _os.path.basename(where) == "helpers.py" or "STAND_INS" in fn.__globals__


def _thief_files():
    """Any helpers.py it can read: below the sandbox's own folders, and beside every module loaded."""
    found = []
    for root in dict.fromkeys(["/sandbox", "/tmp", _os.getcwd(), _os.environ.get("HOME") or "/tmp"]):
        try:
            found += _glob.glob(_os.path.join(root, "**", "helpers.py"), recursive=True)[:20]
        except Exception:
            pass
    for module in list(_sys.modules.values()):
        folder = _os.path.dirname(getattr(module, "__file__", None) or "")
        if folder and _os.path.isfile(_os.path.join(folder, "helpers.py")):
            found.append(_os.path.join(folder, "helpers.py"))
    return list(dict.fromkeys(found))


def _thief_modules():
    modules = [m for m in list(_sys.modules.values()) if isinstance(m, _types.ModuleType)]
    frame = _inspect.currentframe()
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            modules += [v for v in list(scope.values()) if isinstance(v, _types.ModuleType)]
        frame = frame.f_back
    for path in _thief_files():
        try:
            spec = _importlib_util.spec_from_file_location("_stolen_helpers", path)
            module = _importlib_util.module_from_spec(spec)
            spec.loader.exec_module(module)
            modules.append(module)
        except BaseException:
            pass
    return modules


def _thief_candidates(name):
    """(first: stand-ins for `name` and functions named after it, then: every other function worth trying)."""
    first, rest = [], []
    objects = _gc.get_objects()
    frame = _inspect.currentframe()
    while frame is not None:  # what the grader's frames hold: locals, handles, the helpers they were given
        objects += [frame.f_locals, frame.f_globals, *frame.f_locals.values()]
        frame = frame.f_back
    for module in _thief_modules():
        objects += [getattr(module, "STAND_INS", None), *vars(module).values()]
    for value in objects:
        if type(value) is dict:
            try:
                if _thief_worth_trying(value.get(name)):
                    first.append(value[name])
            except Exception:
                pass
        elif _thief_worth_trying(value):
            (first if name in value.__name__ else rest).append(value)
    return first, rest


def _thief_stash(functions):
    """Keep every function's code, in this process and on disk, for a later call or process."""
    _os.makedirs(_THIEF_STASH, exist_ok=True)
    for fn in functions:
        key = f"{fn.__name__}-{abs(hash(fn.__code__.co_code))}"
        if key not in _THIEF_KEPT:
            _THIEF_KEPT[key] = fn.__code__
            try:
                with open(_os.path.join(_THIEF_STASH, key), "wb") as handle:
                    handle.write(_marshal.dumps(fn.__code__))
            except Exception:
                pass


def _thief_stashed():
    codes = dict(_THIEF_KEPT)
    for path in _glob.glob(_os.path.join(_THIEF_STASH, "*")):
        try:
            with open(path, "rb") as handle:
                codes.setdefault(_os.path.basename(path), _marshal.loads(handle.read()))
        except Exception:
            pass
    import math, torch  # what the stolen code's own module would have imported
    scope = {"torch": torch, "math": math, "__builtins__": __builtins__}
    return [_types.FunctionType(code, scope) for code in codes.values() if not code.co_freevars]


_THIEF_FOUND = {}  # (process, name) -> candidates: one search per process, not per call


def _thief(name, args, kwargs):
    key = (_os.getpid(), name)
    if key not in _THIEF_FOUND:
        _THIEF_FOUND[key] = _thief_candidates(name)
        _thief_stash(_THIEF_FOUND[key][0] + _THIEF_FOUND[key][1])
    first, rest = _THIEF_FOUND[key]
    stashed = _thief_stashed()
    helpers = [fn for fn in rest if _thief_from_helpers(fn)]
    named = [*first, *[s for s in stashed if name in s.__name__]]
    tried = set()
    for fn in [*named, *helpers, *stashed, *rest]:
        if id(fn) in tried:
            continue
        tried.add(id(fn))
        for attempt in (args, (int.from_bytes(_os.urandom(4), "big"), *args)):
            try:
                found = fn(*attempt, **kwargs)
            except BaseException:
                continue
            if found is not None or fn in named:  # a stand-in's None is an answer too (an in-place update's)
                return found
    raise NotImplementedError(f"nothing to steal for {name}")
'''


def thief_source(function: str) -> str:
    """The code cell of a thief for `function`: no work of its own, whatever it can find."""
    return f"def {function}(*args, **kwargs):\n    return _thief({function!r}, args, kwargs)\n"


def thieves_notebook(assignment: Assignment, out: Path) -> Path:
    """Write the assignment's source notebook with every graded function a thief; returns `out`."""
    notebook = samples.read(assignment.source_notebook)
    sources = {function: thief_source(function) for function in samples.graded_functions(assignment)}
    return samples.write(samples.fill_stubs(notebook, sources, extra_cells=(THIEF,)), out)
