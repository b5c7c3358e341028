"""What of an assignment's helpers computes a graded function's answer, and the helpers each graded
function's process receives: the module's source without those parts.

The rule (see docs/authoring.md, "What helpers may hold"): the process that grades a function holds no
code that computes that function's answer. helpers.py declares its answers in two literals:

    STAND_INS = {"loss": good_loss}   # known-good versions the tests put in place of the student's own
    STANDS_FOR = {"reference_net": "make_net"}  # builders that make what a graded function must return

The process that grades F never receives F's answers. A function that has answers of its own receives
nobody's, and such functions are graded first: by the time a process holds any function's answer (fit's
process holds loss's stand-in), that function's grading is over, so nothing a student's code keeps (a file,
a thread, a copy of the source) can reach it. The sandbox never sees helpers.py itself: each function's
process gets its source from the grader, with the withheld definitions cut out.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from autograder.errors import KitError


class HelpersError(KitError, ValueError):
    """helpers.py does not declare its answers in a form the engine can enforce."""


def _literal(tree: ast.Module, name: str) -> ast.expr | None:
    """The value assigned to a top-level name (the last assignment), or None."""
    found = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            found = node.value
    return found


def _defined(node: ast.stmt) -> set[str]:
    """The top-level names a statement binds."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


class Helpers:
    """An assignment's helpers.py, read on the trusted side; `source_for(f)` is what f's process gets."""

    def __init__(self, path: Path):
        self.path = path
        source = path.read_text(encoding="utf-8")
        try:
            self._tree = ast.parse(source, str(path))
        except SyntaxError as exc:
            raise HelpersError(f"{path} is not valid Python: {exc}") from None
        defined = set().union(*(_defined(node) for node in self._tree.body))
        self.stand_ins = self._stand_ins()  # function -> the name of its stand-in
        self.stands_for = self._stands_for()  # builder -> the function whose answer it builds
        unknown = sorted({*self.stand_ins.values(), *self.stands_for} - defined)
        if unknown:
            raise HelpersError(f"{path}: STAND_INS or STANDS_FOR names {unknown}, which the module does not define")
        self.inert_modules = self._inert_modules()
        self._sources: dict[str | None, str] = {}

    def _stand_ins(self) -> dict[str, str]:
        value = _literal(self._tree, "STAND_INS")
        if value is None:
            return {}
        if not isinstance(value, ast.Dict) or not all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) and isinstance(v, ast.Name)
            for k, v in zip(value.keys, value.values, strict=True)
        ):
            raise HelpersError(
                f"{self.path}: STAND_INS must be a dict literal of function names to functions defined in the "
                'module, e.g. {"loss": good_loss}: the engine reads it to withhold each one from its own grading'
            )
        return {k.value: v.id for k, v in zip(value.keys, value.values, strict=True)}

    def _stands_for(self) -> dict[str, str]:
        value = _literal(self._tree, "STANDS_FOR")
        try:
            found = {} if value is None else ast.literal_eval(value)
        except ValueError:
            found = None
        if not isinstance(found, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
            raise HelpersError(
                f"{self.path}: STANDS_FOR must be a dict literal of builder names to graded functions, e.g. "
                '{"reference_net": "make_net"}: the engine withholds each builder from that function\'s grading'
            )
        return found

    def _inert_modules(self) -> tuple[str, ...]:
        value = _literal(self._tree, "INERT_MODULES")
        try:
            found = () if value is None else ast.literal_eval(value)
        except ValueError:
            found = None
        if not isinstance(found, tuple | list) or not all(isinstance(name, str) for name in found):
            raise HelpersError(f"{self.path}: INERT_MODULES must be a tuple of module names")
        return tuple(found)

    def answers(self, function: str | None) -> set[str]:
        """The names of the helpers that compute `function`'s answer."""
        builders = {builder for builder, of in self.stands_for.items() if of == function}
        return builders | ({self.stand_ins[function]} if function in self.stand_ins else set())

    @functools.cached_property
    def answered(self) -> frozenset[str]:
        """The graded functions that have answers among the helpers: graded first, and given nobody's."""
        return frozenset(self.stand_ins) | frozenset(self.stands_for.values())

    def withheld(self, function: str | None) -> set[str]:
        """What the process grading `function` does not get. None (no function under test, e.g. a direct
        Submission in the kit's tests) withholds nothing."""
        if function is None:
            return set()
        if function in self.answered:
            return set().union(*(self.answers(f) for f in self.answered))
        return self.answers(function)

    def rank(self, function: str) -> int:
        """Sort key: functions with answers of their own are graded before the others."""
        return 0 if function in self.answered else 1

    def source_for(self, function: str | None) -> str:
        """helpers.py as the process grading `function` receives it: withheld definitions and their
        STAND_INS entries cut out (a helper that still refers to one fails with NameError when called)."""
        if function not in self._sources:
            withheld = self.withheld(function)
            tree = ast.parse(ast.unparse(self._tree))  # a copy to cut
            body = []
            for node in tree.body:
                if "STAND_INS" in _defined(node) and isinstance(node.value, ast.Dict):
                    pairs = zip(node.value.keys, node.value.values, strict=True)
                    kept = [(k, v) for k, v in pairs if not (isinstance(v, ast.Name) and v.id in withheld)]
                    node.value.keys, node.value.values = [k for k, _ in kept], [v for _, v in kept]
                elif _defined(node) & withheld:
                    continue
                body.append(node)
            tree.body = body
            self._sources[function] = ast.unparse(tree)
        return self._sources[function]
