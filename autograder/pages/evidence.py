"""The pictures a hidden test keeps for the feedback page, read strictly from results.json.

Hidden tests fill `evidence[<graded function>]` with plain data (JSON numbers, strings and lists), never with
an image or code, so what the page draws is decided here and by figures.py:

    evidence["<function>"] = {
        "figures": [{
            "title": str, "caption": str, "alt": str,     # caption under the picture, alt text of the image
            "xlabel": str, "ylabel": str,
            "log_y": bool,                             # log scale when every drawn value is positive
            "equal_aspect": bool,                      # one unit is as long on both axes (e.g. 2-D data)
            "layers": [                                # drawn in order
                {"type": "points", "x": [float], "y": [float], "classes": [int] | None, "role": ROLE,
                 "label": str},
                {"type": "line", "x": [float], "y": [float], "role": ROLE, "label": str},
                {"type": "regions", "x": [lo, hi], "y": [lo, hi], "classes": [[int, ...], ...],
                 "label": str},                        # a grid of class ids over the box, row 0 at y = lo
            ],
        }, ...],
        "notes": [str, ...],                           # shown under the pictures, e.g. why a curve is missing
    }

ROLE is "data" (grey points), "reference" (solid blue) or "student" (dashed orange). Layers of role "data"
also fix the y range, so that a wild student line cannot squash the data to a stripe. Points, lines and grids
are thinned to what a page needs. The numbers are often the student's (a loss that went to NaN or 1e308), and
matplotlib cannot place every float: points with a NaN or infinite coordinate are left out, coordinates beyond
±LIMIT are drawn at ±LIMIT, and a note under the pictures says how many of each.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import Any

MAX_FIGURES = 4  # per graded function
MAX_POINTS = 300  # of a points layer
MAX_LINE_POINTS = 5000  # of a line layer
MAX_GRID = 200  # rows and columns of a regions layer
MAX_CLASSES = 20
MAX_TEXT = 300
MAX_LAYERS = 12  # of a figure
LIMIT = 1e100  # far from overflow: matplotlib computes ranges and margins (1e308 - -1e308 is inf) and tick steps
ROLES = ("data", "reference", "student")


class EvidenceError(ValueError):
    """The evidence is there but not in the documented shape."""


@dataclasses.dataclass(frozen=True)
class Layer:
    type: str  # points, line, regions
    x: list[float]
    y: list[float]
    role: str = "data"
    label: str = ""
    classes: list[int] | None = None  # per point (points), or the flattened grid (regions)
    grid: tuple[int, int] | None = None  # (rows, columns) of a regions layer


@dataclasses.dataclass(frozen=True)
class Figure:
    title: str
    caption: str
    alt: str
    xlabel: str
    ylabel: str
    log_y: bool
    equal_aspect: bool
    layers: list[Layer]


@dataclasses.dataclass(frozen=True)
class Evidence:
    figures: list[Figure]
    notes: list[str]


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise EvidenceError(f"{what} is not text")
    return value[:MAX_TEXT]


def _flag(value: Any, what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise EvidenceError(f"{what} is not true or false")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvidenceError(f"{what} is not a number")
    return float(value)


def _numbers(value: Any, what: str) -> list[float]:
    if not isinstance(value, list) or not value:
        raise EvidenceError(f"{what} is not a non-empty list")
    return [_number(v, what) for v in value]


def _class_id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_CLASSES:
        raise EvidenceError(f"{what} is not a class id from 0 to {MAX_CLASSES - 1}")
    return value


def _thin(items: list, limit: int) -> list:
    """At most `limit` items, evenly spread, the first and the last kept."""
    if len(items) <= limit:
        return items
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)]


def _clip(value: float, tally: Counter) -> float:
    if abs(value) <= LIMIT:
        return value
    tally["clipped"] += 1
    return math.copysign(LIMIT, value)


def _layer(raw: Any, where: str, tally: Counter) -> Layer:
    if not isinstance(raw, dict):
        raise EvidenceError(f"{where} is not a mapping")
    kind = raw.get("type")
    role = raw.get("role", "data")
    if role not in ROLES:
        raise EvidenceError(f"{where}: role is not one of {', '.join(ROLES)}")
    label = _text(raw.get("label"), f"{where}.label")
    if kind in ("points", "line"):
        x, y = _numbers(raw.get("x"), f"{where}.x"), _numbers(raw.get("y"), f"{where}.y")
        if len(x) != len(y):
            raise EvidenceError(f"{where}: x and y differ in length")
        classes = raw.get("classes")
        if classes is not None:
            if kind != "points" or not isinstance(classes, list) or len(classes) != len(x):
                raise EvidenceError(f"{where}: classes must be one class id per point")
            classes = [_class_id(c, f"{where}.classes") for c in classes]
        rows = [(a, b, c) for a, b, c in zip(x, y, classes or [0] * len(x), strict=True)]
        finite = [row for row in rows if math.isfinite(row[0]) and math.isfinite(row[1])]
        tally["left out"] += len(rows) - len(finite)
        rows = [(_clip(a, tally), _clip(b, tally), c) for a, b, c in finite]
        rows = _thin(rows, MAX_POINTS if kind == "points" else MAX_LINE_POINTS)
        return Layer(
            kind, [r[0] for r in rows], [r[1] for r in rows], role, label,
            None if classes is None else [r[2] for r in rows],
        )  # fmt: skip
    if kind == "regions":
        x, y = _numbers(raw.get("x"), f"{where}.x"), _numbers(raw.get("y"), f"{where}.y")
        if len(x) != 2 or len(y) != 2 or not all(math.isfinite(v) for v in x + y):
            raise EvidenceError(f"{where}: x and y must be finite [low, high] pairs")
        x, y = [_clip(v, tally) for v in x], [_clip(v, tally) for v in y]
        if x[0] >= x[1] or y[0] >= y[1]:
            raise EvidenceError(f"{where}: x and y must be [low, high] pairs with low < high")
        grid = raw.get("classes")
        if not isinstance(grid, list) or not grid or not all(isinstance(row, list) and row for row in grid):
            raise EvidenceError(f"{where}: classes is not a grid of class ids")
        rows, columns = len(grid), len(grid[0])
        if rows > MAX_GRID or columns > MAX_GRID or any(len(row) != columns for row in grid):
            raise EvidenceError(f"{where}: the grid is not rectangular, or larger than {MAX_GRID} x {MAX_GRID}")
        flat = [_class_id(c, f"{where}.classes") for row in grid for c in row]
        return Layer("regions", x, y, role, label, flat, (rows, columns))
    raise EvidenceError(f"{where}: unknown layer type {kind!r}")


def _figure(raw: Any, where: str, tally: Counter) -> Figure:
    if not isinstance(raw, dict):
        raise EvidenceError(f"{where} is not a mapping")
    layers = raw.get("layers")
    if not isinstance(layers, list) or not layers or len(layers) > MAX_LAYERS:
        raise EvidenceError(f"{where} has no layers, or more than {MAX_LAYERS}")
    return Figure(
        title=_text(raw.get("title"), f"{where}.title"), caption=_text(raw.get("caption"), f"{where}.caption"),
        alt=_text(raw.get("alt"), f"{where}.alt"), xlabel=_text(raw.get("xlabel"), f"{where}.xlabel"),
        ylabel=_text(raw.get("ylabel"), f"{where}.ylabel"), log_y=_flag(raw.get("log_y"), f"{where}.log_y"),
        equal_aspect=_flag(raw.get("equal_aspect"), f"{where}.equal_aspect"),
        layers=[_layer(layer, f"{where}.layers[{i}]", tally) for i, layer in enumerate(layers)],
    )  # fmt: skip


def read_evidence(evidence: Any, function: str) -> Evidence | None:
    """`evidence[function]` checked against the documented shape; None when there is none."""
    if not isinstance(evidence, dict) or evidence.get(function) is None:
        return None
    raw = evidence[function]
    if not isinstance(raw, dict):
        raise EvidenceError(f"the evidence of {function} is not a mapping")
    figures, notes = raw.get("figures", []), raw.get("notes", [])
    if not isinstance(figures, list) or len(figures) > MAX_FIGURES:
        raise EvidenceError(f"figures is not a list of at most {MAX_FIGURES}")
    if not isinstance(notes, list):
        raise EvidenceError("notes is not a list")
    tally: Counter = Counter()
    read = [_figure(figure, f"figures[{i}]", tally) for i, figure in enumerate(figures)]
    kept = [_text(note, "a note") for note in notes[:10]]
    if tally["left out"]:
        kept.append(f"{tally['left out']} points with a coordinate that is not a finite number (NaN or infinite) "
                    "are not drawn.")  # fmt: skip
    if tally["clipped"]:
        kept.append(f"{tally['clipped']} numbers beyond ±{LIMIT:g} are drawn at ±{LIMIT:g}.")
    return Evidence(figures=read, notes=kept)
