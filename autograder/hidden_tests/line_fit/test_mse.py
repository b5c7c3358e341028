"""Hidden tests of mse: its value, its type, its gradient and its hands off the inputs, on fresh random inputs."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect,
    expect_close,
    expect_number,
    expect_same_twice,
    expect_tensor,
    expect_unchanged,
    require_ok,
    shape_text,
    spec_tensor,
)
from solutions import line_fit as ref

pytestmark = pytest.mark.grades("mse")

IN_PLACE = {"in-place": "mse changes y_pred in place: compute a new tensor (y_pred - y_true) instead of -=, .sub_()."}


def random_shapes(rng) -> list[tuple[int, ...]]:
    """A 1-D, a 2-D and a 3-D shape."""
    return [
        (int(rng.integers(2, 600)),),
        (int(rng.integers(2, 40)), int(rng.integers(2, 40))),
        tuple(int(n) for n in rng.integers(2, 9, size=3)),
    ]


def random_pair(rng, shape, dtype) -> tuple[np.ndarray, np.ndarray]:
    y_pred = rng.normal(size=shape) * rng.uniform(0.5, 3.0)
    y_true = rng.normal(size=shape) + rng.uniform(-2.0, 2.0)
    return y_pred.astype(dtype), y_true.astype(dtype)


def expected_mse(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    return ref.mse(torch.from_numpy(y_pred), torch.from_numpy(y_true)).item()


def typical_mistakes(y_pred: np.ndarray, y_true: np.ndarray) -> list[tuple[float, str]]:
    d = y_pred.astype(np.float64) - y_true
    mistakes = [
        ((d**2).sum(), "this is the sum of the squared differences: average them (divide by the number of elements)."),
        (np.abs(d).mean(), "this is the mean absolute difference: square the differences instead of taking abs()."),
        (np.sqrt((d**2).mean()), "this is the root of the mean squared difference (RMSE): leave out the square root."),
        (d.mean() ** 2, "square each difference first, then average: this is the square of the mean difference."),
        ((d**2).sum() / (d.size - 1), "divide by the number of elements n, not n - 1."),
    ]
    if d.ndim == 1:
        pairs = np.subtract.outer(y_pred.astype(np.float64), y_true)
        mistakes.append(((pairs**2).mean(), BROADCAST))
    return mistakes


BROADCAST = (
    "the difference seems to have been broadcast to an (n, n) matrix of every y_pred[i] - y_true[j]: "
    "subtract tensors of the same shape, e.g. (N, 1) - (N,) broadcasts to (N, N)."
)


def shape_hint(value, n: int) -> str | None:
    """What to say about a result that is not one number, for inputs of n elements."""
    if value.kind != "tensor":
        return None  # what to say about the type is expect_*'s job
    if tuple(value.shape) == (n, n):
        return BROADCAST
    return "average over all elements (e.g. with .mean()) so that the result is a single number."


def expect_right_value(value, y_pred: np.ndarray, y_true: np.ndarray, what: str) -> None:
    """The returned mse matches the reference, to the value tests' tolerance for the inputs' dtype (float32:
    1e-5, float64: 1e-12). Every test checks this first: a property earns points only with a right value."""
    actual = expect_number(value, what, hint=shape_hint(value, y_pred.size))
    exact = y_pred.dtype == np.float64
    lost_precision = exact and value.kind == "tensor" and value.dtype != "float64"
    hint = "the result is not float64: compute in the inputs' dtype, don't convert." if lost_precision else None
    rtol, atol = (1e-12, 1e-14) if exact else (1e-5, 1e-7)
    expected = expected_mse(y_pred, y_true)
    expect_close(actual, expected, rtol, atol, what, hint, typical_mistakes(y_pred, y_true))


def check_value_twice(submission, y_pred: np.ndarray, y_true: np.ndarray, what: str) -> None:
    """The value is right, and a second call with the same inputs gives exactly the same answer."""
    first = require_ok(submission.call("mse", y_pred, y_true), "mse")
    expect_right_value(first, y_pred, y_true, what)
    second = require_ok(submission.call("mse", y_pred, y_true), "mse")
    expect_same_twice(first, second, what)


@pytest.mark.points(1)
def test_value_float32(submission, rng):
    """value matches on random float32 inputs of 1-D, 2-D and 3-D shapes"""
    for shape in random_shapes(rng):
        y_pred, y_true = random_pair(rng, shape, np.float32)
        check_value_twice(submission, y_pred, y_true, f"mse of two random float32 tensors of shape {shape_text(shape)}")


@pytest.mark.points(0.5)
def test_value_float64(submission, rng):
    """value is exact (to 1e-12) on random float64 inputs"""
    for shape in random_shapes(rng)[:2]:
        y_pred, y_true = random_pair(rng, shape, np.float64)
        check_value_twice(submission, y_pred, y_true, f"mse of two random float64 tensors of shape {shape_text(shape)}")


@pytest.mark.points(1)
def test_returns_0dim_tensor(submission, rng):
    """returns a right value as a 0-dim tensor of the inputs' dtype (float32 and float64), not a Python number"""
    for dtype in ("float32", "float64"):
        shape = random_shapes(rng)[int(rng.integers(0, 3))]
        y_pred, y_true = random_pair(rng, shape, dtype)
        value = require_ok(submission.call("mse", y_pred, y_true), "mse")
        what = f"mse of two {dtype} tensors of shape {shape_text(shape)}"
        expect_right_value(value, y_pred, y_true, what)
        expect_tensor(value, what, shape=(), dtype=dtype, hint=shape_hint(value, y_pred.size))


@pytest.mark.points(1)
def test_gradient(submission, rng):
    """gradient with respect to y_pred is 2 (y_pred − y_true) / n, for 1-D and 2-D inputs"""
    for shape, dtype in ((random_shapes(rng)[0], np.float32), (random_shapes(rng)[1], np.float64)):
        y_pred, y_true = random_pair(rng, shape, dtype)
        result = submission.call("mse", spec_tensor(y_pred, requires_grad=True), y_true, backward=True)
        value = require_ok(result, "mse", hints=IN_PLACE)
        expect_right_value(value, y_pred, y_true, f"mse of two {dtype.__name__} tensors of shape {shape_text(shape)}")
        problem = result.backward_error
        if problem and value.kind in ("float", "int"):
            hint = "return the tensor itself: autograd cannot differentiate a Python number (.item(), float())."
        else:
            hint = "compute with torch operations on y_pred itself: no .detach(), .numpy() or torch.tensor(...)."
        expect(problem is None, f"autograd could not differentiate mse(y_pred, y_true): {problem}", hint)
        grad = result.args_after[0].grad
        expect(grad is not None, "after mse(y_pred, y_true).backward(), y_pred.grad is None.", hint)
        what = f"y_pred.grad after mse(y_pred, y_true).backward(), {dtype.__name__} inputs of shape {shape_text(shape)}"
        actual = expect_tensor(grad, what, shape=shape)
        d = y_pred.astype(np.float64) - y_true
        expected = 2 * d / d.size
        summed = (expected * d.size, "this is the gradient of the sum of squared differences: average instead.")
        expect_close(actual, expected, 1e-5, 1e-9, what, alternatives=[summed])


@pytest.mark.points(0.5)
def test_inputs_unchanged(submission, rng):
    """returns a right value and does not modify its inputs"""
    hint = "compute a new tensor (y_pred - y_true) instead of changing an input in place (-=, .sub_(), .pow_())."
    for shape in random_shapes(rng)[:2]:
        y_pred, y_true = random_pair(rng, shape, np.float32)
        result = submission.call("mse", y_pred, y_true)
        value = require_ok(result, "mse")
        expect_right_value(value, y_pred, y_true, f"mse of two random float32 tensors of shape {shape_text(shape)}")
        expect_unchanged(result.args_after[0], y_pred.astype(np.float64), "y_pred (the first argument)", hint)
        expect_unchanged(result.args_after[1], y_true.astype(np.float64), "y_true (the second argument)", hint)
