"""course_utils.plots outside a kernel: every figure builds without a warning, the live plot does no drawing
work at all, and figures are replaced rather than piled up."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backend_bases import FigureCanvasBase  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils import LivePlot, make_line_data, plot_data, plot_loss_contour, plot_loss_surface  # noqa: E402
from course_utils import plots as plots_module  # noqa: E402


@pytest.fixture
def data():
    return make_line_data(n_samples=200)


@pytest.fixture
def grid():
    a_grid, b_grid = torch.meshgrid(torch.linspace(-2, 2, 12), torch.linspace(-1, 3, 10), indexing="xy")
    losses = (a_grid + 0.5) ** 2 + 0.3 * (b_grid - 1.8) ** 2 + 1.0
    return a_grid, b_grid, losses


@pytest.fixture
def no_drawing(monkeypatch):
    """Fails the test if anything renders a figure."""

    def refuse(*args, **kwargs):
        raise AssertionError("a figure was drawn")

    for name in ("draw", "draw_idle", "print_figure"):
        monkeypatch.setattr(FigureCanvasAgg, name, refuse, raising=False)
        monkeypatch.setattr(FigureCanvasBase, name, refuse, raising=False)
    monkeypatch.setattr(Figure, "draw", refuse)


def test_outside_a_kernel_the_mode_is_script():
    assert plots_module._mode() == "script"


def test_live_plot_does_no_drawing_work_outside_a_kernel(data, no_drawing):
    live = LivePlot(data, n_steps=30, every=5, title="t")
    losses = []
    for step in range(30):
        losses.append(10.0 / (step + 1))
        live.update(torch.zeros(len(data.x)), losses)
    assert live._ax_fit.get_title() == "t: step 30: loss 0.3333"
    live.close()


def test_every_figure_without_warnings_and_without_piling_up(data, grid):
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            plot_data(data)
            plot_data(data, y_pred=np.zeros(len(data.x)), title="prediction")
            live = LivePlot(data, n_steps=10, every=2)
            live.update(torch.ones(len(data.x), requires_grad=True) * 2, [5.0, float("inf"), float("nan")])
            plot_loss_surface(*grid)
            path = np.array([[0.7, 0.8], [0.0, 1.2], [-0.5, 1.8]])
            plot_loss_contour(*grid, trajectory=path)
            plot_loss_contour(*grid, trajectory={"SGD": path, "Adam": torch.tensor(path)})
        for number in plt.get_fignums():  # render each figure once, as plt.show() or savefig would
            plt.figure(number).canvas.draw()
    assert len(plt.get_fignums()) == 4, "one open figure per kind: data, live, surface, contour"
    plt.close("all")


def test_plot_functions_return_nothing(data, grid):
    assert plot_data(data) is None
    assert plot_loss_surface(*grid) is None
    assert plot_loss_contour(*grid) is None
    plt.close("all")


def test_a_zero_loss_grid_still_plots(grid):
    a_grid, b_grid, losses = grid
    losses = losses - losses.min()  # an exact fit: log colour scales must not break
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_loss_contour(a_grid, b_grid, losses)
        plot_loss_surface(a_grid, b_grid, losses)
    plt.close("all")


def test_grids_of_different_shapes_are_refused(grid):
    a_grid, b_grid, losses = grid
    with pytest.raises(ValueError, match="2-D grids of one shape"):
        plot_loss_contour(a_grid, b_grid, losses[:3])
