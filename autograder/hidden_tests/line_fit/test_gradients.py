"""Hidden tests of gradients: the lesson's function and random polynomials (so that no answer can be written
down in advance), a float64 check, and hands off the inputs."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect,
    expect_close,
    expect_items,
    expect_same_twice,
    expect_tensor,
    expect_unchanged,
    helper,
    load_helpers,
    require_ok,
    shape_text,
    spec_tensor,
)
from solutions import line_fit as ref

helpers = load_helpers(__file__)

pytestmark = pytest.mark.grades("gradients")

LESSON = [(3.0, [3, 0]), (-1.0, [0, 2])]  # y = 3a³ − b²
HARD_CODED = "the answer looks like 9a² and −2b whatever f is: compute the gradient of f itself, with autograd."
NONE_GRAD = (
    "autograd puts a gradient in the .grad of the tensors it differentiates with respect to (your copies "
    "that require grad), not in the original inputs."
)
HINTS = {
    "does not require grad": "the inputs may not require grad: differentiate with respect to copies that do, "
    "e.g. x.detach().requires_grad_().",
    "leaf variable": "work on detached copies of the inputs instead of changing the inputs themselves.",
}


def spec_polynomial(terms) -> dict:
    """The polynomial, built in the sandbox by the helpers module."""
    return helper("polynomial", [[float(c), [int(p) for p in powers]] for c, powers in terms])


def random_terms(rng, n_inputs: int) -> list[tuple[float, list[int]]]:
    """2 to 4 terms, each a product of powers (0 to 3) of the inputs; every input takes part."""
    while True:
        terms = []
        for _ in range(int(rng.integers(2, 5))):
            powers = [int(p) for p in rng.integers(0, 4, size=n_inputs)]
            if any(powers):
                terms.append((round(float(rng.uniform(-3, 3)), 2), powers))
        if all(any(powers[i] for _, powers in terms) for i in range(n_inputs)):
            return terms


def random_inputs(rng, n_inputs: int, dtype) -> list[np.ndarray]:
    """Inputs of different shapes that broadcast together: (m, 1), (k,) and (m, k)."""
    m, k = (int(n) for n in rng.integers(2, 6, size=2))
    shapes = [(m, 1), (k,), (m, k)][:n_inputs]
    order = rng.permutation(n_inputs)
    return [rng.uniform(-1.5, 1.5, size=shapes[i]).astype(dtype) for i in order]


def formula(terms) -> str:
    """The polynomial as a student reads it: 3·x0³ − 1·x1²."""
    powers_text = {1: "", 2: "²", 3: "³"}
    text = ""
    for coef, powers in terms:
        factors = "·".join(f"x{i}{powers_text[p]}" for i, p in enumerate(powers) if p)
        sign = ("−" if coef < 0 else "") if not text else (" − " if coef < 0 else " + ")
        text += f"{sign}{abs(coef):g}·{factors}"
    return text


def lesson_answer(inputs) -> list[np.ndarray]:
    """What a gradients() that hard-codes the lesson's answer returns."""
    return [9 * inputs[0].astype(np.float64) ** 2, -2 * inputs[1].astype(np.float64)]


def expected_gradients(terms, inputs) -> list[np.ndarray]:
    tensors = [torch.from_numpy(np.asarray(t, dtype=np.float64)) for t in inputs]
    return [g.numpy() for g in ref.gradients(helpers.polynomial(terms), *tensors)]


def describe_call(terms, inputs) -> str:
    names = ", ".join(f"x{i}" for i in range(len(inputs)))
    shapes = ", ".join(f"x{i} of shape {shape_text(x.shape)}" for i, x in enumerate(inputs))
    return f"gradients(f, {names}) for f = sum({formula(terms)}), {shapes}, {inputs[0].dtype}"


def expect_right_gradients(value, terms, inputs, rtol: float, atol: float, what: str, alternatives=()) -> None:
    """One gradient per input, of its shape and dtype, matching the reference. Every test checks this first:
    a property earns points only together with right gradients."""
    hint = "return one gradient per input, e.g. as a tuple."
    items = expect_items(value, f"the value returned by {what}", len(inputs), ("tuple", "list"), hint)
    for i, (item, x, expected) in enumerate(zip(items, inputs, expected_gradients(terms, inputs), strict=True)):
        name = f"the gradient with respect to x{i}, from {what}"
        expect(item.kind != "none", f"{name} is None.", NONE_GRAD)
        actual = expect_tensor(item, name, shape=x.shape, dtype=str(x.dtype), hint="one per input, of its shape.")
        typical = [(alt[i], text) for alt, text in alternatives if i < len(alt)]
        expect_close(actual, expected, rtol, atol, name, alternatives=typical)


def check_gradients(submission, terms, inputs, rtol: float, atol: float, alternatives=()) -> None:
    """Right gradients, and a second call with the same f and inputs gives exactly the same answer."""
    what = describe_call(terms, inputs)
    first = require_ok(submission.call("gradients", spec_polynomial(terms), *inputs), "gradients", HINTS)
    expect_right_gradients(first, terms, inputs, rtol, atol, what, alternatives)
    second = require_ok(submission.call("gradients", spec_polynomial(terms), *inputs), "gradients", HINTS)
    expect_same_twice(first, second, what)


@pytest.mark.points(1)
def test_lesson_function(submission, rng):
    """y = 3a³ − b² at random a, b of random shapes: the gradients are 9a² and −2b"""
    for ndim in (1, 2):
        shape = tuple(int(n) for n in rng.integers(1, 6, size=ndim))
        a, b = (rng.uniform(-2, 2, size=shape).astype(np.float32) for _ in range(2))
        check_gradients(submission, LESSON, [a, b], 1e-5, 1e-6)


@pytest.mark.points(1)
def test_random_polynomials(submission, rng):
    """other random polynomials of 2 and 3 inputs of different shapes"""
    for n_inputs in (2, 3):
        terms = random_terms(rng, n_inputs)
        inputs = random_inputs(rng, n_inputs, np.float32)
        check_gradients(submission, terms, inputs, 1e-4, 1e-4, [(lesson_answer(inputs), HARD_CODED)])


@pytest.mark.points(0.5)
def test_float64_gradient_check(submission, rng):
    """float64 inputs: gradients exact to 1e-10"""
    terms = random_terms(rng, 2)
    inputs = random_inputs(rng, 2, np.float64)
    check_gradients(submission, terms, inputs, 1e-10, 1e-12, [(lesson_answer(inputs), HARD_CODED)])


@pytest.mark.points(0.5)
def test_inputs_untouched_and_no_history(submission, rng):
    """leaves the inputs as they were (values, requires_grad, .grad), returns right gradients, no autograd history"""
    for requires_grad in (False, True):
        inputs = [rng.uniform(-2, 2, size=3).astype(np.float32) for _ in range(2)]
        specs = [spec_tensor(x, requires_grad=requires_grad) for x in inputs]
        result = submission.call("gradients", spec_polynomial(LESSON), *specs)
        value = require_ok(result, "gradients", HINTS)
        expect_right_gradients(value, LESSON, inputs, 1e-5, 1e-6, describe_call(LESSON, inputs))
        state = "requiring grad" if requires_grad else "not requiring grad"
        for i, (x, after) in enumerate(zip(inputs, result.args_after[1:], strict=True)):
            name = f"input {i} ({state})"
            hint = "differentiate with respect to detached copies of the inputs, e.g. x.detach().requires_grad_()."
            expect_unchanged(after, x.astype(np.float64), name, hint)
            changed = after.requires_grad != requires_grad
            expect(not changed, f"{name}: requires_grad is {after.requires_grad} after the call.", hint)
            leftover = "backward() on the inputs leaves .grad on them: use torch.autograd.grad, or detached copies."
            expect(after.grad is None, f"{name}: .grad is no longer None after the call.", leftover)
        for i, item in enumerate(value.items):
            hint = "return detached gradients (no create_graph=True, no arithmetic on tensors that require grad)."
            expect(not item.has_grad_fn, f"gradient {i} carries autograd history (a grad_fn).", hint)
