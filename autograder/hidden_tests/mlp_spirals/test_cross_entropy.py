"""Hidden tests of cross_entropy: its value in float32 and float64 (called twice: the same answer), a 0-dim
tensor of the logits' dtype, the gradient (softmax − onehot) / N, exact and finite for logits up to ±1e4, and
inputs left as they were. Any method is fine (logsumexp, log_softmax, F.cross_entropy): values are graded."""

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
    spec_tensor,
)
from solutions import mlp_spirals as ref

pytestmark = pytest.mark.grades("cross_entropy")

OVERFLOW = (
    "exp() of large logits overflows to inf: subtract each row's largest logit before exp() (the log-sum-exp "
    "trick), or use torch.logsumexp / log_softmax."
)
MEAN = "average over the batch (divide by N), don't sum."
CLASSES = (
    "the number of classes is logits.shape[1]: a batch may lack the last class, so targets.max() + 1 (what "
    "one_hot(targets) assumes without num_classes) can be smaller."
)


def random_batch(rng, dtype, scale: float = 3.0, lacks_last_class: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Random logits and targets; with `lacks_last_class`, no target is the last class (a batch can miss a class,
    and then targets.max() + 1 is not the number of classes)."""
    n, c = int(rng.integers(2, 200)), int(rng.integers(2, 8))
    logits = (rng.normal(size=(n, c)) * scale).astype(dtype)
    return logits, rng.integers(0, c - 1 if lacks_last_class else c, size=n).astype(np.int64)


def expected(logits: np.ndarray, targets: np.ndarray) -> float:
    """The exact value, in float64 whatever the dtype."""
    return float(ref.cross_entropy(torch.from_numpy(logits.astype(np.float64)), torch.from_numpy(targets)))


def typical(logits: np.ndarray, targets: np.ndarray) -> list[tuple[float, str]]:
    x = logits.astype(np.float64)
    log_softmax = x - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)) - x.max(1, keepdims=True)
    picked = -log_softmax[np.arange(len(targets)), targets]
    return [
        (picked.sum(), MEAN),
        (-log_softmax.sum(1).mean(), CLASSES),  # one_hot(targets) of one column (every target 0) broadcast
        (-x[np.arange(len(targets)), targets].mean(), "take the log-softmax of the logits, not the raw logit."),
        (-log_softmax.mean(), "pick each row's entry at its target (logits[i, targets[i]]), not every entry."),
    ]


def value_of(submission, logits, targets, what: str, rtol: float, atol: float):
    """The student's value, checked against the reference; the result of the call."""
    result = submission.call("cross_entropy", logits, targets)
    hints = {"must match the size": CLASSES, "num_classes": CLASSES} if targets.max() + 1 < logits.shape[1] else None
    value = require_ok(result, "cross_entropy", hints)
    actual = expect_number(value, what, hint="average over the batch to a single number.")
    expect_close(actual, expected(logits, targets), rtol, atol, what, alternatives=typical(logits, targets))
    return result


@pytest.mark.points(1)
def test_value(submission, rng):
    """value matches on random float32 and float64 logits (one lacking the last class), the same when called twice"""
    for dtype, rtol, lacks in ((np.float32, 1e-5, False), (np.float64, 1e-12, True)):
        logits, targets = random_batch(rng, dtype, lacks_last_class=lacks)
        what = f"cross_entropy of random {np.dtype(dtype)} logits of shape {logits.shape}"
        first = value_of(submission, logits, targets, what, rtol, 1e-7)
        second = value_of(submission, logits, targets, what + " (called a second time)", rtol, 1e-7)
        expect_same_twice(first.value, second.value, what)


@pytest.mark.points(0.5)
def test_returns_0dim_tensor_of_the_logits_dtype(submission, rng):
    """with a right value: a 0-dim tensor of the logits' dtype (float32 and float64), not a Python number"""
    for dtype in ("float32", "float64"):
        logits, targets = random_batch(rng, dtype)
        what = f"cross_entropy of {dtype} logits of shape {logits.shape}"
        result = value_of(submission, logits, targets, what, 1e-5, 1e-7)
        expect_tensor(result.value, what, shape=(), dtype=dtype)


@pytest.mark.points(1)
def test_gradient(submission, rng):
    """with a right value: the gradient with respect to the logits is (softmax − onehot) / N"""
    logits, targets = random_batch(rng, np.float64)
    what = f"cross_entropy of float64 logits of shape {logits.shape}"
    result = submission.call("cross_entropy", spec_tensor(logits, requires_grad=True), targets, backward=True)
    actual = expect_number(require_ok(result, "cross_entropy"), what)
    expect_close(actual, expected(logits, targets), 1e-12, 1e-12, what, alternatives=typical(logits, targets))
    problem = result.backward_error
    hint = "compute with torch operations on the logits: no .item(), .detach() or .numpy() on the way."
    expect(problem is None, f"autograd could not differentiate cross_entropy: {problem}", hint)
    grad = result.args_after[0].grad
    expect(grad is not None, "after cross_entropy(logits, targets).backward(), logits.grad is None.", hint)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    onehot = np.eye(logits.shape[1])[targets]
    gradient = expect_tensor(grad, "logits.grad", shape=logits.shape)
    expect_close(gradient, (softmax - onehot) / len(targets), 1e-9, 1e-12, "logits.grad", MEAN)


@pytest.mark.points(1)
def test_large_logits_stay_finite_and_exact(submission, rng):
    """exact and finite for logits up to ±1e4 (float32 and float64)"""
    for dtype in (np.float64, np.float32):
        logits, targets = random_batch(rng, dtype, scale=1.0)
        logits = (np.sign(logits) * rng.uniform(1e3, 1e4, size=logits.shape)).astype(dtype)
        what = f"cross_entropy of {np.dtype(dtype)} logits as large as ±1e4, shape {logits.shape}"
        value = require_ok(submission.call("cross_entropy", logits, targets), "cross_entropy")
        actual = expect_number(value, what)
        expect(np.isfinite(actual), f"{what}: got {actual}, not a finite number.", OVERFLOW)
        expect_close(actual, expected(logits, targets), 1e-5, 1e-3, what, OVERFLOW)


@pytest.mark.points(0.5)
def test_inputs_unchanged(submission, rng):
    """with a right value: the logits and targets are left as they were"""
    hint = "compute new tensors (logits - max) instead of changing the logits in place (-=, .sub_(), .exp_())."
    logits, targets = random_batch(rng, np.float32)
    what = f"cross_entropy of float32 logits of shape {logits.shape}"
    result = value_of(submission, logits, targets, what, 1e-5, 1e-7)
    expect_unchanged(result.args_after[0], logits.astype(np.float64), "the logits (the first argument)", hint)
    expect_unchanged(result.args_after[1], targets.astype(np.float64), "the targets (the second argument)", hint)
