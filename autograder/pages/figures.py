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


def _finite(values: Sequence[float]) -> list[tuple[int, float]]:
    return [(i, v) for i, v in enumerate(values) if math.isfinite(v)]


def line_text(slope: float, intercept: float) -> str:
    """y = 1.5 x - 2 as "1.500 x − 2.000", not "1.500 x + -2.000"."""
    return f"{slope:.3f} x {'−' if intercept < 0 else '+'} {abs(intercept):.3f}"


def fit_figure(
    x: Sequence[float],
    y: Sequence[float],
    target: tuple[float, float],
    student_params: tuple[float, float] | None,
) -> Figure:
    """The data, the target line y = a x + b and the student's fitted line y = w x + b."""
    figure = new_figure()
    axes = figure.add_subplot()
    axes.scatter(x, y, s=6, color=DATA_COLOUR, alpha=0.6, linewidths=0, label="data (a sample)")
    low, high = min(x), max(x)
    a, b = target
    axes.plot(
        [low, high], [a * low + b, a * high + b], color=REFERENCE_COLOUR, lw=2, label=f"target: {line_text(a, b)}"
    )
    if student_params is not None and all(math.isfinite(p) for p in student_params):
        w, c = student_params
        axes.plot(
            [low, high],
            [w * low + c, w * high + c],
            color=STUDENT_COLOUR,
            lw=2,
            ls="--",
            label=f"yours: {line_text(w, c)}",
        )
        y_low, y_high = min(y), max(y)
        margin = 0.5 * (y_high - y_low) + 1.0
        axes.set_ylim(y_low - margin, y_high + margin)  # a wild line must not squash the data to a stripe
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_title("Your trained line against the data")
    axes.legend(loc="best", fontsize="small")
    return figure


def loss_figure(student_losses: Sequence[float] | None, reference_losses: Sequence[float]) -> Figure:
    """Loss per step, the student's training against the reference's (log scale when every loss is positive)."""
    figure = new_figure()
    axes = figure.add_subplot()
    curves = [("reference", reference_losses, REFERENCE_COLOUR, "-")]
    if student_losses is not None:
        curves.append(("yours", student_losses, STUDENT_COLOUR, "--"))
    drawn = []
    for label, losses, colour, style in curves:
        points = _finite(losses)
        if points:
            steps, values = zip(*points, strict=True)
            axes.plot(steps, values, color=colour, ls=style, lw=2, label=label)
            drawn.extend(values)
    if drawn and min(drawn) > 0:
        axes.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")  # 2, 3, 5 rather than 2x10^0
        axes.yaxis.set_major_formatter(plain)
        axes.yaxis.set_minor_formatter(plain if max(drawn) < 10 * min(drawn) else NullFormatter())
    axes.set_xlabel("step")
    axes.set_ylabel("loss (mse)")
    axes.set_title("Training loss per step")
    if drawn:
        axes.legend(loc="best", fontsize="small")
    return figure


def histogram_figure(scores: Sequence[float], max_score: float) -> Figure:
    """How many submissions earned each score, one bar per point (or per 1/20th of the maximum)."""
    figure = new_figure(7.0, 3.4)
    axes = figure.add_subplot()
    top = max([max_score, *scores, 1.0])
    width = 1.0 if top <= 40 else top / 20
    bins = [i * width for i in range(math.ceil(top / width) + 2)]
    axes.hist(list(scores), bins=bins, color=REFERENCE_COLOUR, edgecolor="white", align="left")
    axes.set_xlim(-width, bins[-1])
    axes.set_xlabel(f"score (out of {max_score:g})")
    axes.set_ylabel("submissions")
    axes.set_title("Scores")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return figure
