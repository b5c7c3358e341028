"""Hidden tests of minibatches: exactly the reference's batches from the same generator seed (called twice: the
same batches), every index once with a shorter last batch, 1-D int64 tensors, and the generator drawn from
exactly as torch.randperm(n, generator=generator) draws."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect,
    expect_close,
    expect_items,
    expect_same_twice,
    expect_tensor,
    helper,
    require_ok,
)
from solutions import mlp_spirals as ref

pytestmark = pytest.mark.grades("minibatches")

RANDPERM = "shuffle with torch.randperm(n, generator=generator) once, then cut it into consecutive slices."
CHUNKS = (
    "every batch but the last holds exactly batch_size indices: cut slices of batch_size (order[i:i + batch_size]), "
    "not a number of equal chunks (chunk or tensor_split)."
)


def reference(n: int, batch_size: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The reference's batches, and the generator's state after them."""
    generator = torch.Generator().manual_seed(seed)
    batches = [b.numpy() for b in ref.minibatches(n, batch_size, generator)]
    return batches, generator.get_state().numpy()


def batches_of(submission, n: int, batch_size: int, seed: int):
    """The student's batches, checked against the reference: (result, list of index arrays)."""
    what = f"minibatches({n}, {batch_size}, generator)"
    result = submission.call("minibatches", n, batch_size, helper("generator", seed))
    expected, _ = reference(n, batch_size, seed)
    hint = f"{RANDPERM} The last batch holds what is left (n % batch_size indices)."
    items = expect_items(
        require_ok(result, "minibatches"), f"the value of {what}", len(expected), ("list", "tuple"), hint
    )
    found = []
    for i, (item, batch) in enumerate(zip(items, expected, strict=True)):
        equal_chunks = i == 0 and item.kind == "tensor" and item.shape != batch.shape and len(expected) > 1
        actual = expect_tensor(item, f"batch {i} of {what}", shape=batch.shape, hint=CHUNKS if equal_chunks else hint)
        expect_close(actual, batch, 0, 0, f"batch {i} of {what}", RANDPERM)
        found.append(actual)
    return result, found


def uneven_size(rng) -> tuple[int, int]:
    """(n, batch_size), n % batch_size != 0, such that cutting n into k = ceil(n / batch_size) equal chunks
    (tensor.chunk(k), tensor_split(k), np.array_split) does not give chunks of batch_size: n = (k - 1) * batch_size
    + r with a short last batch, r <= batch_size - k, so that n / k <= batch_size - 1."""
    k = int(rng.integers(2, 8))
    batch_size = int(rng.integers(k + 2, 40))
    return (k - 1) * batch_size + int(rng.integers(1, batch_size - k + 1)), batch_size


@pytest.mark.points(1)
def test_same_batches_as_the_reference(submission, rng):
    """the reference's batches from the same generator seed, with n % batch_size != 0, the same when called twice"""
    n, batch_size = uneven_size(rng)
    seed = int(rng.integers(2**31))
    first, _ = batches_of(submission, n, batch_size, seed)
    second, _ = batches_of(submission, n, batch_size, seed)
    expect_same_twice(first.value, second.value, f"minibatches({n}, {batch_size}, generator)")


@pytest.mark.points(1)
def test_every_index_once_in_int64_batches(submission, rng):
    """with the right batches: every index 0..n-1 exactly once, each batch a 1-D int64 tensor, a batch larger than n"""
    for n, batch_size in ((int(rng.integers(10, 100)), int(rng.integers(2, 9))), (7, 32)):
        result, found = batches_of(submission, n, batch_size, int(rng.integers(2**31)))
        expect(
            np.array_equal(np.sort(np.concatenate(found)), np.arange(n)),
            f"the batches of n = {n} do not hold every index exactly once.",
            RANDPERM,
        )
        for i, item in enumerate(result.value.items):
            expect(item.dtype == "int64", f"batch {i} has dtype {item.dtype}, not int64.", RANDPERM)


@pytest.mark.points(1)
def test_generator_drawn_from_like_randperm(submission, rng):
    """with the right batches: the generator is drawn from exactly as one torch.randperm(n, generator=...) does"""
    n, batch_size, seed = int(rng.integers(20, 200)), int(rng.integers(2, 10)), int(rng.integers(2**31))
    result, _ = batches_of(submission, n, batch_size, seed)
    _, state = reference(n, batch_size, seed)
    after = result.args_after[2]
    expect(after.kind == "generator", "the generator argument was replaced during the call.")
    hint = "draw from the generator once, with torch.randperm(n, generator=generator), and nothing else."
    expect(
        np.array_equal(after.state.array, state.astype(np.float64)),
        "the generator was drawn from differently than by one torch.randperm(n, generator=generator).",
        hint,
    )
