"""Pictures for the feedback pages and the class report, as self-contained `<img>` tags (base64 PNG).

Figures are built with matplotlib's object API on the Agg canvas, never through pyplot: no global backend
is switched, no window can open, and nothing is left behind between pictures. Everything drawn here comes
from plain numbers the caller hands over; nothing here runs student code.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from autograder.pages import evidence

DPI = 72  # modest: a picture of about 20-40 kB keeps a feedback page well under its size budget
WIDTH, HEIGHT = 6.4, 3.6  # inches; 460 x 260 px at DPI
STUDENT_COLOUR, REFERENCE_COLOUR, DATA_COLOUR = "tab:orange", "tab:blue", "0.55"


def new_figure(width: float = WIDTH, height: float = HEIGHT) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def img_tag(figure: Figure, alt: str, dpi: int = DPI) -> str:
    """The figure as an `<img>` with the PNG inside its data URI: the page needs no other file."""
    encoded = base64.b64encode(png_bytes(figure, dpi)).decode("ascii")
    width = round(figure.get_figwidth() * dpi)
    return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}" width="{width}">'


CLASS_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                 "tab:gray", "tab:olive", "tab:cyan")  # fmt: skip
ROLE_STYLE = {  # colour, line style, width
    "data": (DATA_COLOUR, "-", 1.5),
    "reference": (REFERENCE_COLOUR, "-", 2.0),
    "student": (STUDENT_COLOUR, "--", 2.0),
}


def _class_colour(class_id: int) -> str:
    return CLASS_COLOURS[class_id % len(CLASS_COLOURS)]


def draw(spec: evidence.Figure) -> Figure:
    """One evidence figure (already read strictly by evidence.py): its layers in order, on one axes."""
    from matplotlib.colors import ListedColormap

    figure = new_figure()
    axes = figure.add_subplot()
    data_y: list[float] = []
    drawn_y: list[float] = []
    labelled = False
    for layer in spec.layers:
        colour, style, width = ROLE_STYLE[layer.role]
        label = layer.label or None
        labelled = labelled or label is not None
        if layer.type == "regions":
            rows, columns = layer.grid
            grid = [layer.classes[r * columns : (r + 1) * columns] for r in range(rows)]
            colours = ListedColormap([_class_colour(i) for i in range(max(layer.classes) + 1)])
            axes.imshow(grid, origin="lower", extent=(*layer.x, *layer.y), cmap=colours, alpha=0.25,
                        interpolation="nearest", aspect="auto", vmin=-0.5, vmax=max(layer.classes) + 0.5)  # fmt: skip
        elif layer.type == "points":
            colours = [_class_colour(c) for c in layer.classes] if layer.classes is not None else colour
            marker = "x" if layer.role == "student" else "o"
            axes.scatter(layer.x, layer.y, s=8, c=colours, alpha=0.7, marker=marker, linewidths=0.8, label=label)
        else:
            axes.plot(layer.x, layer.y, color=colour, ls=style, lw=width, label=label)
        if layer.type != "regions":
            drawn_y.extend(layer.y)
            if layer.role == "data":
                data_y.extend(layer.y)
    if spec.log_y and drawn_y and min(drawn_y) > 0:
        axes.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")  # 2, 3, 5 rather than 2x10^0
        axes.yaxis.set_major_formatter(plain)
        axes.yaxis.set_minor_formatter(plain if max(drawn_y) < 10 * min(drawn_y) else NullFormatter())
    elif data_y and not any(layer.type == "regions" for layer in spec.layers):
        low, high = min(data_y), max(data_y)
        margin = 0.5 * (high - low) + 1.0
        axes.set_ylim(low - margin, high + margin)  # a wild line must not squash the data to a stripe
    if spec.equal_aspect:
        axes.set_aspect("equal", adjustable="box")
    axes.set_xlabel(spec.xlabel)
    axes.set_ylabel(spec.ylabel)
    axes.set_title(spec.title)
    if labelled:
        axes.legend(loc="best", fontsize="small")
    return figure


def histogram_figure(scores: Sequence[float], max_score: float) -> Figure:
    """How many submissions earned each score, one bar per point (or per 1/20th of the maximum); scores beyond
    evidence.LIMIT are counted at it, as in every figure."""
    figure = new_figure(7.0, 3.4)
    axes = figure.add_subplot()
    scores = [min(score, evidence.LIMIT) for score in scores]
    top = min(max([max_score, *scores, 1.0]), evidence.LIMIT)
    width = 1.0 if top <= 40 else top / 20
    bins = [i * width for i in range(math.ceil(top / width) + 2)]
    axes.hist(list(scores), bins=bins, color=REFERENCE_COLOUR, edgecolor="white", align="left")
    axes.set_xlim(-width, bins[-1])
    axes.set_xlabel(f"score (out of {max_score:g})")
    axes.set_ylabel("submissions")
    axes.set_title("Scores")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return figure
