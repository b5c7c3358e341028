"""Hidden tests of standardize: its value on fresh random inputs (called twice: the same answer both times),
and a property that pays only with a right value (the input left as it was, the result in its dtype)."""

import numpy as np
import pytest

from autograder.testkit import expect_close, expect_tensor, expect_unchanged, helper, load_helpers, require_ok
from solutions import __assignment__ as ref

helpers = load_helpers(__file__)
pytestmark = pytest.mark.grades("standardize")


def call_twice(submission, rng, dtype: str):
    """The student's answer for a random matrix made in the sandbox, checked against the reference; the same
    call again must give the same answer."""
    seed, rows, cols = int(rng.integers(2**31)), int(rng.integers(3, 50)), int(rng.integers(1, 6))
    x = helpers.random_matrix(seed, rows, cols, dtype)
    expected = ref.standardize(x.clone()).double().numpy()
    what = f"standardize(x) for a random {rows}x{cols} {dtype} x"
    results = []
    for attempt in ("", " (called a second time with the same x)"):
        result = submission.call("standardize", helper("random_matrix", seed, rows, cols, dtype))
        actual = expect_tensor(require_ok(result, "standardize"), what + attempt, shape=(rows, cols))
        expect_close(actual, expected, 1e-5, 1e-6, what + attempt, hint="use the sample standard deviation, x.std()")
        results.append(result)
    return x, results


@pytest.mark.points(2)
def test_value(submission, rng):
    """every column rescaled to mean 0 and standard deviation 1, the same answer when called twice"""
    call_twice(submission, rng, "float32")


@pytest.mark.points(1)
def test_input_unchanged_and_dtype_kept(submission, rng):
    """with a right value: the input is left as it was and the result has its dtype"""
    x, results = call_twice(submission, rng, "float64")
    for result in results:
        expect_tensor(result.value, "the result of standardize on a float64 x", dtype="float64")
        expect_unchanged(result.args_after[0], x.numpy().astype(np.float64), "the input x",
                         hint="compute a new tensor; don't change x in place (no -=, /= or .sub_()).")  # fmt: skip
