"""What the line-fit notebook imports: the seed data and model, the lesson's figures, and check()."""

from .check import CheckResult, check
from .data import LineData, make_line_data, make_model, to_tensors
from .plots import LivePlot, plot_data, plot_loss_contour, plot_loss_surface

__all__ = [
    "CheckResult",
    "LineData",
    "LivePlot",
    "check",
    "make_line_data",
    "make_model",
    "plot_data",
    "plot_loss_contour",
    "plot_loss_surface",
    "to_tensors",
]
