"""Hidden tests of evaluate, always with known-good cross_entropy and accuracy standing in for the student's:
exact values (called twice: the same answer), floats returned, the model's mode restored from both train and
eval mode, and the contract of how it computes, half a point each: every forward in eval mode; no parameter's
.grad changed and every forward under torch.no_grad(), as a model that records its mode at each forward
(helpers.recording_mlp) tells."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    expect,
    expect_close,
    expect_items,
    expect_number,
    expect_same_twice,
    helper,
    load_helpers,
    require_ok,
)
from course_utils.spirals import make_spirals
from solutions import mlp_spirals as ref

helpers = load_helpers(__file__)
pytestmark = pytest.mark.grades("evaluate")

STAND_INS = ("cross_entropy", "accuracy")
NO_GRAD = "compute under torch.no_grad() (or inference_mode) in eval mode, and call no backward() here."


def setting(rng, dropout: bool = False):
    data = make_spirals(seed=int(rng.integers(2**31)), n_per_class=int(rng.integers(10, 60)))
    return int(rng.integers(2**31)), (2, [int(rng.integers(4, 33))], 3), data.x, data.y


def expected(seed, config, x, y) -> tuple[float, float]:
    model = helpers.mlp(seed, *config)
    return ref.evaluate(model, torch.from_numpy(x), torch.from_numpy(y))


def evaluated(submission, seed, config, x, y, training=True, grad_seed=None, recording=False):
    """The student's evaluate on a model made from the seed, checked against the reference's values; with
    `recording`, a model with the same weights that records each forward's grad mode and training flag."""
    model = helper("recording_mlp" if recording else "mlp", seed, *config, training)
    if grad_seed is not None:
        model = helper("with_grads", model, grad_seed)
    result = submission.call("evaluate", model, x, y, stand_ins=STAND_INS)
    what = f"evaluate(model, x, y) on {len(x)} spiral points"
    hint = "return (loss, accuracy): two Python floats in a tuple."
    items = expect_items(require_ok(result, "evaluate"), f"the value of {what}", 2, ("tuple", "list"), hint)
    loss, accuracy = expected(seed, config, x, y)
    for item, value, name in zip(items, (loss, accuracy), ("the loss", "the accuracy"), strict=True):
        expect(
            item.kind in ("float", "int", "float_subclass")
            or (item.kind == "tensor" and item.array is not None and item.array.size == 1),
            f"{name} from {what} should be a number, not {item.describe()}.",
            hint,
        )
        actual = expect_number(item, f"{name} from {what}", hint)
        expect_close(actual, value, 1e-5, 1e-7, f"{name} from {what}", NO_GRAD)
    return result


@pytest.mark.points(0.5)
def test_values(submission, rng):
    """the mean cross-entropy and the accuracy of the model on (x, y), the same when called twice"""
    seed, config, x, y = setting(rng)
    first, second = (evaluated(submission, seed, config, x, y) for _ in range(2))
    expect_same_twice(first.value, second.value, f"evaluate(model, x, y) on {len(x)} spiral points")


@pytest.mark.points(0.25)
def test_returns_python_floats(submission, rng):
    """with right values: a tuple of two Python floats, not tensors"""
    seed, config, x, y = setting(rng)
    result = evaluated(submission, seed, config, x, y)
    hint = "turn each one-element tensor into a Python number with .item()."
    for item, name in zip(result.value.items, ("the loss", "the accuracy"), strict=True):
        expect(item.kind == "float", f"{name} from evaluate should be a Python float, not {item.describe()}.", hint)


@pytest.mark.points(0.25)
def test_mode_restored(submission, rng):
    """with right values: a model in train mode stays in train mode, one in eval mode stays in eval mode"""
    seed, config, x, y = setting(rng)
    for training in (True, False):
        result = evaluated(submission, seed, config, x, y, training=training)
        after = result.args_after[0]
        mode = "train" if training else "eval"
        expect(
            after.kind == "module" and after.training is training,
            f"evaluate left a model that was in {mode} mode in {'eval' if training else 'train'} mode.",
            "keep model.training before model.eval(), and put that mode back afterwards with model.train(mode).",
        )


def recorded_forwards(result):
    """The recording model's record of each forward: (grad enabled, training) per row."""
    modes = result.args_after[0].buffers.get("forward_modes")
    if modes is None or modes.array is None or modes.array.ndim != 2 or modes.array.shape[1] != 2:
        raise RuntimeError("the recording model came back without its record of forwards")  # the grader's fault
    expect(len(modes.array) > 0, "evaluate never called the model: compute the logits with model(x).")
    return modes.array


@pytest.mark.points(0.5)
def test_computes_in_eval_mode(submission, rng):
    """with right values: every forward runs in eval mode"""
    seed, config, x, y = setting(rng)
    modes = recorded_forwards(evaluated(submission, seed, config, x, y, recording=True))
    expect(
        not modes[:, 1].any(),
        "evaluate called the model while it was in training mode.",
        "call model.eval() before the forward (dropout and batch norm behave differently in training), then put "
        "the mode back.",
    )


@pytest.mark.points(0.5)
def test_computes_without_autograd(submission, rng):
    """with right values: no parameter's .grad changes, and every forward runs under torch.no_grad()"""
    seed, config, x, y = setting(rng)
    grad_seed = int(rng.integers(2**31))
    result = evaluated(submission, seed, config, x, y, grad_seed=grad_seed, recording=True)
    before = helpers.with_grads(helpers.mlp(seed, *config), grad_seed)
    after = result.args_after[0]
    for name, parameter in before.named_parameters():
        field = after.fields.get(name)
        grad = None if field is None else field.grad
        expect(
            grad is not None and grad.array is not None and np.array_equal(grad.array, parameter.grad.double().numpy()),
            f"evaluate changed the .grad of the model's {name}.",
            NO_GRAD,
        )
    expect(
        not recorded_forwards(result)[:, 0].any(),
        "evaluate called the model while autograd was recording.",
        "wrap the forward in `with torch.no_grad():` (or torch.inference_mode()): evaluating needs no graph.",
    )
