"""The package's floors (README, Layout): no import circle among autograder's modules, and no module importing
from a floor above its own. Every import statement counts, those inside functions and under TYPE_CHECKING too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
# errors (0) < course (1) < sandbox (2) < testkit (3) < grading (4) < authoring, gradebook (5) < pages (6)
# < lms (7) < devtools (8) < cli, __main__ (9)
FLOORS = {"errors": 0, "course": 1, "sandbox": 2, "testkit": 3, "grading": 4, "authoring": 5, "gradebook": 5,
          "pages": 6, "lms": 7, "devtools": 8, "cli": 9, "__main__": 9}  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        if {"hidden_tests", "template", "__pycache__"} & set(relative.parts):
            continue
        name = ".".join(relative.with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            out |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in out if module in known and module != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 1 else None


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_floor():
    unplaced = [m for m in modules() if m != "autograder" and floor(m) is None]
    assert not unplaced, f"modules on no floor (add their folder to FLOORS and to the README's Layout): {unplaced}"


def test_no_import_circle():
    edges = graph()
    assert len(edges) > 40  # the detector sees the package
    assert not circles(edges)


def test_no_import_from_a_higher_floor():
    upward = [f"{m} -> {d}" for m, deps in graph().items() for d in deps if floor(d) is not None
              and floor(m) is not None and floor(d) > floor(m)]  # fmt: skip
    assert not upward


def test_the_detectors_can_fail():
    assert circles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert floor("autograder.course.layout") < floor("autograder.grading.batch")
    edges = graph()
    assert "autograder.course.limits" in edges["autograder.sandbox.launcher"]  # imports are found
    assert "autograder.grading.results" in edges["autograder.pages.feedback"]
