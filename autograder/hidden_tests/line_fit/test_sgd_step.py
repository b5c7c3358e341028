"""Hidden tests of sgd_step: the update, in place and without history, on any iterable, with .grad left alone."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect,
    expect_close,
    expect_same_twice,
    expect_tensor,
    require_ok,
    shape_text,
    spec_generator,
    spec_tensor,
)
from solutions import line_fit as ref

pytestmark = pytest.mark.grades("sgd_step")

HINTS = {
    "leaf variable that requires grad": "wrap the update in `with torch.no_grad():`, so that autograd does not "
    "record it (an in-place change of a leaf that requires grad is refused otherwise).",
    "nonetype": "a parameter's .grad can be None (it took no part in the loss): skip those parameters.",
    "has no len": "params may be a generator (model.parameters() is one): loop over it once with `for p in params`.",
    "not subscriptable": "params may be a generator (model.parameters() is one): loop over it with `for p in params`.",
}


def random_params(rng, count: int, with_grad=True) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(value, grad) pairs of random shapes (1-D to 3-D) and dtypes; grad None where with_grad[i] is False."""
    pairs = []
    for i in range(count):
        shape = tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        dtype = rng.choice(["float32", "float64"])
        has_grad = with_grad if isinstance(with_grad, bool) else with_grad[i]
        grad = rng.normal(size=shape).astype(dtype) if has_grad else None
        pairs.append((rng.normal(size=shape).astype(dtype), grad))
    return pairs


def specs(pairs) -> list[dict]:
    return [spec_tensor(value, requires_grad=True, grad=grad) for value, grad in pairs]


def expected_after(pairs, lr: float) -> list[np.ndarray]:
    tensors = []
    for value, grad in pairs:
        t = torch.tensor(value, requires_grad=True)
        t.grad = None if grad is None else torch.tensor(grad)
        tensors.append(t)
    ref.sgd_step(tensors, lr)
    return [t.detach().numpy().astype(np.float64) for t in tensors]


UNCHANGED = (
    "some parameters did not change: update them in place (p -= ..., or p.sub_(...)); "
    "`p = p - lr * p.grad` only gives the name p a new tensor and leaves the parameter as it was."
)


def step_hint(pairs, afters: list[np.ndarray], lr: float, unchanged: str = UNCHANGED) -> str | None:
    """What the student's step looks like: no step at all, or a multiple of the gradient other than -lr."""
    moved = [not np.array_equal(v, a) for a, (v, g) in zip(afters, pairs, strict=True) if g is not None]
    if not all(moved):
        return unchanged
    before = np.concatenate([v.ravel().astype(np.float64) for v, g in pairs if g is not None])
    after = np.concatenate([a.ravel() for a, (_, g) in zip(afters, pairs, strict=True) if g is not None])
    grad = np.concatenate([g.ravel().astype(np.float64) for _, g in pairs if g is not None])
    big = np.abs(grad) > 0.1
    if not big.any():
        return None
    factors = (before[big] - after[big]) / grad[big]
    factor = float(np.median(factors))
    if not np.allclose(factors, factor, rtol=1e-3, atol=1e-6):
        return None
    if np.isclose(factor, -lr, rtol=1e-3):
        return "the parameters moved up the gradient: subtract lr * grad, don't add it."
    return f"your step is {factor:.4g} × grad, but lr was {lr:.4g}: use the lr argument as the step size."


NONE_GRAD = "a parameter whose .grad is None has no gradient to follow: leave it as it is."


def check_after(result, pairs, lr: float, call: str, unchanged: str = UNCHANGED) -> list[np.ndarray]:
    """The parameters after the call, each compared with the expected update (a parameter whose .grad is None
    must stay as it was); returns them. Every test checks this first: a property earns points only together
    with a right update."""
    require_ok(result, "sgd_step", HINTS)
    items = result.args_after[0].items
    afters = [
        expect_tensor(item, f"parameter {i} after {call}", shape=value.shape)
        for i, (item, (value, _)) in enumerate(zip(items, pairs, strict=True))
    ]
    hint = step_hint(pairs, afters, lr, unchanged)
    for i, (actual, expected, (_, grad)) in enumerate(zip(afters, expected_after(pairs, lr), pairs, strict=True)):
        if grad is None:
            expect_close(actual, expected, 0, 0, f"parameter {i}, whose .grad is None, after {call}", NONE_GRAD)
        else:
            what = f"parameter {i} (shape {shape_text(expected.shape)}) after {call}"
            expect_close(actual, expected, 1e-6, 1e-6, what, hint)
    return afters


def check_twice(submission, make_params, pairs, lr: float, call: str, unchanged: str = UNCHANGED) -> None:
    """The update is right, and a second call on the same parameters (as they were before the first call)
    updates them exactly as the first did. `make_params(pairs)` builds the params argument afresh."""
    first = submission.call("sgd_step", make_params(pairs), lr)
    check_after(first, pairs, lr, call, unchanged)
    second = submission.call("sgd_step", make_params(pairs), lr)
    require_ok(second, "sgd_step", HINTS)
    expect_same_twice(first.args_after[0], second.args_after[0], f"{call} (the parameters after it)")


@pytest.mark.points(1)
def test_update(submission, rng):
    """updates every parameter to p − lr × p.grad, for tensors of several shapes and dtypes"""
    pairs = random_params(rng, int(rng.integers(2, 5)))
    lr = float(rng.uniform(0.01, 0.5))
    check_twice(submission, specs, pairs, lr, f"sgd_step(params, lr={lr:.4g})")


@pytest.mark.points(0.5)
def test_generator(submission, rng):
    """works with a one-shot generator of parameters, like model.parameters()"""
    pairs = random_params(rng, int(rng.integers(2, 4)))
    lr = float(rng.uniform(0.01, 0.5))
    unchanged = (
        "some parameters did not change. A generator can be looped over only once: a second loop over params "
        "sees only what the first one left. (And `p = p - lr * p.grad` leaves a parameter as it was.)"
    )
    call = f"sgd_step(a generator of parameters, lr={lr:.4g})"
    check_twice(submission, lambda p: spec_generator(specs(p)), pairs, lr, call, unchanged)


@pytest.mark.points(1)
def test_in_place_without_history(submission, rng):
    """updates the same tensors in place and records no autograd history (they stay leaves that require grad)"""
    pairs = random_params(rng, 2)
    lr = float(rng.uniform(0.01, 0.5))
    result = submission.call("sgd_step", specs(pairs), lr)
    check_after(result, pairs, lr, f"sgd_step(params, lr={lr:.4g})")
    for i, item in enumerate(result.args_after[0].items):
        history = item.has_grad_fn or not item.is_leaf
        expect(not history, f"parameter {i} now carries autograd history.", HINTS["leaf variable that requires grad"])
        hint = "leave requires_grad as it is: the parameters must still be trainable after the step."
        expect(item.requires_grad, f"parameter {i} no longer requires grad after sgd_step.", hint)


@pytest.mark.points(0.5)
def test_skips_none_grad(submission, rng):
    """updates the parameters that have a .grad, and skips those whose .grad is None, leaving them unchanged"""
    pairs = random_params(rng, 4, with_grad=[True, False, True, False])
    lr = float(rng.uniform(0.01, 0.5))
    result = submission.call("sgd_step", specs(pairs), lr)
    check_after(result, pairs, lr, f"sgd_step(params, lr={lr:.4g}) where parameters 1 and 3 have .grad None")


@pytest.mark.points(0.5)
def test_grad_untouched(submission, rng):
    """updates the parameters rightly and leaves .grad as it was: zeroing the gradients is the training loop's job"""
    pairs = random_params(rng, 3)
    lr = float(rng.uniform(0.01, 0.5))
    result = submission.call("sgd_step", specs(pairs), lr)
    check_after(result, pairs, lr, f"sgd_step(params, lr={lr:.4g})")
    hint = "sgd_step should only update the parameters, like optimizer.step(): the training loop zeroes .grad."
    for i, (item, (_, grad)) in enumerate(zip(result.args_after[0].items, pairs, strict=True)):
        expect(item.grad is not None, f"parameter {i}'s .grad is None after sgd_step.", hint)
        actual = expect_tensor(item.grad, f"parameter {i}'s .grad after sgd_step", shape=grad.shape)
        expect_close(actual, grad, 0, 0, f"parameter {i}'s .grad after sgd_step", hint)


@pytest.mark.points(0.5)
def test_learning_rates(submission, rng):
    """the step scales with lr: a small and a large learning rate"""
    pairs = random_params(rng, 2)
    for lr in (float(rng.uniform(0.001, 0.05)), float(rng.uniform(0.6, 3.0))):
        result = submission.call("sgd_step", specs(pairs), lr)
        check_after(result, pairs, lr, f"sgd_step(params, lr={lr:.4g})")
