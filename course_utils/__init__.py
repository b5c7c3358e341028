"""What the course's two notebooks import: their data sets, models and figures, and check().

- line_fit, "PyTorch (1/2)": the line data and model (data.py) and the lesson's figures (plots.py);
- mlp_spirals, "PyTorch (2/2)": the spiral data and its train/validation split (spirals.py), and the data,
  decision-boundary and live training figures (boundary.py);
- both: check("name"), the public tests of one function of the notebook (check.py).
"""

from .boundary import LiveBoundary, plot_decision_boundary, plot_spirals
from .check import CheckResult, check
from .data import LineData, make_line_data, make_model, to_tensors
from .plots import LivePlot, plot_data, plot_loss_contour, plot_loss_surface
from .spirals import SpiralData, make_spirals, train_val_split

__all__ = [
    "CheckResult",
    "LineData",
    "LiveBoundary",
    "LivePlot",
    "SpiralData",
    "check",
    "make_line_data",
    "make_model",
    "make_spirals",
    "plot_data",
    "plot_decision_boundary",
    "plot_loss_contour",
    "plot_loss_surface",
    "plot_spirals",
    "to_tensors",
    "train_val_split",
]
