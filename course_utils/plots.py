"""Every figure of the line-fit lesson, drawn so that it works wherever the notebook runs.

Three places, picked automatically:
- a Jupyter kernel with the inline backend (JupyterLab, nbclient): figures are plain matplotlib Figures
  that pyplot never sees, shown with IPython's display; the live plot updates one display handle in place;
- a kernel where ipympl is active (``%matplotlib widget``): pyplot figures shown as ipympl widgets;
- a plain Python process (a script, pytest): pyplot figures that nobody shows, and a live plot that does
  no drawing work at all. Call ``plt.show()`` or ``savefig`` to see them.

Each kind of figure is kept once: a new one replaces the previous one of its kind, so a notebook never
piles up open figures. The functions return nothing: the grader replaces them by no-ops, so the notebook
must not depend on what they give back.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator, NullFormatter

from .data import LineData

COLORS = {
    "noisy": "#90a4ae",
    "true": "#455a64",
    "pred": "#ffa000",
    "loss": "#1976d2",
    "minimum": "#d32f2f",
}
TRAJECTORY_COLORS = ("#00e5ff", "#76ff03", "#ffffff", "#ff4081")
CMAP = "inferno"
N_LEVELS = 50  # contour levels, log-spaced between the smallest and the largest loss

Mode = Literal["inline", "widget", "script"]

# The one open figure of each kind ("data", "live", "surface", "contour"): a new figure replaces it.
_current: dict[str, Figure] = {}


def _kernel() -> Any:
    """The IPython shell when we run inside a Jupyter kernel, else None (a script, or a terminal IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return shell


def _mode() -> Mode:
    if _kernel() is None:
        return "script"
    backend = str(matplotlib.get_backend()).lower()
    if "ipympl" in backend or backend == "widget":
        return "widget"
    return "inline"


def _new_figure(kind: str, mode: Mode, **kwargs: Any) -> Figure:
    """A fresh figure for this kind of plot; the previous one of the kind is closed."""
    import matplotlib.pyplot as plt

    old = _current.pop(kind, None)
    if old is not None:
        plt.close(old)  # a no-op for a figure pyplot does not know
    if mode == "inline":
        # Not registered with pyplot: the inline backend shows no extra copy at the end of the cell and
        # nothing stays open once the figure is dropped.
        fig = Figure(**kwargs)
    elif mode == "widget":
        with plt.ioff():  # we display the widget ourselves, right away rather than at the end of the cell
            fig = plt.figure(num=f"line_fit: {kind}", **kwargs)
    else:
        fig = plt.figure(num=f"line_fit: {kind}", **kwargs)
    _current[kind] = fig
    return fig


def _displayable(fig: Figure, shell: Any) -> Any:
    """The figure itself if IPython knows how to render it (the inline backend registers formatters for
    Figure), else a PNG of it."""
    for mime, formatter in shell.display_formatter.formatters.items():
        if mime == "text/plain":
            continue
        try:
            formatter.lookup_by_type(Figure)
            return fig
        except KeyError:
            continue
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return Image(data=buffer.getvalue(), format="png")


def _show(fig: Figure, mode: Mode) -> Any:
    """Show a figure once; returns a display handle in a kernel with the inline backend."""
    if mode == "script":
        return None
    from IPython.display import display

    if mode == "widget":
        display(fig.canvas)
        return None
    return display(_displayable(fig, _kernel()), display_id=True)


def _to_numpy(values: Any) -> np.ndarray:
    """A float64 NumPy copy of a tensor (detached, on the CPU) or of anything array-like."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.array(values, dtype=np.float64)


def _style(ax: Any) -> None:
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(loc="best")


def _draw_data(ax: Any, data: LineData) -> None:
    ax.scatter(data.x, data.y_noisy, s=1, color=COLORS["noisy"], alpha=0.5, label="y_noisy", rasterized=True)
    ax.plot(data.x, data.y_true, linewidth=1.5, color=COLORS["true"], label="y_true")
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def plot_data(data: LineData, y_pred: Any = None, title: str | None = None) -> None:
    """The noisy samples and the true line, and a prediction over them if one is given."""
    mode = _mode()
    fig = _new_figure("data", mode, figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    _draw_data(ax, data)
    if y_pred is not None:
        ax.plot(data.x, _to_numpy(y_pred).reshape(-1), color=COLORS["pred"], label="y_pred")
    ax.set_title(title or f"y = {data.a:.3f} x + {data.b:.3f}, plus noise")
    _style(ax)
    _show(fig, mode)


class LiveFigure:
    """What the live figures (LivePlot, and LiveBoundary of the second lesson) share: showing the figure once,
    redrawing it in place as training goes, and letting it go. A subclass sets fig, _mode and _key."""

    fig: Figure
    _mode: Mode
    _key: str
    _shown = False  # set by _render once the figure is on the page
    _handle: Any = None

    def _render(self) -> None:
        if self._mode == "script":
            return  # nobody is watching: leave drawing to plt.show() or savefig
        if not self._shown:
            self._handle = _show(self.fig, self._mode)
            self._shown = True
            # The layout is settled by the first drawing; redoing it at every update costs a quarter of the time.
            self.fig.set_layout_engine("none")
        elif self._mode == "widget":
            self.fig.canvas.draw_idle()
            self.fig.canvas.flush_events()
        else:
            self._handle.update(_displayable(self.fig, _kernel()))

    def close(self) -> None:
        """Let the figure go (the picture already shown in the notebook stays)."""
        import matplotlib.pyplot as plt

        if _current.get(self._key) is self.fig:
            del _current[self._key]
        plt.close(self.fig)


class LivePlot(LiveFigure):
    """The prediction over the data (top) and the training loss on a log scale (bottom), redrawn while a
    model trains.

    Call ``update(y_pred, losses)`` as often as you like, with the current prediction and the list of losses
    so far; the figure is redrawn at the start, every ``every`` steps, and at the last step.
    """

    def __init__(self, data: LineData, n_steps: int, every: int = 10, title: str = "training") -> None:
        self.n_steps = int(n_steps)
        self.every = max(1, int(every))
        self.title = title
        self._mode = _mode()
        self._key = "live"
        self._last_step = -1
        self.fig = _new_figure("live", self._mode, figsize=(6.4, 6.4), layout="constrained")
        self._ax_fit, self._ax_loss = self.fig.subplots(nrows=2, height_ratios=[0.65, 0.35])
        _draw_data(self._ax_fit, data)
        (self._line_pred,) = self._ax_fit.plot(
            data.x, np.full(len(data.x), np.nan), color=COLORS["pred"], label="y_pred"
        )
        y_span = np.ptp(data.y_noisy)
        self._ax_fit.set_ylim(float(data.y_noisy.min()) - 0.1 * y_span, float(data.y_noisy.max()) + 0.1 * y_span)
        (self._line_loss,) = self._ax_loss.plot([], [], color=COLORS["loss"], label="training loss")
        self._ax_loss.set_yscale("log")
        self._ax_loss.yaxis.set_minor_formatter(NullFormatter())  # labels on 1-2-5 minor ticks crowd the axis
        self._ax_loss.set_xlim(0, max(1, self.n_steps))
        self._ax_loss.set_ylim(0.1, 10.0)
        self._ax_loss.set_xlabel("step")
        self._ax_loss.set_ylabel("mse loss")
        self._ax_fit.set_title(f"{self.title}: step 0")
        _style(self._ax_fit)
        _style(self._ax_loss)

    def _due(self, step: int) -> bool:
        if step == self._last_step:
            return False
        return step <= 1 or step % self.every == 0 or step >= self.n_steps

    def update(self, y_pred: Any, losses: Sequence[float]) -> None:
        """Show this prediction and these losses, if the step (the number of losses) is one to draw."""
        step = len(losses)
        if not self._due(step):
            return
        self._last_step = step
        self._line_pred.set_ydata(_to_numpy(y_pred).reshape(-1))
        loss_values = np.array([float(v) for v in losses], dtype=np.float64)
        self._line_loss.set_data(np.arange(step), loss_values)
        finite = loss_values[np.isfinite(loss_values) & (loss_values > 0)]
        if finite.size:
            self._ax_loss.set_ylim(finite.min() / 1.5, finite.max() * 1.5)
        if step > self.n_steps:
            self._ax_loss.set_xlim(0, step)
        latest = f": loss {loss_values[-1]:.4f}" if step else ""
        self._ax_fit.set_title(f"{self.title}: step {step}{latest}")
        self._render()


def _log_norm(losses: np.ndarray) -> tuple[np.ndarray, LogNorm]:
    """Losses clipped to their smallest positive value, and a log colour scale over them."""
    positive = losses[np.isfinite(losses) & (losses > 0)]
    vmin = float(positive.min()) if positive.size else 1e-12
    vmax = float(positive.max()) if positive.size else 1.0
    if vmax <= vmin:
        vmax = vmin * 10
    return np.clip(losses, vmin, vmax), LogNorm(vmin=vmin, vmax=vmax)


def _nice_log_ticks(vmin: float, vmax: float) -> list[float]:
    """Ticks at 1, 2 and 5 times the powers of ten between vmin and vmax (or just the two ends)."""
    exponents = range(int(np.floor(np.log10(vmin))), int(np.ceil(np.log10(vmax))) + 1)
    ticks = [m * 10.0**e for e in exponents for m in (1, 2, 5) if vmin <= m * 10.0**e <= vmax]
    return ticks if len(ticks) >= 2 else [vmin, vmax]


def _grids(a_grid: Any, b_grid: Any, losses: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    a = _to_numpy(a_grid)
    b = _to_numpy(b_grid)
    loss = _to_numpy(losses)
    if not a.shape == b.shape == loss.shape or a.ndim != 2:
        raise ValueError(
            f"a_grid, b_grid and losses must be 2-D grids of one shape, got {a.shape}, {b.shape}, {loss.shape}"
        )
    return a, b, loss, int(np.nanargmin(loss))


def plot_loss_surface(a_grid: Any, b_grid: Any, losses: Any) -> None:
    """The loss over the (a, b) grid as a 3-D surface, coloured on a log scale, with its minimum marked."""
    a, b, loss, i_min = _grids(a_grid, b_grid, losses)
    clipped, norm = _log_norm(loss)
    mode = _mode()
    fig = _new_figure("surface", mode, figsize=(6.4, 5.2))
    ax = fig.add_subplot(projection="3d", computed_zorder=False)
    ax.plot_surface(a, b, clipped, cmap=CMAP, norm=norm, antialiased=False, linewidth=0, rcount=60, ccount=60)
    a_min, b_min, loss_min = a.flat[i_min], b.flat[i_min], loss.flat[i_min]
    ax.scatter([a_min], [b_min], [loss_min], color=COLORS["minimum"], s=30, label="minimum on the grid")
    ax.set_xlabel("a (slope)")
    ax.set_ylabel("b (intercept)")
    ax.set_zlabel("mse loss")
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    ax.set_title(f"loss landscape: lowest {loss_min:.3f} at a = {a_min:.2f}, b = {b_min:.2f}", fontsize="medium")
    ax.legend(loc="upper left")
    _show(fig, mode)


def plot_loss_contour(
    a_grid: Any,
    b_grid: Any,
    losses: Any,
    trajectory: Any | Mapping[str, Any] | None = None,
) -> None:
    """The loss over the (a, b) grid as filled contours on log-spaced levels, its minimum, and the path the
    optimizer took: an array of (a, b) rows, or a mapping from a name to such an array to draw several."""
    a, b, loss, i_min = _grids(a_grid, b_grid, losses)
    clipped, norm = _log_norm(loss)
    mode = _mode()
    fig = _new_figure("contour", mode, figsize=(6.4, 5.0), layout="constrained")
    ax = fig.add_subplot()
    levels = np.geomspace(norm.vmin, norm.vmax, N_LEVELS)
    contours = ax.contourf(a, b, clipped, levels=levels, norm=norm, cmap=CMAP)
    colorbar = fig.colorbar(contours, ax=ax, label="mse loss")
    colorbar.set_ticks(_nice_log_ticks(norm.vmin, norm.vmax), labels=None)
    colorbar.ax.yaxis.set_major_formatter("{x:g}")
    colorbar.ax.yaxis.set_minor_locator(FixedLocator([]))
    ax.scatter(
        [a.flat[i_min]],
        [b.flat[i_min]],
        color=COLORS["minimum"],
        marker="x",
        s=60,
        zorder=3,
        label="minimum on the grid",
    )
    if trajectory is not None:
        paths = trajectory if isinstance(trajectory, Mapping) else {"optimizer": trajectory}
        for (name, path), color in zip(paths.items(), itertools.cycle(TRAJECTORY_COLORS)):
            points = _to_numpy(path).reshape(-1, 2)
            ax.plot(
                points[:, 0],
                points[:, 1],
                color=color,
                linewidth=1.2,
                marker=".",
                markersize=2,
                label=f"{name} ({len(points)} points)",
            )
            ax.scatter(points[:1, 0], points[:1, 1], color=color, marker="o", s=25, zorder=3)
    ax.set_xlim(a.min(), a.max())
    ax.set_ylim(b.min(), b.max())
    ax.set_xlabel("a (slope)")
    ax.set_ylabel("b (intercept)")
    ax.set_title("loss landscape, and the path of the optimizer")
    ax.legend(loc="upper right", fontsize="small")
    _show(fig, mode)
