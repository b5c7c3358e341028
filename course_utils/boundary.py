"""The figures of the spiral lesson (mlp_spirals): the data, a classifier's decision boundary, and a live
figure of both redrawn while a model trains.

They work wherever the notebook runs, exactly as the line-fit figures of plots.py do (and with its
machinery): plain figures shown with IPython's display in a kernel with the inline backend, ipympl widgets
under ``%matplotlib widget``, and pyplot figures that nobody shows in a plain Python process, where the live
figure does no drawing work at all. Each kind of figure is kept once, and the functions return nothing.

A decision boundary is found by asking the model for the class of every point of a fine grid over the data:
in evaluation mode and under ``torch.no_grad()``, so drawing it neither changes the model's training mode
nor touches any gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.colors import to_rgb
from matplotlib.ticker import PercentFormatter

from .plots import COLORS, LiveFigure, Mode, _mode, _new_figure, _show, _to_numpy
from .spirals import SpiralData

# One colour per class (cycled if there are more classes): points in the colour, regions in a pale version.
CLASS_COLORS = ("#1976d2", "#d32f2f", "#388e3c", "#ffa000", "#7b1fa2", "#0097a7", "#5d4037", "#c2185b")
REGION_WHITENESS = 0.72  # how much white is mixed into a class colour to paint its region
MARGIN = 0.1  # the grid reaches this fraction of the data's extent beyond the outermost points
CURVE_COLORS = {"train": COLORS["loss"], "val": COLORS["pred"]}


def _class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def _region_colors(n_classes: int) -> np.ndarray:
    """An (n_classes, 3) array of RGB colours, one pale colour per class region."""
    colors = np.array([to_rgb(_class_color(k)) for k in range(n_classes)])
    return REGION_WHITENESS + (1.0 - REGION_WHITENESS) * colors


def _points(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """x as a float64 (N, 2) array and y as an int64 (N,) array, from tensors or anything array-like."""
    xs = _to_numpy(x)
    ys = _to_numpy(y).astype(np.int64)
    if xs.ndim != 2 or xs.shape[1] != 2 or ys.shape != (len(xs),):
        raise ValueError(f"expected x of shape (N, 2) and y of shape (N,), got {xs.shape} and {ys.shape}")
    return xs, ys


def _extent(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    """(x1 min, x1 max, x2 min, x2 max) around every point given, with a margin."""
    points = np.concatenate([a for a in arrays if a.size])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = MARGIN * max(float((high - low).max()), 1e-3)
    return float(low[0] - pad), float(high[0] + pad), float(low[1] - pad), float(high[1] + pad)


def _predict(model: torch.nn.Module, points: np.ndarray) -> np.ndarray:
    """The model's class (the index of its largest output) for each row of points.

    Evaluation mode, no autograd history: the training mode of the model and of each of its submodules is put
    back as it was afterwards, and no parameter's .grad changes.
    """
    parameter = next((p for p in model.parameters() if p.is_floating_point()), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    device = parameter.device if parameter is not None else torch.device("cpu")
    inputs = torch.as_tensor(points, dtype=dtype, device=device)
    modes = [(module, module.training) for module in model.modules()]  # each one's own, in case they differ
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(inputs)
    finally:
        for module, mode in modes:
            module.training = mode
    outputs = outputs.detach().cpu()
    if outputs.dim() == 1 or outputs.shape[-1] == 1:  # a single output: a two-class model, class 1 if positive
        return (outputs.reshape(-1) > 0).long().numpy()
    return outputs.argmax(dim=-1).reshape(-1).numpy()


def _class_map(model: torch.nn.Module, extent: tuple[float, float, float, float], resolution: int) -> np.ndarray:
    """The model's class at every point of a resolution x resolution grid over extent; row i is the i-th x2."""
    x1 = np.linspace(extent[0], extent[1], resolution)
    x2 = np.linspace(extent[2], extent[3], resolution)
    grid_1, grid_2 = np.meshgrid(x1, x2, indexing="xy")
    points = np.stack([grid_1.reshape(-1), grid_2.reshape(-1)], axis=1)
    return _predict(model, points).reshape(resolution, resolution)


def _paint(classes: np.ndarray, n_classes: int) -> np.ndarray:
    """An RGB image of a class map: each class's region in its pale colour."""
    n = max(n_classes, int(classes.max()) + 1 if classes.size else 0)
    return _region_colors(n)[classes]


def _n_classes(*labels: np.ndarray) -> int:
    return max((int(y.max()) + 1 for y in labels if y.size), default=1)


def _draw_points(ax: Any, x: np.ndarray, y: np.ndarray, n_classes: int, validation: bool = False) -> None:
    """The points, coloured by class: filled for training points, hollow for validation points."""
    for k in range(n_classes):
        mine = y == k
        if validation:
            ax.scatter(
                x[mine, 0], x[mine, 1], s=26, facecolors="white", edgecolors=_class_color(k), linewidths=1.4, zorder=3
            )
        else:
            ax.scatter(
                x[mine, 0],
                x[mine, 1],
                s=18,
                color=_class_color(k),
                edgecolors="white",
                linewidths=0.4,
                label=f"class {k}",
                zorder=2,
            )
    if validation:  # one legend entry for the validation points of every class
        ax.scatter([], [], s=26, facecolors="white", edgecolors="#616161", linewidths=1.4, label="validation")


def _style_plane(ax: Any, extent: tuple[float, float, float, float]) -> None:
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def _legend(ax: Any) -> None:
    ax.legend(loc="lower right", fontsize="small", framealpha=0.8)


def _accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return float((_predict(model, x) == y).mean()) if len(y) else float("nan")


def plot_spirals(data: SpiralData | Any, y: Any = None, title: str | None = None) -> None:
    """The points of a SpiralData, or of an (N, 2) x with its labels y, coloured by class."""
    if isinstance(data, SpiralData):
        xs, ys = _points(data.x, data.y)
        n_classes = data.n_classes
        default_title = f"{len(xs)} points of {n_classes} classes (seed {data.seed})"
    else:
        if y is None:
            raise TypeError("plot_spirals(x, y): give the labels y along with the points x, or a SpiralData")
        xs, ys = _points(data, y)
        n_classes = _n_classes(ys)
        default_title = f"{len(xs)} points of {n_classes} classes"
    mode = _mode()
    fig = _new_figure("spirals", mode, figsize=(5.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    extent = _extent(xs)
    _draw_points(ax, xs, ys, n_classes)
    _style_plane(ax, extent)
    ax.grid(True, alpha=0.25)
    ax.set_title(title or default_title)
    _legend(ax)
    _show(fig, mode)


def plot_decision_boundary(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    ax: Any = None,
    title: str | None = None,
    resolution: int = 200,
    *,
    x_val: Any = None,
    y_val: Any = None,
) -> None:
    """The class the model gives to each point of the plane around the data (a pale region per class), with the
    points (x, y) over it, and the validation points (x_val, y_val) hollow if given.

    The model is evaluated under torch.no_grad() in evaluation mode on a resolution x resolution grid; its
    training mode is put back afterwards. Draws on ax if given (the caller shows the figure), otherwise in a
    figure of its own. The default title gives the model's accuracy on the points.
    """
    xs, ys = _points(x, y)
    has_val = x_val is not None and y_val is not None
    xv, yv = _points(x_val, y_val) if has_val else (np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    n_classes = _n_classes(ys, yv)
    extent = _extent(xs, xv)
    classes = _class_map(model, extent, int(resolution))
    if title is None:
        title = f"decision boundary: accuracy {_accuracy(model, xs, ys):.1%}"
        if has_val:
            title += f", validation {_accuracy(model, xv, yv):.1%}"
    mode: Mode | None = None
    if ax is None:
        mode = _mode()
        fig = _new_figure("boundary", mode, figsize=(5.0, 4.6), layout="constrained")
        ax = fig.add_subplot()
    ax.imshow(_paint(classes, n_classes), extent=extent, origin="lower", interpolation="nearest", zorder=0)
    _draw_points(ax, xs, ys, n_classes)
    if has_val:
        _draw_points(ax, xv, yv, n_classes, validation=True)
    _style_plane(ax, extent)
    ax.set_title(title, fontsize="medium")
    _legend(ax)
    if mode is not None:
        _show(ax.figure, mode)


def _values(history: Sequence[float] | None) -> np.ndarray:
    return np.array([float(v) for v in history or ()], dtype=np.float64)


class LiveBoundary(LiveFigure):
    """The model's decision boundary over the training data (left), and the loss and the accuracy of each
    epoch on the training and validation sets (right), redrawn while the model trains.

    Call ``update(train_loss, val_loss, train_acc, val_acc)`` after every epoch, with the lists of values so
    far (one per epoch; the validation lists and the accuracies may be left out). The figure is redrawn at the
    start (empty lists: the untrained model), every ``every`` epochs, and at the last epoch; the boundary is
    the model's at that moment. A grid of resolution x resolution points is enough for a live view.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        x: Any,
        y: Any,
        n_epochs: int,
        every: int = 1,
        title: str = "training",
        *,
        x_val: Any = None,
        y_val: Any = None,
        resolution: int = 100,
    ) -> None:
        self.model = model
        self.n_epochs = int(n_epochs)
        self.every = max(1, int(every))
        self.title = title
        self.resolution = int(resolution)
        self._mode = _mode()
        self._key = "live_boundary"
        self._last_epoch = -1
        xs, ys = _points(x, y)
        has_val = x_val is not None and y_val is not None
        xv, yv = _points(x_val, y_val) if has_val else (np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
        self._n_classes = _n_classes(ys, yv)
        self._extent = _extent(xs, xv)

        self.fig = _new_figure("live_boundary", self._mode, figsize=(10.0, 4.6), layout="constrained")
        grid = self.fig.add_gridspec(nrows=2, ncols=2, width_ratios=[1.0, 1.05])
        self._ax_boundary = self.fig.add_subplot(grid[:, 0])
        self._ax_loss = self.fig.add_subplot(grid[0, 1])
        self._ax_acc = self.fig.add_subplot(grid[1, 1], sharex=self._ax_loss)

        blank = np.ones((self.resolution, self.resolution, 3))
        self._image = self._ax_boundary.imshow(
            blank, extent=self._extent, origin="lower", interpolation="nearest", zorder=0
        )
        _draw_points(self._ax_boundary, xs, ys, self._n_classes)
        if has_val:
            _draw_points(self._ax_boundary, xv, yv, self._n_classes, validation=True)
        _style_plane(self._ax_boundary, self._extent)
        _legend(self._ax_boundary)
        self._ax_boundary.set_title(f"{self.title}: epoch 0", fontsize="medium")

        self._lines: dict[str, Any] = {}
        for metric, ax in (("loss", self._ax_loss), ("acc", self._ax_acc)):
            for split in ("train", "val") if has_val else ("train",):
                name = "training" if split == "train" else "validation"
                (self._lines[f"{split}_{metric}"],) = ax.plot(
                    [], [], color=CURVE_COLORS[split], linestyle="-" if split == "train" else "--", label=name
                )
            ax.grid(True, which="both", alpha=0.25)
            ax.legend(loc="best", fontsize="small")
        self._ax_loss.set_yscale("log")
        self._ax_loss.set_ylim(0.01, 2.0)
        self._ax_loss.set_ylabel("cross-entropy")
        self._ax_loss.tick_params(labelbottom=False)
        self._ax_acc.set_ylim(0.0, 1.02)
        self._ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0))
        self._ax_acc.set_ylabel("accuracy")
        self._ax_acc.set_xlabel("epoch")
        self._ax_acc.set_xlim(0, max(1, self.n_epochs))

    def _due(self, epoch: int) -> bool:
        if epoch == self._last_epoch:
            return False
        return epoch <= 1 or epoch % self.every == 0 or epoch >= self.n_epochs

    def update(
        self,
        train_loss: Sequence[float],
        val_loss: Sequence[float] | None = None,
        train_acc: Sequence[float] | None = None,
        val_acc: Sequence[float] | None = None,
    ) -> None:
        """Show the model's boundary now and these curves, if the epoch (the number of training losses) is one
        to draw."""
        epoch = len(train_loss)
        if not self._due(epoch):
            return
        self._last_epoch = epoch
        classes = _class_map(self.model, self._extent, self.resolution)
        self._image.set_data(_paint(classes, self._n_classes))

        values = {"train_loss": train_loss, "val_loss": val_loss, "train_acc": train_acc, "val_acc": val_acc}
        latest = []
        for key, history in values.items():
            numbers = _values(history)
            if key in self._lines:
                self._lines[key].set_data(np.arange(1, len(numbers) + 1), numbers)
            if key.endswith("acc") and numbers.size:
                latest.append(f"{'train' if key.startswith('train') else 'val'} {numbers[-1]:.1%}")
        losses = np.concatenate([_values(train_loss), _values(val_loss if "val_loss" in self._lines else None)])
        finite = losses[np.isfinite(losses) & (losses > 0)]
        if finite.size:
            self._ax_loss.set_ylim(min(finite.min() / 1.5, 0.5), max(finite.max() * 1.5, 1.5))
        if epoch > self.n_epochs:
            self._ax_acc.set_xlim(0, epoch)
        accuracies = f" (accuracy {', '.join(latest)})" if latest else ""
        self._ax_boundary.set_title(f"{self.title}: epoch {epoch}{accuracies}", fontsize="medium")
        self._render()
