"""Mutants of the reference: how much of what could go wrong in a graded function its hidden tests notice.

The mutants come from mutmut's operators (mutmut 3, on libcst): numbers, strings, operators, comparisons,
keywords, names, call arguments removed or replaced by None, assignments of None. Chosen over cosmic-ray
because those call and assignment operators reach what PyTorch code gets wrong (an argument dropped, a
mode not restored, a result thrown away), which cosmic-ray's arithmetic-only operators miss (they make no
mutant at all of a function that only calls others, as the second kit example's evaluation function does).
Only its mutation operators are used, on one function's source
at a time; mutmut's runner, config and trampolines are not.

A mutant that keeps full marks in its function survives: a gap in the hidden tests, or an equivalent mutant
(it computes the same thing). The instructor marks an equivalent one, with a one-line reason, in the
assignment's `hidden_tests/A/equivalent_mutants.toml`:

    [standardize]
    "2 -> 3" = "..."   # the mutant's id, as `course check` prints it, and why it computes the same
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper
from mutmut.mutation.file_mutation import MutationVisitor, deep_replace
from mutmut.mutation.mutators import mutation_operators
from mutmut.mutation.pragma_handling import IgnoredCode

from autograder.course import Assignment
from autograder.errors import KitError

EQUIVALENTS_NAME = "equivalent_mutants.toml"


@dataclasses.dataclass(frozen=True)
class Mutant:
    function: str
    id: str  # "original -> mutated" (one line each), with " (#2)" for a repeat: stable while the reference is
    source: str  # the whole mutated function

    def diff(self, original: str) -> str:
        lines = difflib.unified_diff(original.splitlines(), self.source.splitlines(), lineterm="", n=0)
        return "\n".join(line for line in lines if not line.startswith(("---", "+++", "@@")))


def _one_line(module: cst.Module, node: cst.CSTNode) -> str:
    return " ".join(module.code_for_node(node).split())


def mutants_of(function: str, source: str) -> list[Mutant]:
    """Every mutant mutmut's operators make of one function's source."""
    module = cst.parse_module(source)
    visitor = MutationVisitor(mutation_operators, IgnoredCode(set(), set(), set()))
    module = MetadataWrapper(module).visit(visitor)
    made, seen = [], {}
    for mutation in visitor.mutations:
        base = f"{_one_line(module, mutation.original_node)} -> {_one_line(module, mutation.mutated_node)}"
        seen[base] = seen.get(base, 0) + 1
        mutant_id = base if seen[base] == 1 else f"{base} (#{seen[base]})"
        mutated = deep_replace(module, mutation.original_node, mutation.mutated_node)
        made.append(Mutant(function, mutant_id, mutated.code))
    return made


class EquivalentsError(KitError, ValueError):
    """An assignment's equivalent_mutants.toml cannot be used; str(self) says what to fix."""


def equivalents(assignment: Assignment) -> dict[str, dict[str, str]]:
    """function -> {mutant id: why it is equivalent}, from the assignment's equivalent_mutants.toml."""
    path: Path = assignment.tests / EQUIVALENTS_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EquivalentsError(f"{path}: {exc}") from None
    for function, marks in data.items():
        if not isinstance(marks, dict) or not all(isinstance(why, str) and why.strip() for why in marks.values()):
            raise EquivalentsError(f'{path}: [{function}] must map each mutant id to a one-line reason: "id" = "why"')
    return data
