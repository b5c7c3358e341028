"""course_utils.spirals and course_utils.boundary: the spiral data are the classic CS231n recipe and the same for
a seed, the split is a seeded partition, and the figures build without warnings, leave the model as it was and,
outside a kernel, do no drawing work."""

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

import course_utils  # noqa: E402
from course_utils import (  # noqa: E402
    LiveBoundary,
    SpiralData,
    make_spirals,
    plot_decision_boundary,
    plot_spirals,
    train_val_split,
)
from course_utils import boundary as boundary_module  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------
# The data


def test_shapes_dtypes_and_fields():
    data = make_spirals(seed=3, n_per_class=50, n_classes=4)
    assert isinstance(data, SpiralData)
    assert data.x.shape == (200, 2) and data.x.dtype == np.float32
    assert data.y.shape == (200,) and data.y.dtype == np.int64
    assert (data.seed, data.n_classes, len(data)) == (3, 4, 200)
    assert repr(data) == "SpiralData(seed=3, n_classes=4, n_samples=200)"
    assert np.isfinite(data.x).all()


def test_defaults_are_the_lessons_data():
    data = make_spirals()
    assert (data.seed, data.n_classes, len(data)) == (42, 3, 300)


def test_classes_are_balanced_and_in_order():
    data = make_spirals(seed=0, n_per_class=37, n_classes=5)
    assert np.bincount(data.y).tolist() == [37] * 5
    assert np.array_equal(data.y, np.repeat(np.arange(5), 37))


def test_deterministic_from_the_seed_and_global_state_untouched():
    state = np.random.get_state()
    try:
        np.random.seed(123)
        marker = np.random.random()
        np.random.seed(123)
        first, second = make_spirals(seed=7), make_spirals(seed=7)
        assert np.random.random() == marker, "make_spirals changed NumPy's global random state"
    finally:
        np.random.set_state(state)
    assert np.array_equal(first.x, second.x) and np.array_equal(first.y, second.y)
    assert not np.array_equal(make_spirals(seed=1).x, make_spirals(seed=2).x)


def test_the_classic_recipe():
    """CS231n's recipe with np.random.default_rng(seed): radius from 0 to 1, angle from 4k to 4(k + 1) plus noise."""
    seed, n, k_classes, noise = 11, 40, 3, 0.2
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.0, 1.0, n)
    expected = []
    for k in range(k_classes):
        angle = np.linspace(4 * k, 4 * (k + 1), n) + noise * rng.standard_normal(n)
        expected.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
    data = make_spirals(seed=seed, n_per_class=n, n_classes=k_classes, noise=noise)
    assert np.array_equal(data.x, np.concatenate(expected).astype(np.float32))
    # every arm goes out from the centre to radius 1: the classes share the point (0, 0)
    for k in range(k_classes):
        arm = data.x[data.y == k].astype(np.float64)
        np.testing.assert_allclose(np.linalg.norm(arm, axis=1), radius, atol=1e-6)
        assert np.array_equal(arm[0], [0.0, 0.0])


def test_without_noise_the_angles_are_even():
    data = make_spirals(seed=0, n_per_class=9, n_classes=2, noise=0.0)
    arm = data.x[data.y == 1].astype(np.float64)[1:]  # leave out the centre, whose angle is undefined
    angle = np.unwrap(np.arctan2(arm[:, 0], arm[:, 1]))  # x1 = r sin(angle), x2 = r cos(angle)
    np.testing.assert_allclose(angle - angle[0], np.linspace(4, 8, 9)[1:] - 4.5, atol=1e-5)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        make_spirals(n_per_class=0)


def test_tensors_are_typed_copies():
    data = make_spirals(seed=5, n_per_class=10)
    x, y = data.tensors()
    assert x.dtype == torch.float32 and x.shape == (30, 2)
    assert y.dtype == torch.int64 and y.shape == (30,)
    assert torch.equal(x, torch.from_numpy(data.x)) and torch.equal(y, torch.from_numpy(data.y))
    x += 1
    y[:] = 0
    assert data.x[5, 0] != x[5, 0] and data.y[-1] == 2, "the data set changed with the tensors"


# ---------------------------------------------------------------------------------------------------------------
# The split


def _indexed(n=50):
    """Samples that carry their own index: x[i] = (i, -i), y[i] = i."""
    x = torch.stack([torch.arange(n, dtype=torch.float32), -torch.arange(n, dtype=torch.float32)], dim=1)
    return x, torch.arange(n)


def test_split_is_a_partition():
    x, y = _indexed(50)
    x_train, y_train, x_val, y_val = train_val_split(x, y, val_fraction=0.2, seed=0)
    assert (len(x_train), len(y_train), len(x_val), len(y_val)) == (40, 40, 10, 10)
    assert sorted(torch.cat([y_train, y_val]).tolist()) == list(range(50)), "every sample in exactly one part"
    assert torch.equal(x_train[:, 0].long(), y_train) and torch.equal(x_val[:, 0].long(), y_val), "rows stay paired"
    assert y_train.tolist() != list(range(10, 50)), "the samples were not shuffled"


def test_split_is_the_seeded_permutation_and_leaves_torch_alone():
    x, y = _indexed(30)
    torch.manual_seed(0)
    marker = torch.rand(1)
    torch.manual_seed(0)
    _, y_train, _, y_val = train_val_split(x, y, val_fraction=0.3, seed=9)
    assert torch.equal(torch.rand(1), marker), "train_val_split used torch's global random state"
    order = torch.randperm(30, generator=torch.Generator().manual_seed(9))
    assert torch.equal(y_val, order[:9]) and torch.equal(y_train, order[9:])
    assert torch.equal(train_val_split(x, y, 0.3, seed=9)[3], y_val)
    assert not torch.equal(train_val_split(x, y, 0.3, seed=10)[3], y_val)


def test_split_returns_new_tensors_and_takes_arrays():
    data = make_spirals(seed=1, n_per_class=20)
    x, y = data.tensors()
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.25, seed=1)
    x_train += 100
    assert x.abs().max() < 2, "the split's tensors share memory with the input"
    from_arrays = train_val_split(data.x, data.y, 0.25, seed=1)
    assert all(isinstance(t, torch.Tensor) for t in from_arrays)
    assert torch.equal(from_arrays[3], y_val) and from_arrays[0].dtype == torch.float32
    assert from_arrays[1].dtype == torch.int64


@pytest.mark.parametrize(
    ("n", "fraction", "n_val"), [(300, 0.2, 60), (10, 0.01, 1), (10, 0.99, 9), (7, 0.5, 4), (2, 0.5, 1)]
)
def test_split_sizes(n, fraction, n_val):
    x, y = _indexed(n)
    _, y_train, _, y_val = train_val_split(x, y, fraction, seed=0)
    assert (len(y_train), len(y_val)) == (n - n_val, n_val)


def test_bad_splits_are_refused():
    x, y = _indexed(10)
    for fraction in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="val_fraction"):
            train_val_split(x, y, fraction, seed=0)
    with pytest.raises(ValueError, match="one row per sample"):
        train_val_split(x, y[:5], 0.2, seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        train_val_split(x[:1], y[:1], 0.5, seed=0)


# ---------------------------------------------------------------------------------------------------------------
# The figures


@pytest.fixture
def spirals():
    return make_spirals(seed=0, n_per_class=30)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 3))


@pytest.fixture
def no_drawing(monkeypatch):
    """Fails the test if anything renders a figure."""

    def refuse(*args, **kwargs):
        raise AssertionError("a figure was drawn")

    for name in ("draw", "draw_idle", "print_figure"):
        monkeypatch.setattr(FigureCanvasAgg, name, refuse, raising=False)
        monkeypatch.setattr(FigureCanvasBase, name, refuse, raising=False)
    monkeypatch.setattr(Figure, "draw", refuse)


class Recorder(torch.nn.Module):
    """Wraps a model and records, for each forward pass, whether autograd and training mode were on."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = []

    def forward(self, x):
        self.calls.append((torch.is_grad_enabled(), self.training, self.inner[2].training, x.dtype, x.shape))
        return self.inner(x)


def _with_grads(model):
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)
    return [p.grad.clone() for p in model.parameters()]


def test_the_mode_outside_a_kernel_is_script():
    assert boundary_module._mode() == "script"


@pytest.mark.parametrize("training", [True, False])
def test_decision_boundary_restores_mode_and_leaves_grads(spirals, model, training):
    recorder = Recorder(model)
    recorder.train(training)
    grads = _with_grads(recorder)
    params = [p.detach().clone() for p in recorder.parameters()]
    x, y = spirals.tensors()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plot_decision_boundary(recorder, x, y, resolution=50) is None
    assert recorder.training == training and recorder.inner[2].training == training
    assert all(torch.equal(p.grad, g) for p, g in zip(recorder.parameters(), grads, strict=True))
    assert all(torch.equal(p, q) for p, q in zip(recorder.parameters(), params, strict=True))
    assert recorder.calls, "the model was never asked"
    for grad_enabled, was_training, dropout_training, dtype, _ in recorder.calls:
        assert (grad_enabled, was_training, dropout_training, dtype) == (False, False, False, torch.float32)
    assert any(shape == (50 * 50, 2) for *_, shape in recorder.calls), "one pass over the whole grid"
    plt.close("all")


def test_decision_boundary_mixed_modes_are_restored(spirals, model):
    model.train()
    model[2].eval()  # a submodule in its own mode
    plot_decision_boundary(model, *spirals.tensors(), resolution=20)
    assert model.training and model[0].training and not model[2].training
    plt.close("all")


def test_decision_boundary_paints_the_models_classes(spirals):
    """A model that says class 0 left of x1 = 0 and class 1 right of it: the left half of the picture is class 0's
    colour, the right half class 1's, and the grid reaches beyond the data."""
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))
        model.bias.zero_()
    fig, ax = plt.subplots()
    x, y = spirals.tensors()
    plot_decision_boundary(model, x, y, ax=ax, title="halves", resolution=40)
    (image,) = ax.get_images()
    pixels = np.asarray(image.get_array())
    left, right, bottom, top = image.get_extent()
    x1 = np.linspace(left, right, 40)  # the grid's columns
    colors = boundary_module._region_colors(3)
    expected = np.where((x1 > 0)[None, :, None], colors[1], colors[0])  # a tie (x1 = 0) goes to class 0
    assert pixels.shape == (40, 40, 3)
    np.testing.assert_allclose(pixels, np.broadcast_to(expected, (40, 40, 3)))
    assert (x1 < 0).sum() >= 15 and (x1 > 0).sum() >= 15, "both halves are on the picture"
    assert left < x[:, 0].min() and right > x[:, 0].max() and bottom < x[:, 1].min() and top > x[:, 1].max()
    assert ax.get_title() == "halves"
    assert len(ax.collections) >= 3, "the points are drawn over the regions"
    plt.close(fig)


def test_decision_boundary_default_title_has_the_accuracies(spirals):
    model = torch.nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.copy_(torch.tensor([1.0, 0.0, 0.0]))  # always class 0: a third of the points right
    x, y = spirals.tensors()
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.2, seed=0)
    fig, ax = plt.subplots()
    plot_decision_boundary(model, x, y, ax=ax, resolution=10)
    assert ax.get_title() == "decision boundary: accuracy 33.3%"
    ax.clear()
    plot_decision_boundary(model, x_train, y_train, ax=ax, resolution=10, x_val=x_val, y_val=y_val)
    expected_train = (y_train == 0).float().mean().item()
    expected_val = (y_val == 0).float().mean().item()
    assert ax.get_title() == f"decision boundary: accuracy {expected_train:.1%}, validation {expected_val:.1%}"
    plt.close(fig)


def test_decision_boundary_of_a_float64_model(spirals):
    recorder = Recorder(
        torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(4, 3))
    ).double()
    plot_decision_boundary(recorder, spirals.x, spirals.y, resolution=8)
    assert all(dtype == torch.float64 for *_, dtype, _ in recorder.calls)
    plt.close("all")


def test_live_boundary_does_no_drawing_work_outside_a_kernel(spirals, model, no_drawing):
    x, y = spirals.tensors()
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.2, seed=0)
    model.train()
    grads = _with_grads(model)
    live = LiveBoundary(model, x_train, y_train, n_epochs=10, every=3, title="t", x_val=x_val, y_val=y_val)
    history = {"train_loss": [], "val_loss": [], "train_acc": [], "val_acc": []}
    live.update(**history)
    for epoch in range(10):
        history["train_loss"].append(1.0 / (epoch + 1))
        history["val_loss"].append(1.2 / (epoch + 1))
        history["train_acc"].append(0.5 + 0.05 * epoch)
        history["val_acc"].append(0.4 + 0.05 * epoch)
        live.update(**history)
    assert live._ax_boundary.get_title() == "t: epoch 10 (accuracy train 95.0%, val 85.0%)"
    assert model.training and all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads, strict=True))
    x_data, y_data = live._lines["val_loss"].get_data()
    assert list(x_data) == list(range(1, 11)) and y_data[-1] == pytest.approx(0.12)
    live.close()


def test_live_boundary_redraws_when_due(spirals, model, monkeypatch):
    """The boundary is recomputed at the start, every `every` epochs and at the last epoch, never twice."""
    live = LiveBoundary(model, *spirals.tensors(), n_epochs=7, every=3)
    asked = []
    real = boundary_module._class_map
    monkeypatch.setattr(boundary_module, "_class_map", lambda *a: asked.append(len(losses)) or real(*a))
    losses = []
    live.update(losses)
    live.update(losses)
    for _ in range(9):
        losses.append(1.0)
        live.update(losses)
    assert asked == [0, 1, 3, 6, 7, 8, 9]
    live.close()


def test_every_figure_renders_without_warnings_and_without_piling_up(spirals, model):
    plt.close("all")
    x, y = spirals.tensors()
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.2, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            plot_spirals(spirals)
            plot_spirals(x, y, title="as tensors")
            plot_spirals(spirals.x, spirals.y)
            plot_decision_boundary(model, x_train, y_train, resolution=30, x_val=x_val, y_val=y_val)
            live = LiveBoundary(model, x_train, y_train, n_epochs=3, every=1, resolution=20)
            live.update([])
            live.update([0.9], None, [0.5])
            live.update([0.9, float("inf")], None, [0.5, 0.6])
            live.update([0.9, float("inf"), float("nan")], None, [0.5, 0.6, 0.7])
        numbers = plt.get_fignums()
        for number in numbers:  # render each figure once, as plt.show() or savefig would
            plt.figure(number).canvas.draw()
    assert len(numbers) == 3, "one open figure per kind: spirals, boundary, live boundary"
    plt.close("all")


def test_plot_spirals_needs_labels_with_bare_points(spirals):
    with pytest.raises(TypeError, match="labels"):
        plot_spirals(spirals.x)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot_spirals(spirals.x[:, :1], spirals.y)


def test_exported_from_course_utils():
    for name in ("SpiralData", "make_spirals", "train_val_split", "plot_spirals", "plot_decision_boundary"):
        assert name in course_utils.__all__ and hasattr(course_utils, name)
    assert "LiveBoundary" in course_utils.__all__
    for name in ("LivePlot", "make_line_data", "make_model", "to_tensors", "check"):  # part 1's are still there
        assert name in course_utils.__all__
