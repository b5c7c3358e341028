"""Hidden tests of train, always with known-good mse and sgd_step standing in for the student's, so that
train is graded on its own: the losses it records, what it returns, and where the model ends up."""

import numpy as np
import pytest
import torch

from autograder.testkit import (
    Mistake,
    expect,
    expect_close,
    expect_items,
    expect_number,
    expect_same_twice,
    helper,
    load_helpers,
    require_ok,
)
from solutions import line_fit as ref

helpers = load_helpers(__file__)

pytestmark = pytest.mark.grades("train")

STAND_INS = ("mse", "sgd_step")
NOT_ZEROED = "the gradients seem to accumulate from step to step: zero them every step, before backward()."
AFTER_UPDATE = "the losses seem to be recorded after the update: record each step's loss before calling sgd_step."
STUCK = (
    "the parameters never change, so neither does the loss: zero the gradients before backward(), not between "
    "backward() and sgd_step (which then sees zero gradients)."
)
COPIED = "the losses go down, but the model passed in did not change: train that very model (no copy, no new model)."


def line_data(rng) -> tuple[np.ndarray, np.ndarray, float, float]:
    """x of shape (n, 1) in [-π, π], y = slope·x + intercept + N(0, 1) noise, float32; and a starting
    (weight, bias) well away from the line, so that every step changes the loss."""
    slope, intercept = rng.uniform(-2.0, 2.0, size=2)
    n = int(rng.integers(200, 1001))
    x = np.sort(rng.uniform(-np.pi, np.pi, size=n))
    y = slope * x + intercept + rng.normal(size=n)
    weight = slope + rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)
    bias = intercept + rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)
    return x.reshape(n, 1).astype(np.float32), y.astype(np.float32), float(weight), float(bias)


def reference_run(x, y, weight, bias, n_steps, lr) -> tuple[np.ndarray, np.ndarray]:
    """The reference train's losses and final (weight, bias), in float32 on this side."""
    model = helpers.line_model(weight, bias)
    losses = ref.train(model, torch.from_numpy(x), torch.from_numpy(y), n_steps, lr)
    return np.array(losses), np.array([model[0].weight.item(), model[0].bias.item()])


def mistaken_run(x, y, weight, bias, n_steps, lr, zero_grad=True, record_after=False) -> np.ndarray:
    """The losses of two classic mistakes, to recognise them in a student's losses."""
    model = helpers.line_model(weight, bias)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(n_steps):
        loss = torch.nn.functional.mse_loss(model(xt), yt)
        if zero_grad:
            model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
            losses.append(torch.nn.functional.mse_loss(model(xt), yt).item() if record_after else loss.item())
    return np.array(losses)


def call_train(submission, x, y, weight, bias, n_steps, lr):
    result = submission.call("train", helper("line_model", weight, bias), x, y, n_steps, lr, stand_ins=STAND_INS)
    return result, require_ok(result, "train")


def loss_numbers(value, n_steps: int) -> np.ndarray:
    """The returned losses as numbers (a list of 0-dim tensors is read too: its type is graded elsewhere)."""
    hint = "record exactly one loss in each of the n_steps steps."
    items = expect_items(value, f"the list of losses of train(..., n_steps={n_steps}, ...)", n_steps, ("list",), hint)
    return np.array([expect_number(item, f"loss {i}") for i, item in enumerate(items)])


def final_params(result) -> np.ndarray:
    """The model's (weight, bias) after the call. A parameter the student replaced or removed is their mistake;
    a model missing from the sandbox's report is the grader's (an internal error: no pass, the TA is told)."""
    model = result.args_after[0]
    if model.kind != "module":
        raise RuntimeError(f"the sandbox described the model as {model.describe()}")
    params = []
    for name in ("weight", "bias"):
        field = model.fields.get(f"0.{name}")
        hint = "update the parameters in place; don't replace them."
        replaced = "removed" if field is None else f"replaced by {field.describe()}"
        expect(field is not None and field.kind == "tensor", f"the model's {name} was {replaced}.", hint)
        params.append(expect_number(field, f"the model's {name}"))
    return np.array(params)


def unchanged_model_hint(value) -> str:
    """The model given to train did not change: was a copy trained, or nothing at all?"""
    losses = {item.value for item in value.items if item.kind == "float"} if value.kind == "list" else set()
    return COPIED if len(losses) > 1 else STUCK


def expect_right_losses(value, x, y, weight, bias, n_steps: int, lr: float) -> None:
    """The returned losses match a reference run (to 1e-4). Every test of what train returns or does to the
    model checks this first: a property earns points only together with right losses."""
    actual = loss_numbers(value, n_steps)
    expected, _ = reference_run(x, y, weight, bias, n_steps, lr)
    alternatives = [
        (mistaken_run(x, y, weight, bias, n_steps, lr, zero_grad=False), NOT_ZEROED),
        (mistaken_run(x, y, weight, bias, n_steps, lr, record_after=True), AFTER_UPDATE),
        (np.full(n_steps, expected[0]), STUCK),
    ]
    first_ok = np.isclose(actual[0], expected[0], rtol=1e-4)
    hint = (
        f"the first loss is right but later ones are not: check the update (lr = {lr:.4g}), and that the gradients "
        "are zeroed every step."
        if first_ok
        else "the first loss should be the loss of the model as given, before any update."
    )
    what = f"the losses of train(model, x, y, n_steps={n_steps}, lr={lr:.4g}) on {len(y)} random points"
    expect_close(actual, expected, 1e-4, 1e-6, what, hint, alternatives)


def check_losses(submission, rng, n_steps: int, lr: float, twice: bool = False) -> None:
    """Right losses on fresh random data; with `twice`, a second call on the same data, with a model as the
    first call was given it, returns exactly the same losses."""
    x, y, weight, bias = line_data(rng)
    _, value = call_train(submission, x, y, weight, bias, n_steps, lr)
    expect_right_losses(value, x, y, weight, bias, n_steps, lr)
    if twice:
        _, again = call_train(submission, x, y, weight, bias, n_steps, lr)
        what = f"train(model, x, y, n_steps={n_steps}, lr={lr:.4g}) on {len(y)} random points"
        expect_same_twice(value, again, what)


@pytest.mark.points(1)
def test_returns_list_of_floats(submission, rng):
    """returns the right losses as a list of exactly n_steps Python floats, one loss per step"""
    x, y, weight, bias = line_data(rng)
    n_steps = int(rng.integers(3, 20))
    _, value = call_train(submission, x, y, weight, bias, n_steps, 0.1)
    what = f"the value returned by train(..., n_steps={n_steps}, ...)"
    items = expect_items(value, what, n_steps, ("list",), "record exactly one loss in each of the n_steps steps.")
    expect_right_losses(value, x, y, weight, bias, n_steps, 0.1)
    for i, item in enumerate(items):
        hint = "record loss.item(): a Python float, not the loss tensor (which also keeps its autograd graph alive)."
        expect(item.kind == "float", f"loss {i} in the returned list should be a Python float, not {item.describe()}.",
               hint)  # fmt: skip


@pytest.mark.points(1.5)
def test_losses_match(submission, rng):
    """per-step losses match a reference run on random line data with a random lr"""
    check_losses(submission, rng, n_steps=30, lr=float(rng.uniform(0.02, 0.25)), twice=True)


@pytest.mark.points(1)
def test_first_loss_before_update(submission, rng):
    """the first loss is the loss of the model as given, before any update"""
    x, y, weight, bias = line_data(rng)
    _, value = call_train(submission, x, y, weight, bias, 5, 0.1)
    expect(value.kind == "list" and value.length > 0, f"train should return a list of losses, not {value.describe()}.")
    actual = expect_number(value.items[0], "the first loss returned by train")
    residual = weight * x[:, 0].astype(np.float64) + bias - y
    expected = float(np.mean(residual**2))
    after_first, _ = reference_run(x, y, weight, bias, 2, 0.1)
    what = f"the first loss of train(model, x, y, n_steps=5, lr=0.1) on {len(y)} random points"
    expect_close(actual, expected, 1e-4, 1e-6, what, alternatives=[(after_first[1], AFTER_UPDATE)])


def line_text(slope: float, intercept: float) -> str:
    """y = 1.5 x - 2 as "1.500 x − 2.000", not "1.500 x + -2.000"."""
    return f"{slope:.3f} x {'−' if intercept < 0 else '+'} {abs(intercept):.3f}"


def evidence_notes(params, losses) -> list[str]:
    """What the pictures cannot show, in the student's words."""
    notes = []
    if params is None:
        notes.append("Your train() gave no trained model, so only the target line is drawn.")
    elif not all(np.isfinite(params)):
        notes.append("Your trained parameters are not finite numbers (training diverged), so your line is not drawn.")
    if losses is None:
        notes.append("Your train() returned no losses, so only the reference's curve is drawn.")
    elif not all(np.isfinite(losses)):
        first = next(i for i, v in enumerate(losses) if not np.isfinite(v))
        notes.append(f"Your loss stopped being a finite number at step {first}: training diverged.")
    return notes


def keep_evidence(evidence: dict, x, y, target, weight, bias, n_steps, lr, result) -> None:
    """What the feedback page draws for train (plain data; the shape is documented in
    autograder/pages/evidence.py): the data, the least-squares line and the student's line after train, and
    their losses against the reference's."""
    shown = np.linspace(0, len(y) - 1, num=min(len(y), 300)).astype(int)
    params = losses = None
    if result.ok:
        try:
            params = [float(p) for p in final_params(result)]
        except (Mistake, RuntimeError, IndexError):
            pass  # drawn without the student's line
        value = result.value
        if value is not None and value.kind == "list" and value.items:
            if all(item.kind in ("float", "float_subclass") for item in value.items):
                losses = [float(item.value) for item in value.items]
    reference_losses, _ = reference_run(x, y, weight, bias, n_steps, lr)
    ends = [float(x.min()), float(x.max())]
    fit_layers = [
        {"type": "points", "x": [float(v) for v in x[shown, 0]], "y": [float(v) for v in y[shown]],
         "role": "data", "label": "data (a sample)"},
        {"type": "line", "x": ends, "y": [target[0] * e + target[1] for e in ends], "role": "reference",
         "label": f"target: {line_text(*target)}"},
    ]  # fmt: skip
    if params is not None and all(np.isfinite(params)):
        fit_layers.append({"type": "line", "x": ends, "y": [params[0] * e + params[1] for e in ends],
                           "role": "student", "label": f"yours: {line_text(*params)}"})  # fmt: skip
    loss_layers = [{"type": "line", "x": list(range(n_steps)), "y": [float(v) for v in reference_losses],
                    "role": "reference", "label": "reference"}]  # fmt: skip
    if losses is not None:
        loss_layers.append({"type": "line", "x": list(range(len(losses))), "y": losses, "role": "student",
                            "label": "yours"})  # fmt: skip
    evidence["train"] = {
        "figures": [
            {"title": "Your trained line against the data", "xlabel": "x", "ylabel": "y", "layers": fit_layers,
             "alt": "your fitted line and the target line",
             "caption": "Your model after train() (dashed) against the target line and a sample of the data."},
            {"title": "Training loss per step", "xlabel": "step", "ylabel": "loss (mse)", "log_y": True,
             "layers": loss_layers, "alt": "your loss curve and the reference loss curve",
             "caption": "Your losses (dashed) against the reference train() on the same data and settings."},
        ],
        "notes": evidence_notes(params, losses),
    }  # fmt: skip


@pytest.mark.points(1.5)
def test_converges_to_least_squares(submission, rng, evidence):
    """reaches the least-squares line within 1e-4 on two random data sets (lr 0.1, 300 steps), with the right losses"""
    for draw in range(2):
        x, y, weight, bias = line_data(rng)
        slope, intercept = np.polyfit(x[:, 0].astype(np.float64), y.astype(np.float64), deg=1)
        result = submission.call("train", helper("line_model", weight, bias), x, y, 300, 0.1, stand_ins=STAND_INS)
        if draw == 0:
            keep_evidence(evidence, x, y, (slope, intercept), weight, bias, 300, 0.1, result)
        value = require_ok(result, "train")
        actual = final_params(result)
        hint = None
        if np.allclose(actual, [np.float32(weight), np.float32(bias)]):
            hint = unchanged_model_hint(value)
        elif value.kind == "list" and value.length == 300:
            losses = np.array([item.value if item.kind == "float" else np.nan for item in value.items])
            if np.nanmax(losses[150:], initial=0.0) > 1.01 * np.nanmin(losses, initial=np.inf):
                hint = f"the losses go up again after going down: {NOT_ZEROED}"
        what = f"(weight, bias) after 300 steps at lr 0.1 on random line data set {draw + 1} ({len(y)} points)"
        expect_close(actual, [slope, intercept], 0, 1e-4, what, hint)
        # The line alone could be written in (the closed-form answer): it pays only with the losses of the run.
        expect_right_losses(value, x, y, weight, bias, 300, 0.1)


@pytest.mark.points(0.5)
def test_trains_model_in_place(submission, rng):
    """trains the model it was given: right losses, and that model's own parameters follow the reference run"""
    x, y, weight, bias = line_data(rng)
    n_steps = int(rng.integers(5, 15))
    result, value = call_train(submission, x, y, weight, bias, n_steps, 0.1)
    expect_right_losses(value, x, y, weight, bias, n_steps, 0.1)
    actual = final_params(result)
    _, expected = reference_run(x, y, weight, bias, n_steps, 0.1)
    unchanged = np.allclose(actual, [np.float32(weight), np.float32(bias)])
    hint = unchanged_model_hint(value) if unchanged else None
    what = f"(weight, bias) of the model after train(model, x, y, n_steps={n_steps}, lr=0.1)"
    expect_close(actual, expected, 1e-4, 1e-6, what, hint)


@pytest.mark.points(0.5)
def test_learning_rates(submission, rng):
    """uses the lr it is given: runs with a small and a large lr follow the reference"""
    for lr in (float(rng.uniform(0.005, 0.02)), float(rng.uniform(0.2, 0.28))):
        check_losses(submission, rng, n_steps=8, lr=lr)
