"""Hidden tests of accuracy: its value on random logits (called twice: the same answer), ties broken as argmax
breaks them, and a Python float, not a tensor. A right number of another type (a numpy.float64) passes the value
tests and loses only the type test."""

import numpy as np
import pytest

from autograder.testkit import expect, expect_close, expect_number, expect_same_twice, require_ok

pytestmark = pytest.mark.grades("accuracy")


def random_batch(rng, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    n, c = int(rng.integers(5, 300)), int(rng.integers(2, 8))
    logits = rng.normal(size=(n, c)).astype(np.float32)
    later = np.zeros(n, dtype=np.int64)  # with ties: a column of each row that holds its largest logit, not the first
    if ties:  # every row's largest logit appears twice: argmax takes the first
        logits = np.round(logits)
        top = logits.max(1)
        for row in range(n):
            columns = np.sort(rng.choice(c, size=2, replace=False))
            logits[row, columns] = top[row]
            later[row] = columns[1]
    targets = rng.integers(0, c, size=n).astype(np.int64)
    hits = rng.random(n) < rng.uniform(0.2, 0.9)  # some rows right on purpose, so the fraction is not ~1/c
    targets[hits] = logits[hits].argmax(1)
    if ties:  # some rows (one at least) whose target is a largest logit that argmax does not pick
        traps = ~hits & (rng.random(n) < 0.5)
        traps[rng.integers(n)] = True
        targets[traps] = later[traps]
    return logits, targets


def expected(logits, targets) -> float:
    return float(np.mean(logits.argmax(1) == targets))


def check(submission, logits, targets, what):
    result = submission.call("accuracy", logits, targets)
    value = require_ok(result, "accuracy")
    actual = expect_number(value, what)
    percent = (100 * expected(logits, targets), "this is a percentage: return the fraction (0 to 1).")
    count = (np.sum(logits.argmax(1) == targets), "this is the number of right rows: divide by the number of rows.")
    picked = logits[np.arange(len(targets)), targets]
    ties = (
        np.mean(picked == logits.max(1)),
        "a row is right when argmax(dim=1) is its target: with ties, argmax "
        "picks the first largest logit, so compare the argmax with the target.",
    )
    # float32 arithmetic (.float().mean(), as the lesson shows) is fine: 1e-6 tells every wrong count apart
    expect_close(actual, expected(logits, targets), 1e-6, 1e-9, what, alternatives=[percent, count, ties])
    return result


@pytest.mark.points(1)
def test_value(submission, rng):
    """the fraction of rows whose argmax is the target, on random logits, the same when called twice"""
    logits, targets = random_batch(rng)
    what = f"accuracy of random logits of shape {logits.shape}"
    first, second = check(submission, logits, targets, what), check(submission, logits, targets, what)
    expect_same_twice(first.value, second.value, what)


@pytest.mark.points(0.5)
def test_ties_are_broken_like_argmax(submission, rng):
    """rows with two largest logits count as the first of them, as torch.argmax does"""
    logits, targets = random_batch(rng, ties=True)
    check(submission, logits, targets, f"accuracy of logits of shape {logits.shape} whose rows have ties")


@pytest.mark.points(0.5)
def test_returns_a_python_float(submission, rng):
    """with a right value: a Python float, not a tensor"""
    logits, targets = random_batch(rng)
    result = check(submission, logits, targets, f"accuracy of random logits of shape {logits.shape}")
    hint = "return a Python number: .item() turns a one-element tensor into one (then divide)."
    if result.value.kind == "float_subclass":  # the value was right (value tests pass it): only its type is wrong
        hint = (
            "NumPy's arithmetic (np.mean, a NumPy array's .mean()) returns a NumPy number, which prints and "
            "compares like a float but is another type: float(...) of it, or .item() of a tensor, is a Python float."
        )
    expect(result.value.kind == "float", f"accuracy should return a Python float, not {result.value.describe()}.", hint)
