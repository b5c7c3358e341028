"""Hidden tests of loss_landscape: its values on random data and random grids, its shape, its inputs."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect_close,
    expect_same_twice,
    expect_tensor,
    expect_unchanged,
    require_ok,
    shape_text,
)
from solutions import line_fit as ref

pytestmark = pytest.mark.grades("loss_landscape")

SWAPPED = "a is the slope (it multiplies x) and b the intercept: the two grids seem to be swapped."
SUMMED = "average the squared errors over the data points, don't sum them."
ROOTED = "this is the root of the mean squared error: leave out the square root."


def line_data(rng, dtype) -> tuple[np.ndarray, np.ndarray, float, float]:
    slope, intercept = rng.uniform(-2.0, 2.0, size=2)
    n = int(rng.integers(50, 800))
    x = rng.uniform(-np.pi, np.pi, size=n)
    y = slope * x + intercept + rng.normal(size=n)
    return x.astype(dtype), y.astype(dtype), float(slope), float(intercept)


def mesh(rng, slope, intercept, dtype, indexing="xy") -> tuple[np.ndarray, np.ndarray]:
    """A meshgrid around the line's (slope, intercept), of random size (not square)."""
    a_values = np.linspace(slope - 2, slope + 2, int(rng.integers(5, 30)))
    b_values = np.linspace(intercept - 2, intercept + 2, int(rng.integers(31, 50)))
    a_grid, b_grid = np.meshgrid(a_values, b_values, indexing=indexing)
    return a_grid.astype(dtype), b_grid.astype(dtype)


def landscape(x, y, a_grid, b_grid) -> np.ndarray:
    """The reference landscape, computed in float64 from the very same numbers."""
    args = (torch.from_numpy(np.asarray(t, dtype=np.float64)) for t in (x, y, a_grid, b_grid))
    return ref.loss_landscape(*args).numpy()


def typical_mistakes(x, y, a_grid, b_grid) -> list[tuple[np.ndarray, str]]:
    expected = landscape(x, y, a_grid, b_grid)
    return [
        (landscape(x, y, b_grid, a_grid), SWAPPED),
        (expected * len(x), SUMMED),
        (np.sqrt(expected), ROOTED),
    ]


def shape_hint(value, grid_shape, n) -> str:
    if value.kind == "tensor" and tuple(value.shape) == (*grid_shape, n):
        return "one mse per grid point: average over the data points (the last axis)."
    return "the result holds one mse per grid point, so it has the grid's shape (whatever that shape is)."


def expect_right_values(value, x, y, a_grid, b_grid, dtype: str, rtol: float, what: str) -> None:
    """The landscape has the grid's shape and dtype and matches the reference. Every test checks this first:
    a property earns points only together with right values."""
    hint = shape_hint(value, a_grid.shape, len(x))
    actual = expect_tensor(value, what, shape=a_grid.shape, dtype=dtype, hint=hint)
    expected = landscape(x, y, a_grid, b_grid)
    # float32 loses digits to cancellation in the expanded quadratic form: allow that relative to the loss's
    # size on the grid, not to each value (the smallest ones are the most cancelled).
    expect_close(actual, expected, rtol, rtol * float(expected.max()), what, alternatives=typical_mistakes(
        x, y, a_grid, b_grid))  # fmt: skip


def check_values(submission, x, y, a_grid, b_grid, dtype: str, rtol: float, what: str) -> None:
    """Right values, and a second call with the same inputs gives exactly the same answer."""
    first = require_ok(submission.call("loss_landscape", x, y, a_grid, b_grid), "loss_landscape")
    expect_right_values(first, x, y, a_grid, b_grid, dtype, rtol, what)
    second = require_ok(submission.call("loss_landscape", x, y, a_grid, b_grid), "loss_landscape")
    expect_same_twice(first, second, what)


@pytest.mark.points(1)
def test_values_2d_float32(submission, rng):
    """values match on random float32 data and a random 2-D meshgrid ('xy' and 'ij')"""
    for indexing in ("xy", "ij"):
        x, y, slope, intercept = line_data(rng, np.float32)
        a_grid, b_grid = mesh(rng, slope, intercept, np.float32, indexing)
        what = f"loss_landscape on {len(x)} float32 points and a {shape_text(a_grid.shape)} grid"
        check_values(submission, x, y, a_grid, b_grid, "float32", 1e-5, what)


@pytest.mark.points(1)
def test_values_1d_float64(submission, rng):
    """values match to 1e-10 on random float64 data and a 1-D grid of random (a, b) pairs"""
    x, y, slope, intercept = line_data(rng, np.float64)
    m = int(rng.integers(10, 60))
    a_grid, b_grid = slope + rng.uniform(-3, 3, size=m), intercept + rng.uniform(-3, 3, size=m)
    what = f"loss_landscape on {len(x)} float64 points and {m} (a, b) pairs"
    check_values(submission, x, y, a_grid, b_grid, "float64", 1e-10, what)


@pytest.mark.points(0.5)
def test_grid_shapes(submission, rng):
    """the result has the grid's shape, and right values, for 1-D, 2-D and 3-D grids"""
    x, y, slope, intercept = line_data(rng, np.float32)
    for shape in ((int(rng.integers(2, 9)),), (3, int(rng.integers(4, 9))), (2, 3, int(rng.integers(4, 7)))):
        a_grid = (slope + rng.uniform(-2, 2, size=shape)).astype(np.float32)
        b_grid = (intercept + rng.uniform(-2, 2, size=shape)).astype(np.float32)
        value = require_ok(submission.call("loss_landscape", x, y, a_grid, b_grid), "loss_landscape")
        what = f"loss_landscape for a grid of shape {shape_text(shape)}"
        expect_right_values(value, x, y, a_grid, b_grid, "float32", 1e-5, what)


@pytest.mark.points(0.5)
def test_inputs_unchanged(submission, rng):
    """returns right values and leaves x, y and the grids unchanged"""
    x, y, slope, intercept = line_data(rng, np.float32)
    a_grid, b_grid = mesh(rng, slope, intercept, np.float32)
    result = submission.call("loss_landscape", x, y, a_grid, b_grid)
    value = require_ok(result, "loss_landscape")
    what = f"loss_landscape on {len(x)} float32 points and a {shape_text(a_grid.shape)} grid"
    expect_right_values(value, x, y, a_grid, b_grid, "float32", 1e-5, what)
    hint = "compute new tensors; don't change the arguments in place (-=, .sub_(), .unsqueeze_() ...)."
    names = ("x", "y", "a_grid", "b_grid")
    for name, before, after in zip(names, (x, y, a_grid, b_grid), result.args_after, strict=True):
        expect_unchanged(after, before.astype(np.float64), name, hint)
